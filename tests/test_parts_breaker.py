"""The breaker on a fake clock: more than ``breaker.max_failures`` counted failures within
``breaker.period`` open it (``breaker_opened``), and dispatch then starts nothing, whatever
waits, until the operator resumes. Every real part runs in process (tests/standins.py
``Engine``); agents end by their wrapper's exit record and a closed window, and ``resume`` is
a command in the store's inbox, applied by the real inbox part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swarmtui.config import Config, config_from_dict
from swarmtui.model import TaskSpec, TaskState
from tests.standins import Engine, FakeClock

T0 = 30_000.0
IDS = ("a", "b", "c", "d")


def config(max_failures: int = 2, period: str = "60s") -> Config:
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "max_agents": 4,
                  "pools": {"worker": 4}},
        "heartbeat": {"progress_interval": "1h"},  # silence is not what this is about
        "retry": {"backoff": "1s", "backoff_max": "1s", "max_attempts": 10},
        "breaker": {"max_failures": max_failures, "period": period},
    }, "test")


def fleet(tmp: Path, cfg: Config) -> Engine:
    e = Engine(tmp, cfg, clock=FakeClock(T0))
    e.add(*(TaskSpec(id=i, title=i, prompt="p", role="worker", agent="claude") for i in IDS))
    e.tick()
    assert [t for _, t, _ in e.trail("attempt_started")] == list(IDS)
    return e


def breaker_open(e: Engine) -> bool:
    return e.state.breaker_open


def crash(e: Engine, tid: str, record: dict[str, Any] | None = None) -> None:
    e.exits(tid, e.task(tid).attempt, record)
    e.tick()


def test_failures_over_the_limit_within_the_period_open_the_breaker_until_resumed(
        tmp_path: Path) -> None:
    e = fleet(tmp_path, config(max_failures=2, period="60s"))
    e.at(T0 + 10)
    crash(e, "a")
    e.at(T0 + 20)
    assert e.trail("attempt_spawned")[-1] == ("attempt_spawned", "a", 2)  # after 1s backoff
    crash(e, "b")
    e.at(T0 + 40)
    assert e.events("breaker_opened") == []  # two within the period: at the limit, not over
    crash(e, "c")
    opened = e.events("breaker_opened")
    assert [(ev.data["failures"], ev.data["period_s"], ev.time) for ev in opened] == [
        (3, 60.0, T0 + 40)]
    assert breaker_open(e)
    spawned = len(e.events("attempt_spawned"))
    # c's backoff runs out, but it does not start; the running agents are left alone.
    for _ in range(5):
        e.advance(30)
    assert len(e.events("attempt_spawned")) == spawned
    assert {t: e.task(t).state for t in IDS} == {
        "a": TaskState.RUNNING, "b": TaskState.RUNNING, "c": TaskState.PENDING,
        "d": TaskState.RUNNING}
    assert e.task("c").not_before < e.clock.now
    assert e.runner.ended() == []
    e.store.append_command("resume", source="test")
    e.tick()
    assert [ev.data["by"] for ev in e.events("dispatch_resumed")] == ["test"]
    assert not breaker_open(e) and e.state.breaker_window == []
    assert e.trail("attempt_spawned")[spawned:] == [("attempt_spawned", "c", 2)]
    assert e.replays()


def test_failures_further_apart_than_the_period_do_not_open_it(tmp_path: Path) -> None:
    e = fleet(tmp_path, config(max_failures=2, period="60s"))
    for n, tid in enumerate(("a", "b", "c", "a", "b")):
        e.at(T0 + 10 + 31 * n)  # never three within 60s
        crash(e, tid)
    assert e.events("breaker_opened") == []
    assert len(e.state.breaker_window) == 5
    assert e.replays()


def test_failures_that_are_not_the_agents_fault_do_not_count(tmp_path: Path) -> None:
    """A lost window (the tmux server went away) counts against neither the task nor the
    breaker."""
    e = fleet(tmp_path, config(max_failures=1, period="60s"))
    lost = {"how": "terminated", "code": None, "signal": "SIGHUP"}
    for tid in IDS:
        e.advance(1)
        crash(e, tid, lost)
    assert [ev.data["cause"] for ev in e.events("attempt_failed")] == ["lost"] * 4
    assert e.events("breaker_opened") == [] and e.state.breaker_window == []
    e.advance(1)
    assert [t for _, t, n in e.trail("attempt_spawned") if n == 2] == list(IDS)
    assert e.replays()
