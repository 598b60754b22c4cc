"""Snapshots of the projection: a reader folds only the events after the newest one, and a
snapshot it cannot trust (damaged, tampered, made by other code) is ignored, never believed."""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui import snapshot
from swarmtui.model import RunState, project
from swarmtui.model.spec import TaskSpec
from swarmtui.store import Store
from tests.fleet import Fleet, fake, fast_config, start, task


def _log(store: Store, n_tasks: int = 5, progress: int = 40) -> None:
    store.append_event("run_started", data={"run": 1, "repo": "/r", "base": "b",
                                            "target": "main"}, run=1)
    for i in range(n_tasks):
        spec = TaskSpec(id=f"t{i}", title="t", prompt="p", role="worker", agent="a")
        store.append_event("task_added", spec.id, data={"spec": spec.to_dict()}, run=1)
        store.append_event("attempt_spawned", spec.id, 1, {
            "window": f"t{i}-1", "worktree": f"/w/t{i}-1", "branch": f"swarm/t{i}-1",
            "agent": "a"}, run=1)
    for k in range(progress):
        store.append_event("progress", f"t{k % n_tasks}", 1,
                           {"status": f"step {k}", "n": k // n_tasks + 1}, run=1)


def _full(store: Store, run: int = 1) -> RunState:
    return project(store.iter_events(run=run), run=run)


def test_replay_from_a_snapshot_equals_a_full_replay(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    _log(store)
    mid = _full(store)
    store.save_snapshot(1, mid.last_seq, snapshot.dump(mid))
    assert store.snapshot_seq(1) == mid.last_seq
    for k in range(40, 60):  # events after the snapshot are folded in on top of it
        store.append_event("progress", "t1", 1, {"status": f"late {k}", "n": 100 + k}, run=1)
    replayed = store.replay()
    assert replayed == _full(store)
    assert replayed.tasks["t1"].last_progress == "late 59"
    # The snapshot was used: a snapshot whose state differs from the log shows through.
    mid.tasks["t0"].last_progress = "only in the snapshot"
    store.save_snapshot(1, mid.last_seq, snapshot.dump(mid))
    assert store.replay().tasks["t0"].last_progress == "only in the snapshot"


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("touch pwned",))


def test_a_tampered_snapshot_is_refused_and_the_log_replayed(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store(tmp_path / "state.db")
    _log(store)
    seq = store.last_seq()
    for blob in (pickle.dumps(_Boom()), b"not a pickle", pickle.dumps({"run": 1})):
        store.save_snapshot(1, seq, blob)
        assert store.replay() == _full(store)
    assert not (tmp_path / "pwned").exists()


def test_snapshots_of_other_code_or_another_seq_are_ignored(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    _log(store)
    state = _full(store)
    wrong = project([e for e in store.iter_events(run=1) if e.seq < state.last_seq], run=1)
    wrong.tasks["t0"].last_progress = "stale"
    # Claims a seq it was not taken at.
    store.save_snapshot(1, state.last_seq, snapshot.dump(wrong))
    assert store.replay() == state
    # Made by other model code (another fingerprint).
    state.tasks["t0"].last_progress = "other code"
    store.save_snapshot(1, state.last_seq, snapshot.dump(state))
    raw = sqlite3.connect(tmp_path / "state.db")
    with raw:
        raw.execute("UPDATE snapshots SET fingerprint = 'someone-else'")
    raw.close()
    assert store.replay().tasks["t0"].last_progress != "other code"


def test_the_supervisor_leaves_a_snapshot_equal_to_its_log(git_repo: Path,
                                                            fleets: list[Fleet]) -> None:
    cfg = fast_config({"a": fake("success")})
    f = start(fleets, git_repo, cfg, [task(f"t{i}", "a") for i in range(3)])
    assert f.wait_done()
    f.thread.join(timeout=30)
    store = Store(git_repo / P.SWARM_DIR / P.STATE_DB)
    run = store.current_run()
    assert store.snapshot_seq(run) == store.last_seq()  # written when the loop ended
    assert store.snapshot_state(run) == _full(store, run)
    assert store.replay() == _full(store, run)
