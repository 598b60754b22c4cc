"""The verifier in process: one verification per attempt at a time. A second start (a resumed
supervisor that reads an attempt's results while adopting it, then restarts the verifications
that died with the last one; or `swarmtui verify` while one runs) must not start another run
in the same worktree: the new run would end the first, whose SIGTERM reads as a failed check."""

from __future__ import annotations

from pathlib import Path

from swarmtui.config import config_from_dict
from swarmtui.engine.intents import StartVerify
from swarmtui.model import TaskSpec, TaskState, project
from swarmtui.model import payloads as p
from tests.standins import Engine, HeldExecutor


def test_a_second_start_while_the_attempt_verifies_starts_nothing(tmp_path: Path) -> None:
    e = Engine(tmp_path, config_from_dict({"slots": {"min_free_memory": "0", "reserve": 0}}, "t"))
    held = HeldExecutor()
    e.ports.workers.verify = held
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude", verify="true"))
    e.tick()  # dispatch starts it on the recording runner
    assert e.task("t").state == TaskState.RUNNING
    e.loop.emit(p.Results(status="done", summary="did it"), "t", 1)
    e.loop.ask(StartVerify(e.task("t")))
    assert e.task("t").state == TaskState.VERIFYING and len(held.held) == 1
    e.loop.ask(StartVerify(e.task("t")))  # again, while the first runs
    assert len(held.held) == 1
    assert [ev.kind for ev in e.store.events(0)].count("verify_started") == 1
    held.run_next()  # the one run ends (no git here: it fails, once)
    e.loop.drain()
    assert [ev.kind for ev in e.store.events(0)].count("verify_failed") == 1
    assert e.task("t").state == TaskState.PENDING  # failed once, requeued: counted once
    assert project(e.store.events(0)) == e.state
