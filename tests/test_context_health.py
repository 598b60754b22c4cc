"""Context health: the fill read from recorded real Claude Code transcripts, the rate limit, the
thresholds, the health it raises and the relaunch decision (without tmux or a CLI; the relaunch
end to end is in test_context_health_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmtui.config import config_from_dict
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.adapters.claude_context import ContextTracker
from swarmtui.engine.attempts.outcomes import Outcomes
from swarmtui.engine.attempts.retry import Action, RetryLimits, decide
from swarmtui.engine.health.classify import Verdict
from swarmtui.engine.health.vitals import (
    ContextLimits,
    context_level,
    overlay,
    worth_recording,
)
from swarmtui.engine.health.window import ContextWatch
from swarmtui.engine.intents import ContextSignal, EndAttempt, FailAttempt, IsEnding
from swarmtui.errors import SwarmError
from swarmtui.model import CAUSE_POLICY, Cause, Health, RunState, TaskSpec, TaskView, project
from swarmtui.model import payloads as p
from swarmtui.model.readings import health_text
from tests.standins import FakeClock, make_ports

DATA = Path(__file__).parent / "data" / "claude"
LIMITS = ContextLimits(warn=0.6, act=0.8)


def signals_of(name: str) -> list[dict[str, Any]]:
    a = ClaudeAdapter()
    out: list[dict[str, Any]] = []
    for line in (DATA / name).read_text().splitlines():
        out += [s for s in a.observe(line) if s["kind"] == "context"]
    return out


def result_line(name: str) -> dict[str, Any]:
    lines = [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.startswith("{")]
    return next(o for o in reversed(lines) if o.get("type") == "result")


def main_model(name: str) -> str:
    lines = [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.startswith("{")]
    return str(next(o for o in lines if o.get("subtype") == "init")["model"])


# -- from recorded transcripts ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["context_growth.jsonl", "success.jsonl", "subagent.jsonl",
                                  "subagent_forward_text.jsonl"])
def test_turn_readings_add_up_to_what_claude_code_billed_the_main_model(name: str) -> None:
    """Each turn's reading is the context its request carried: over the session they add up to
    the main model's input, cache read and cache creation tokens in the CLI's own modelUsage
    (a subagent's turns, on their own context, are not counted)."""
    sig = signals_of(name)
    per_turn = {s["turn"]: s["tokens"] for s in sig}
    usage = result_line(name)["modelUsage"][main_model(name)]
    assert sum(per_turn.values()) == (usage["inputTokens"] + usage["cacheReadInputTokens"]
                                      + usage["cacheCreationInputTokens"])
    assert sig[-1]["window"] == usage["contextWindow"]  # known once the result line says it
    assert all(s["model"] == main_model(name) for s in sig)


def test_a_growing_session_is_read_turn_by_turn_and_parallel_tools_make_one_boundary() -> None:
    sig = signals_of("context_growth.jsonl")
    # Five answers; the second called two tools at once and is reported once, after both.
    assert [s["turn"] for s in sig] == [1, 2, 3, 4, 5]
    assert [s["tokens"] for s in sig] == [102_000, 353_000, 621_000, 840_500, 840_400]
    assert [s["window"] for s in sig] == [None] * 4 + [1_000_000]


def test_a_background_subagent_on_the_same_model_is_not_the_main_context() -> None:
    """Its lines carry parent_tool_use_id; the main conversation's newest turn is reported
    (the answer that only started it called no tool, and is counted as a turn)."""
    sig = signals_of("subagent_background.jsonl")
    assert sig[-1]["turn"] == 3
    sub = [json.loads(x) for x in (DATA / "subagent_background.jsonl").read_text().splitlines()
           if '"parent_tool_use_id":"toolu' in x.replace(" ", "")]
    assert sub  # the transcript does have subagent turns
    t = ContextTracker()
    assert [s for o in sub for s in t.observe(o)] == []


def test_a_turn_is_reported_only_once_all_its_tool_results_are_in() -> None:
    lines = [json.loads(x) for x in (DATA / "context_growth.jsonl").read_text().splitlines()]
    tracker = ContextTracker()
    made = []
    for o in lines:
        out = tracker.observe(o)
        made.append((o.get("type"), len(out)))
    users = [n for kind, n in made if kind == "user"]
    # One user line per tool result; the first of the parallel pair is not a boundary.
    assert users == [1, 0, 1, 1, 1]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.jsonl")))
def test_every_recorded_transcript_reads_without_surprises(name: str) -> None:
    for s in signals_of(name):
        assert 0 <= s["tokens"] <= 100_000_000 and s["turn"] >= 1
        assert s["window"] is None or s["window"] > 0


@pytest.mark.parametrize("usage", [
    {"input_tokens": -5, "cache_read_input_tokens": "lots"}, {"input_tokens": True},
    {"input_tokens": 1e300}, "not a dict", None, {"input_tokens": float("nan")}])
def test_hostile_usage_is_bounded_and_never_raises(usage: Any) -> None:
    t = ContextTracker()
    t.observe({"type": "assistant", "message": {"id": "m", "usage": usage, "model": "x" * 999,
                                                "content": [{"type": "tool_use", "id": "a"}]}})
    out = t.observe({"type": "user", "message": {"content": [{"type": "tool_result",
                                                              "tool_use_id": "a"}]}})
    for s in out:
        assert 0 <= s["tokens"] <= 100_000_000 and len(s["model"]) <= 100


# -- thresholds, rate limit, health -----------------------------------------------------------


@pytest.mark.parametrize(("fraction", "level"), [
    (0.0, "ok"), (0.5999, "ok"), (0.6, "warn"), (0.7999, "warn"), (0.8, "act"), (1.2, "act")])
def test_levels_start_at_their_thresholds(fraction: float, level: str) -> None:
    assert context_level(fraction, LIMITS) == level


def view(pct: float | None = None, tokens: int | None = None, window: int | None = 200_000,
         health: Health = Health.OK) -> TaskView:
    t = TaskView(spec=TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    t.context_pct, t.context_tokens, t.context_window, t.health = pct, tokens, window, health
    return t


def test_a_reading_is_recorded_on_a_move_of_a_few_points_or_a_new_level() -> None:
    assert worth_recording(view(), 1000, 200_000, 0.5, "ok", LIMITS)  # the first one
    t = view(pct=30.0, tokens=60_000)
    assert not worth_recording(t, 61_000, 200_000, 30.5, "ok", LIMITS)
    assert worth_recording(t, 64_000, 200_000, 32.0, "ok", LIMITS)
    assert worth_recording(t, 60_000, 1_000_000, 6.0, "ok", LIMITS)  # a window learnt
    t = view(pct=59.5, tokens=119_000)
    assert worth_recording(t, 120_000, 200_000, 60.0, "warn", LIMITS)  # the level changed
    assert worth_recording(view(pct=70.0, tokens=140_000), 50_000, 200_000, 25.0, "ok", LIMITS)


def test_the_health_says_context_with_the_numbers_as_evidence() -> None:
    ok = Verdict(Health.OK, {})
    v = overlay(ok, view(pct=83.2, tokens=166_400), LIMITS)
    assert v.health == Health.CONTEXT
    assert v.evidence["note"] == "context 83% (166,400 of 200,000 tokens)"
    assert v.evidence["context_pct"] == 83.2 and v.evidence["window"] == 200_000
    p.HealthEvidence(**v.evidence)  # what the watchdog records
    assert overlay(ok, view(pct=59.9, tokens=1), LIMITS) is ok
    assert overlay(ok, view(), LIMITS) is ok
    t = view(pct=83.2, tokens=166_400, health=Health.CONTEXT)
    assert health_text(t) == "context 83%"


@pytest.mark.parametrize("silent", [Health.QUIET, Health.STUCK])
def test_silence_comes_before_context(silent: Health) -> None:
    v = Verdict(silent, {"silent_s": 1.0})
    assert overlay(v, view(pct=95.0, tokens=190_000), LIMITS) is v


def test_context_comes_before_unproductive() -> None:
    v = overlay(Verdict(Health.UNPRODUCTIVE, {}), view(pct=65.0, tokens=130_000), LIMITS)
    assert v.health == Health.CONTEXT


def test_config_keeps_act_at_or_above_warn() -> None:
    with pytest.raises(SwarmError, match="context_act"):
        config_from_dict({"heartbeat": {"context_warn": 0.8, "context_act": 0.7}}, "t")
    with pytest.raises(SwarmError, match="context_action"):
        config_from_dict({"heartbeat": {"context_action": "restart"}}, "t")


def test_a_full_context_is_retried_at_once_and_never_counted() -> None:
    policy = CAUSE_POLICY[Cause.CONTEXT_FULL]
    assert not policy.counts_attempt and not policy.counts_breaker and not policy.backoff
    limits = RetryLimits(max_attempts=3, backoff=30.0, backoff_max=600.0)
    d = decide(Cause.CONTEXT_FULL, failures=2, limits=limits, reason="context", now=0.0)
    assert d.action == Action.REQUEUE and d.delay == 0.0


# -- the part on a real loop and store --------------------------------------------------------


class _Liveness:
    """Stands in for the liveness part: records what it was asked to end."""

    def __init__(self) -> None:
        self.ending: dict[str, object] = {}
        self.ended: list[tuple[str, int]] = []

    def end(self, it: EndAttempt) -> None:
        self.ending[f"{it.task}-{it.attempt}"] = object()
        self.ended.append((it.task, it.attempt))

    def is_ending(self, it: IsEnding) -> bool:
        return f"{it.task}-{it.attempt}" in self.ending


class World:
    """Ports around a real loop and store with one running claude task, a stand-in for the
    liveness part, and the real outcomes part (failures go through the real retry path)."""

    def __init__(self, tmp: Path, **heartbeat: Any) -> None:
        self.config = config_from_dict({"heartbeat": heartbeat,
                                        "context": {"window": 200_000}}, "t")
        self.ports, self.loop = make_ports(tmp, self.config, clock=FakeClock(1000.0))
        self.store = self.ports.store
        self.liveness = _Liveness()
        self.loop.owns(EndAttempt, self.liveness.end)
        self.loop.owns(IsEnding, self.liveness.is_ending)
        self.loop.owns(FailAttempt, Outcomes(self.ports).fail_attempt)
        self.loop.emit(p.RunStarted(run=1, repo=str(tmp), base="b", target="main"))
        spec = TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude")
        self.loop.emit(p.TaskAdded(spec=spec), "t")
        self.start(1)
        self.watch = ContextWatch(self.ports, self.loop.ask)
        self.loop.listeners.append(self.watch.heard)
        self.loop.every_tick(self.watch.step)

    def start(self, n: int) -> None:
        self.loop.emit(p.AttemptSpawned(window=f"t-{n}", worktree="/w", branch=f"b{n}",
                                        agent="claude"), "t", n)
        self.loop.emit(p.AttemptStarted(start_commit="c"), "t", n)

    @property
    def state(self) -> RunState:
        return self.loop.state

    def emit(self, payload: p.Payload, task: str | None = None,
             attempt: int | None = None) -> Any:
        return self.loop.emit(payload, task, attempt)

    def task(self, tid: str) -> TaskView:
        return self.state.tasks[tid]

    def turn(self, tokens: int, *, window: int | None = None, model: str = "m",
             attempt: int = 1) -> None:
        self.watch.signal(ContextSignal("t", attempt, {"kind": "context", "tokens": tokens,
                                                       "model": model, "window": window,
                                                       "turn": 1}, 10))
        self.loop.tick()

    def kinds(self, kind: str) -> list[Any]:
        return [e for e in self.store.events(0) if e.kind == kind]


def test_readings_are_rate_limited_events_folded_into_the_task(tmp_path: Path) -> None:
    w = World(tmp_path)
    for tokens in (20_000, 21_000, 22_000, 26_000, 130_000, 131_000):
        w.turn(tokens)
    fills = w.kinds("context_fill")
    assert [e.data["tokens"] for e in fills] == [20_000, 26_000, 130_000]
    assert [e.data["level"] for e in fills] == ["ok", "ok", "warn"]
    assert {e.data["window_from"] for e in fills} == {"config"}
    t = w.task("t")
    assert (t.context_pct, t.context_tokens, t.context_window) == (65.0, 130_000, 200_000)
    assert not w.liveness.ended  # context_action = "none": an alert, nothing more
    w.turn(190_000)
    assert not w.liveness.ended and not w.kinds("context_relaunch")
    assert project(w.store.events(0)) == w.state


def test_the_window_is_the_agents_then_the_runs_then_the_configs(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.turn(100_000)
    assert w.kinds("context_fill")[-1].data["window"] == 200_000
    w.turn(100_000, window=1_000_000)
    last = w.kinds("context_fill")[-1].data
    assert (last["window"], last["window_from"], last["pct"]) == (1_000_000, "agent", 10.0)
    w.emit(p.AgentExited(how="exited", models={"m": p.ModelUsage(context_window=500_000)}),
           "t", 1)
    assert w.watch.window_for("m", None) == (500_000, "run")
    assert w.watch.window_for("other", None) == (200_000, "config")


def test_relaunch_at_act_is_bounded_and_skips_an_agent_that_reported(tmp_path: Path) -> None:
    w = World(tmp_path, context_action="relaunch", context_relaunches=1)
    w.turn(100_000)
    assert not w.liveness.ended
    w.turn(170_000)  # 85%
    assert w.liveness.ended == [("t", 1)]
    rel = w.kinds("context_relaunch")
    assert [(e.data["n"], e.data["limit"], e.data["pct"]) for e in rel] == [(1, 1, 85.0)]
    failed = w.kinds("attempt_failed")[-1].data
    assert failed["cause"] == "context_full" and failed["health"] == "context"
    assert w.kinds("task_requeued")[-1].data["delay_s"] == 0.0
    t = w.task("t")
    assert t.failures == 0 and t.context_relaunches == 1
    # The next attempt starts with a fresh reading; its relaunch budget is spent.
    w.emit(p.AgentExited(how="terminated"), "t", 1)
    w.start(2)
    assert w.task("t").context_pct is None
    w.turn(190_000, attempt=2)
    assert w.liveness.ended == [("t", 1)] and len(w.kinds("context_relaunch")) == 1
    assert w.task("t").context_pct == 95.0


def test_no_relaunch_once_the_agent_wrote_its_results(tmp_path: Path) -> None:
    w = World(tmp_path, context_action="relaunch")
    w.emit(p.Results(status="done", summary="ok"), "t", 1)
    w.turn(190_000)
    assert not w.liveness.ended and not w.kinds("context_relaunch")


@pytest.mark.parametrize("obj", [
    {"tokens": "many"}, {"tokens": -1}, {"tokens": float("inf"), "window": float("nan")},
    {"tokens": 10, "window": True, "model": "\x1b]0;evil\x07" * 50}, {}])
def test_hostile_signals_are_dropped_or_bounded(tmp_path: Path, obj: dict[str, Any]) -> None:
    w = World(tmp_path)
    w.watch.signal(ContextSignal("t", 1, {"kind": "context", **obj}, 5))
    for e in w.kinds("context_fill"):
        assert e.data["tokens"] <= 100_000_000 and len(e.data["model"]) <= 100
        assert "\x1b" not in e.data["model"]
