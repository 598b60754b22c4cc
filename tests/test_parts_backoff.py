"""Retry backoff on a fake clock: an attempt that fails (its agent exits without results) is
requeued after the doubling backoff (``retry.backoff``, capped at ``retry.backoff_max``), and
dispatch does not start the next attempt before ``not_before``. Every real part runs in process
(tests/standins.py ``Engine``); the agent's end is its wrapper's exit record and a closed
window, read by the real reader and liveness parts."""

from __future__ import annotations

from pathlib import Path

from swarmtui.config import Config, config_from_dict
from swarmtui.engine.run.dispatch import REPLAN_S
from swarmtui.model import TaskSpec, TaskState
from tests.standins import Engine, FakeClock

T0 = 20_000.0
STEP = 0.25  # the test's tick: finer than REPLAN_S, so a start that comes late is seen


def config(backoff: str = "10s", backoff_max: str = "25s", max_attempts: int = 5) -> Config:
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0},
        "retry": {"backoff": backoff, "backoff_max": backoff_max,
                  "max_attempts": max_attempts},
        "breaker": {"max_failures": 50},
    }, "test")


def spawned_at(e: Engine, attempt: int) -> float | None:
    return next((ev.time for ev in e.events("attempt_spawned") if ev.attempt == attempt), None)


def test_failures_back_off_doubling_up_to_the_cap_and_dispatch_waits_for_each(
        tmp_path: Path) -> None:
    e = Engine(tmp_path, config(), clock=FakeClock(T0))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    delays: list[float] = []
    for n in range(1, 5):
        assert e.task("t").attempt == n and e.task("t").state == TaskState.RUNNING
        e.advance(1)
        e.exits("t", n)  # exit code 1, no results.json
        e.tick()
        failed = e.events("attempt_failed")[-1]
        assert (failed.attempt, failed.data["cause"], failed.data["counts_attempt"]) == (
            n, "crashed", True)
        requeued = e.events("task_requeued")[-1]
        assert requeued.attempt == n
        delays.append(requeued.data["delay_s"])
        not_before = requeued.data["not_before"]
        assert not_before == failed.time + requeued.data["delay_s"]
        assert e.task("t").not_before == not_before
        # Dispatch starts nothing before not_before, and starts it within a replan after.
        e.tick()
        e.at(not_before - STEP)
        assert spawned_at(e, n + 1) is None
        while spawned_at(e, n + 1) is None:
            assert e.clock.now < not_before + REPLAN_S + STEP, "not started after its backoff"
            e.advance(STEP)
        started = spawned_at(e, n + 1)
        assert started is not None and not_before <= started < not_before + REPLAN_S + STEP
    assert delays == [10.0, 20.0, 25.0, 25.0]  # 10 * 2^(n-1), capped at backoff_max
    # The fifth counted failure is the last: max_attempts = 5.
    e.advance(1)
    e.exits("t", 5)
    e.tick()
    assert e.task("t").state == TaskState.DEAD and e.task("t").failures == 5
    assert e.trail("task_dead") == [("task_dead", "t", 5)]
    e.advance(100)
    assert spawned_at(e, 6) is None
    assert e.replays()


def test_a_failure_that_does_not_back_off_is_retried_at_once(tmp_path: Path) -> None:
    """A lost window (the tmux server, not the agent) is neither counted nor backed off."""
    e = Engine(tmp_path, config(), clock=FakeClock(T0))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    e.advance(1)
    e.exits("t", 1, {"how": "terminated", "code": None, "signal": "SIGHUP"})
    e.tick()
    failed = e.events("attempt_failed")[-1].data
    assert (failed["cause"], failed["counts_attempt"]) == ("lost", False)
    requeued = e.events("task_requeued")[-1]
    assert requeued.data["delay_s"] == 0.0 and requeued.data["not_before"] == requeued.time
    e.tick()
    assert spawned_at(e, 2) == requeued.time
    assert e.task("t").failures == 0
    assert e.replays()
