"""The watchdog on a fake clock: a silent agent turns quiet, then stuck, at the intervals the
config names, and (with ``auto_kill``) is ended and failed as stuck. Every real part runs in
process (tests/standins.py ``Engine``): dispatch spawns the task through the real spawner onto
a recording runner, and the clock moves only when the test says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.model import Health, TaskSpec, TaskState
from tests.standins import Engine, FakeClock

T0 = 5_000.0


def config(**heartbeat: Any) -> Config:
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0},
        "heartbeat": {"progress_interval": "10s", "quiet_after": 2, "stuck_after": 3,
                      **heartbeat},
        "retry": {"backoff": "30s", "backoff_max": "10m"},
    }, "test")


def running(tmp: Path, cfg: Config) -> Engine:
    """One task, spawned by dispatch at T0 (its agent starts then and says nothing)."""
    e = Engine(tmp, cfg, clock=FakeClock(T0))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    assert e.trail("attempt_spawned", "attempt_started") == [
        ("attempt_spawned", "t", 1), ("attempt_started", "t", 1)]
    assert e.task("t").started_at == T0
    return e


def healths(e: Engine) -> list[tuple[str, float]]:
    return [(str(ev.data["health"]), ev.time) for ev in e.events("health")]


@pytest.mark.parametrize(("interval", "quiet", "stuck"), [(10.0, 2, 3), (4.0, 5, 7)])
def test_a_silent_agent_is_quiet_then_stuck_at_its_intervals_then_ended_and_failed(
        tmp_path: Path, interval: float, quiet: int, stuck: int) -> None:
    e = running(tmp_path, config(progress_interval=f"{interval:g}s", quiet_after=quiet,
                                 stuck_after=stuck))
    e.at(T0 + quiet * interval - 0.5)
    assert healths(e) == []
    e.at(T0 + quiet * interval)
    assert healths(e) == [("quiet", T0 + quiet * interval)]
    quiet_ev = e.events("health")[-1].data["evidence"]
    assert (quiet_ev["silent_s"], quiet_ev["intervals"]) == (quiet * interval, float(quiet))
    e.at(T0 + stuck * interval - 0.5)
    assert len(healths(e)) == 1 and e.task("t").state == TaskState.RUNNING
    assert e.runner.ended() == []
    e.at(T0 + stuck * interval)
    assert healths(e) == [("quiet", T0 + quiet * interval), ("stuck", T0 + stuck * interval)]
    # auto_kill: the attempt is asked to end (the liveness part tells the runner) ...
    assert e.runner.ended() == [("t-1", False)]
    # ... and failed as stuck, counted against the task and the breaker, then requeued.
    failed = e.events("attempt_failed")
    assert [(f.data["cause"], f.data["health"], f.data["counts_attempt"],
             f.data["counts_breaker"]) for f in failed] == [("stuck", "stuck", True, True)]
    assert failed[0].data["reason"] == f"stuck: no progress for {stuck} intervals"
    assert failed[0].time == T0 + stuck * interval
    t = e.task("t")
    assert (t.state, t.failures) == (TaskState.PENDING, 1)
    assert e.events("task_requeued")[-1].data["not_before"] == T0 + stuck * interval + 30.0
    assert e.replays()


def test_a_progress_line_starts_the_count_again(tmp_path: Path) -> None:
    e = running(tmp_path, config())
    e.at(T0 + 15)
    progress = e.runner.agent_dir("t", 1) / P.PROGRESS_FILE
    progress.write_text("- reading the code\n")
    e.tick()  # the sweep every few seconds reads it (no watcher here)
    e.at(T0 + 20)
    assert [ev.data["status"] for ev in e.events("progress")] == ["- reading the code"]
    heard = e.task("t").last_heard_at
    assert heard is not None and T0 + 15 <= heard <= T0 + 20
    e.at(heard + 20 - 0.5)
    assert healths(e) == []
    e.at(heard + 20)
    assert healths(e) == [("quiet", heard + 20)]
    e.at(heard + 30)
    assert [h for h, _ in healths(e)] == ["quiet", "stuck"]
    assert e.runner.ended() == [("t-1", False)]
    assert e.replays()


def test_without_auto_kill_a_stuck_agent_is_only_flagged(tmp_path: Path) -> None:
    e = running(tmp_path, config(auto_kill=False))
    for _ in range(12):
        e.advance(10)
    assert [h for h, _ in healths(e)] == ["quiet", "stuck"]
    assert e.runner.ended() == [] and e.events("attempt_failed") == []
    t = e.task("t")
    assert (t.state, t.health) == (TaskState.RUNNING, Health.STUCK)
    assert e.replays()
