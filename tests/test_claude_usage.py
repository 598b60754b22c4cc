"""Tokens and cost of every turn, the price table, and denials listed only on the result line,
on transcripts recorded from the real Claude Code CLI (tests/data/claude, tests/claude_record.py)
and through the model's own fold."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmtui.config import ModelPrice
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.adapters.prices import (
    BUILTIN,
    base_name,
    cost_of,
    price_for,
    priced_exit,
    priced_turn,
)
from swarmtui.engine.attempts.liveness import exit_payload
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import Event, ExitHow, RunState, apply
from swarmtui.model import payloads as p
from swarmtui.model.spec import TaskSpec

DATA = Path(__file__).parent / "data" / "claude"
FIELDS = {"input": "input_tokens", "output": "output_tokens",
          "cache_read": "cache_read_input_tokens", "cache_write": "cache_creation_input_tokens"}


def lines(name: str) -> list[str]:
    return (DATA / f"{name}.jsonl").read_text().splitlines()


def replay(raw: list[str]) -> tuple[ClaudeAdapter, list[dict[str, Any]]]:
    a = ClaudeAdapter()
    out: list[dict[str, Any]] = []
    for line in raw:
        out += a.observe(line)
    return a, out


def of_type(raw: list[str], kind: str) -> list[dict[str, Any]]:
    objs = [json.loads(x) for x in raw]
    return [o for o in objs if isinstance(o, dict) and o.get("type") == kind]


def meta(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"{name}.meta.json").read_text()))


# -- every turn ----------------------------------------------------------------------------------

def test_an_attempt_killed_mid_turn_has_the_tokens_the_server_billed() -> None:
    a, signals = replay(lines("killed_mid_turn"))
    assert a.result is None  # SIGTERMed while its third call was held: no result line
    got = a.usage()
    billed = meta("killed_mid_turn")["stub_billed"]
    assert got["usage_from_turns"] is True
    assert {m: {k: u[k] for k in FIELDS} for m, u in got["models"].items()} == {
        m: {k: b[v] for k, v in FIELDS.items()} for m, b in billed.items()}
    assert got["tokens"] == sum(sum(b.values()) for b in billed.values())
    # One increment per sight of each answer: its start, then the output its end adds.
    usage = [s for s in signals if s["kind"] == "usage"]
    assert len({s["message"] for s in usage}) == 2
    assert sum(s["output"] for s in usage) == sum(b["output_tokens"] for b in billed.values())


def test_each_answer_counts_once_however_many_blocks_it_prints() -> None:
    raw = lines("success")
    blocks = of_type(raw, "assistant")
    answers = {o["message"]["id"] for o in blocks}
    assert len(blocks) > len(answers)  # the transcript repeats ids: the case being tested
    a, signals = replay([x for x in raw if json.loads(x).get("type") != "result"])
    assert len([s for s in signals if s["kind"] == "usage"]) == len(answers)
    billed = meta("success")["stub_billed"]
    (model, u), = a.turns.models.items()
    # Without partial messages only the output is short (the stream's placeholder): the input
    # and cache figures are each request's, counted once.
    for k in ("input", "cache_read", "cache_write"):
        assert u[k] == billed[model][FIELDS[k]], k


def test_the_result_lines_figures_win_over_the_turns() -> None:
    a, _ = replay(lines("success"))
    got = a.usage()
    assert "usage_from_turns" not in got
    result = of_type(lines("success"), "result")[0]
    assert got["cost_usd"] == pytest.approx(result["total_cost_usd"])


def test_a_nan_cost_from_the_cli_is_not_passed_on() -> None:
    """A ``NaN`` costUSD (json.loads reads it) is not a cost: the table prices those tokens."""
    raw = [re.sub(r'("costUSD"|"total_cost_usd"):[0-9.]+', r"\1:NaN", x)
           for x in lines("success")]
    assert sum(x.count(":NaN") for x in raw) == 3
    a, _ = replay(raw)
    got = a.usage()
    assert not any(isinstance(v, float) and math.isnan(v) for v in json.loads(
        json.dumps(got)).values())
    pl = priced_exit(exit_payload(ExitRecord(how="exited", code=0, signal=None, data=got)), {})
    assert pl.cost_usd == pytest.approx(0.03096) and pl.cost_estimated
    forged = exit_payload(ExitRecord(how="exited", code=0, signal=None, data={
        "cost_usd": float("nan"), "tokens": 10}))
    assert priced_exit(forged, {}).cost_usd is None


# -- the price table -------------------------------------------------------------------------------

def _reported() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            for obj in of_type([line], "result") if line.strip() else []:
                for model, u in (obj.get("modelUsage") or {}).items():
                    if u.get("costUSD"):
                        out.append((path.stem, model, u))
    return out


@pytest.mark.parametrize(("name", "model", "u"), _reported(),
                         ids=[f"{n}-{m}" for n, m, _ in _reported()])
def test_the_price_table_gives_the_clis_own_cost(name: str, model: str, u: dict[str, Any]) -> None:
    price = price_for(model, {})
    assert price is not None, f"{model} ({name}) is not in the table"
    usage = p.ModelUsage(input=u["inputTokens"], output=u["outputTokens"],
                         cache_read=u["cacheReadInputTokens"],
                         cache_write=u["cacheCreationInputTokens"])
    assert cost_of(usage, price) == pytest.approx(u["costUSD"], rel=1e-9)


def test_prices_dated_snapshots_and_overrides() -> None:
    assert base_name("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5"
    assert base_name("claude-opus-5-5[1m]") == "claude-opus-5-5"
    assert price_for("claude-sonnet-4-5-20250929", {}) == BUILTIN["claude-sonnet-4-5"]
    assert price_for("claude-opus-9", {}) is None  # a new model is not guessed
    mine = ModelPrice(input=1.0, output=2.0)
    assert price_for("claude-opus-5-5", {"claude-opus-5-5": mine}) is mine
    turn = p.TurnUsage(model="claude-opus-9", input=10, cost_usd=5.0)
    assert priced_turn(turn, {}).cost_usd == 0.0  # what a line claims is never a cost


# -- denials -----------------------------------------------------------------------------------

def test_a_denial_with_its_system_line_is_one_signal_with_the_rule_to_grant() -> None:
    a, signals = replay(lines("permission_denied_allow_list"))
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    assert [s["rule"] for s in denied] == ["Bash(git tag:*)"]
    assert (a.outcome() or {})["denials"] == ["Bash(git tag:*)"]


def test_a_denial_only_the_result_line_lists_is_read_there() -> None:
    """Claude Code 2.1.197 printed no system line for a Bash command missing from the allow
    list: the same recorded transcript without that line."""
    raw = [x for x in lines("permission_denied_allow_list")
           if json.loads(x).get("subtype") != "permission_denied"]
    _, signals = replay(raw)
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    assert [s["rule"] for s in denied] == ["Bash(git tag:*)"]
    assert signal_payload(denied[0], 1) == p.PermissionDenied(tool="Bash", rule="Bash(git tag:*)",
                                                              offset=1)


def test_denials_listed_twice_are_signalled_once() -> None:
    _, signals = replay(lines("permission_denied"))
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    result = of_type(lines("permission_denied"), "result")[0]
    assert len(denied) == len(result["permission_denials"]) == 4
    assert "Bash(git add:*)" in [s["rule"] for s in denied]


# -- the fold --------------------------------------------------------------------------------------

def _run(*events: p.Payload) -> RunState:
    st = RunState()
    setup: list[p.Payload] = [
        p.RunStarted(run=1, repo="/r", base="main", target="main"),
        p.TaskAdded(spec=TaskSpec(id="t", title="t", prompt="x", role="worker", agent="claude")),
        p.AttemptSpawned(window="t-1", worktree="/w", branch="b", agent="claude"),
        p.AttemptStarted(start_commit="c0")]
    for seq, pl in enumerate([*setup, *events], 1):
        task = None if isinstance(pl, p.RunStarted) else "t"
        attempt = None if isinstance(pl, (p.RunStarted, p.TaskAdded)) else 1
        apply(st, Event(seq=seq, time=float(seq), payload=pl, task=task, attempt=attempt, run=1))
    return st


TURNS = [p.TurnUsage(model="m", input=100, cache_write=50, cost_usd=0.25),
         p.TurnUsage(model="m", output=30, cost_usd=0.5)]


def test_turns_count_at_once_and_stay_when_the_exit_says_nothing() -> None:
    st = _run(*TURNS)
    assert st.tasks["t"].cost_usd == pytest.approx(0.75) and st.tasks["t"].tokens == 180
    st = _run(*TURNS, p.AgentExited(how=ExitHow.VANISHED))
    t = st.tasks["t"]
    assert t.cost_usd == pytest.approx(0.75) and t.tokens == 180
    assert t.models["m"]["output"] == 30


def test_an_exit_with_its_own_figures_replaces_the_turns() -> None:
    exited = p.AgentExited(how=ExitHow.EXITED, tokens=200, cost_usd=1.0,
                           models={"m": p.ModelUsage(input=120, output=80, cost_usd=1.0)})
    late = p.TurnUsage(model="m", output=7, cost_usd=9.0)
    t = _run(*TURNS, exited, late).tasks["t"]
    assert t.cost_usd == pytest.approx(1.0) and t.tokens == 200
    assert t.models["m"]["input"] == 120 and t.models["m"]["cost_usd"] == pytest.approx(1.0)


def test_the_exit_records_denials_are_what_a_grant_gives() -> None:
    exited = p.AgentExited(how=ExitHow.EXITED,
                           outcome=p.AgentOutcome(denials=["Bash(git tag:*)"]))
    t = _run(p.PermissionDenied(tool="Bash", rule="Bash(git tag:*)"), exited).tasks["t"]
    assert t.denied == ["Bash(git tag:*)"]


def test_a_turn_reads_as_its_tokens_and_estimated_cost() -> None:
    from swarmtui.render import format_event

    ev = Event(seq=3, time=0.0, task="k", attempt=1, payload=p.TurnUsage(
        model="claude-opus-5-5", message="msg_1", input=1200, output=80, cache_write=3000,
        cost_usd=0.0214))
    assert format_event(ev).endswith(
        "claude-opus-5-5: +1200 in, +80 out, +3000 cache write (~$0.0214)")


NUMBERS = st.one_of(st.integers(-10, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=5), st.none(), st.booleans())


@given(st.lists(st.tuples(
    st.sampled_from(["msg_a", "msg_b", "", None, 5]),
    st.sampled_from(["claude-opus-5-5", "<synthetic>", "", None, "m" * 300]),
    st.sampled_from(["assistant", "message_start", "message_delta"]),
    st.dictionaries(st.sampled_from(list(FIELDS.values())), NUMBERS, max_size=4)), max_size=12))
def test_any_usage_figures_become_signals_the_supervisor_accepts(
        items: list[tuple[Any, Any, str, dict[str, Any]]]) -> None:
    a = ClaudeAdapter()
    for mid, model, where, usage in items:
        msg = {"id": mid, "model": model, "usage": usage}
        obj: dict[str, Any] = (
            {"type": "assistant", "message": msg} if where == "assistant" else
            {"type": "stream_event", "event": {"type": where, "message": msg, "usage": usage},
             "api_message_id": mid})
        for s in a.observe(json.dumps(obj)):
            if s["kind"] == "usage":
                pl = signal_payload(json.loads(json.dumps(s)), 1)
                assert isinstance(pl, p.TurnUsage), s
                assert pl.tokens > 0 and len(pl.model) <= 100
    got = json.loads(json.dumps(a.usage()))
    assert all(v >= 0 for u in got.get("models", {}).values() for v in u.values())
