"""A usage limit on a fake clock, from a transcript recorded from the real Claude Code CLI
(tests/data/claude/usage_limit.jsonl): the attempt is failed as usage limited (not counted),
requeued not before the reset the CLI named, resumed in its own session and worktree, and
dispatch holds every agent of that account until then. Every real part runs in process
(tests/standins.py ``Engine``): the wrapper's part (the claude adapter reading the CLI's
stream, the signals and the exit record it writes) is replayed into the agent's folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmtui.config import Config, config_from_dict
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.attempts.outcomes import RESUME_FOLLOW_UP
from swarmtui.engine.wrapper.launch import LAUNCH_FILE
from swarmtui.model import TaskSpec, TaskState
from tests.standins import Engine, FakeClock

TRANSCRIPT = Path(__file__).parent / "data" / "claude" / "usage_limit.jsonl"


def recorded() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The signals and the exit record the wrapper's claude adapter made of the transcript."""
    a = ClaudeAdapter()
    signals: list[dict[str, Any]] = []
    for line in TRANSCRIPT.read_text().splitlines():
        signals += a.observe(line)
    a.exited(1)
    return signals, {"how": "exited", "code": 1, **a.usage()}


SIGNALS, RECORD = recorded()
RESET = float(RECORD["usage_limited_until"])
SESSION = str(RECORD["session_id"])
T0 = RESET - 3600.0  # the limit is hit an hour before it resets


def config(**claude: Any) -> Config:
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "max_agents": 4,
                  "pools": {"worker": 4}},
        "heartbeat": {"progress_interval": "1h"},
        "agents": {"claude": {"command": ["claude", "-p"], "adapter": "claude", **claude},
                   "other": {"command": ["other-agent"], "account": "elsewhere"}},
    }, "test")


def task(tid: str, agent: str = "claude") -> TaskSpec:
    return TaskSpec(id=tid, title=tid, prompt="p", role="worker", agent=agent)


def limited(tmp: Path, cfg: Config) -> Engine:
    """Task t runs into the limit a minute after it starts."""
    e = Engine(tmp, cfg, clock=FakeClock(T0))
    e.add(task("t"))
    e.tick()
    e.advance(60)
    e.exits("t", 1, RECORD, signals=SIGNALS)
    e.tick()
    return e


def spawned(e: Engine, tid: str) -> list[int]:
    return [ev.attempt or 0 for ev in e.events("attempt_spawned") if ev.task == tid]


def test_the_transcript_says_a_limit_until_a_reset_and_a_session() -> None:
    assert RECORD["limit_type"] == "five_hour" and SESSION
    assert RESET > 1.7e9  # a wall-clock time, which the fake clock starts just before


def test_a_usage_limit_fails_without_counting_and_resumes_its_session_at_the_reset(
        tmp_path: Path) -> None:
    e = limited(tmp_path, config())
    lim = e.events("usage_limited")
    assert [(ev.data["until"], ev.data["account"], ev.data["limit_type"], ev.data["source"])
            for ev in lim] == [(RESET, "claude", "five_hour", "rate_limit_event")]
    exited = e.events("agent_exited")[-1].data
    assert (exited["usage_limited_until"], exited["session_id"]) == (RESET, SESSION)
    failed = e.events("attempt_failed")[-1].data
    assert (failed["cause"], failed["counts_attempt"], failed["counts_breaker"]) == (
        "usage_limited", False, False)
    requeued = e.events("task_requeued")[-1].data
    assert (requeued["not_before"], requeued["resume_session"], requeued["follow_up"]) == (
        RESET, SESSION, RESUME_FOLLOW_UP)
    assert e.task("t").failures == 0 and e.state.usage_limits["claude"].until == RESET
    # Dispatch holds the account: a new claude task waits, another account's starts.
    e.add(task("w"), task("x", agent="other"))
    e.tick()
    assert (spawned(e, "t"), spawned(e, "w"), spawned(e, "x")) == ([1], [], [1])
    e.at(RESET - 1)
    assert (spawned(e, "t"), spawned(e, "w")) == ([1], [])
    assert e.events("usage_limit_lifted") == []
    e.at(RESET)
    assert [(ev.data["until"], ev.data["account"], ev.time)
            for ev in e.events("usage_limit_lifted")] == [(RESET, "claude", RESET)]
    assert "claude" not in e.state.usage_limits
    assert (spawned(e, "t"), spawned(e, "w")) == ([1, 2], [1])
    # The next attempt continues the same session, in the same worktree.
    again = next(ev for ev in e.events("attempt_spawned") if ev.task == "t" and ev.attempt == 2)
    first = next(ev for ev in e.events("attempt_spawned") if ev.task == "t" and ev.attempt == 1)
    assert again.data["resumes"] == SESSION
    assert again.data["worktree"] == first.data["worktree"]
    argv = json.loads((e.runner.agent_dir("t", 2) / LAUNCH_FILE).read_text())["argv"]
    assert argv[argv.index("--resume") + 1] == SESSION
    assert e.task("t").state == TaskState.RUNNING
    assert e.replays()


@pytest.mark.parametrize("claude", [{"resume_after_limit": False}, {"adapter": "generic"}])
def test_an_agent_that_does_not_resume_starts_afresh_at_the_reset(
        tmp_path: Path, claude: dict[str, Any]) -> None:
    e = limited(tmp_path, config(**claude))
    requeued = e.events("task_requeued")[-1].data
    assert (requeued["not_before"], requeued["resume_session"]) == (RESET, None)
    e.at(RESET - 1)
    assert spawned(e, "t") == [1]
    e.at(RESET)
    assert spawned(e, "t") == [1, 2]
    again = e.events("attempt_spawned")[-1].data
    assert again["resumes"] is None and again["worktree"].endswith("t-2")
    assert e.replays()
