"""Tests for swarmtui.store: schema, pragmas, the append-only log, replay, durability across
connections, and many processes writing at once."""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmtui.model import (
    Event,
    EventSchemaError,
    RunStatus,
    TaskSpec,
    TaskState,
    project,
)
from swarmtui.store import SCHEMA_VERSION, Store, StoreError


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".swarm" / "state.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.close()


def spec_dict(tid: str, **kw: Any) -> dict[str, Any]:
    return TaskSpec(id=tid, title=tid, prompt=f"do {tid}", role="worker", agent="claude",
                    **kw).to_dict()


def started(run: int) -> dict[str, Any]:
    """The data of a run_started event."""
    return {"run": run, "repo": "/r", "base": "main", "target": "main"}


def spawned(tid: str, n: int = 1) -> dict[str, Any]:
    """The data of an attempt_spawned event."""
    return {"window": f"@{tid}{n}", "worktree": f"/wt/{tid}-{n}", "branch": f"swarm/{tid}-{n}",
            "agent": "claude"}


def applied(cid: int, **result: Any) -> dict[str, Any]:
    """The data of a command_applied event (a kind with free-form nested data)."""
    return {"id": cid, "command": "pause", "source": "test", "status": "done", "result": result}


def fill_run(store: Store, run: int = 1) -> None:
    """A short run: two tasks, one passes, one fails and is requeued."""
    store.append_event("run_started", data=started(run), run=run)
    store.append_event("task_added", "a", data={"spec": spec_dict("a")}, run=run)
    store.append_event("task_added", "b", data={"spec": spec_dict("b", depends_on=("a",))},
                       run=run)
    store.append_event("attempt_spawned", "a", 1, spawned("a"), run=run)
    store.append_event("progress", "a", 1, {"status": "working", "outputs": 1, "n": 1}, run=run)
    store.append_event("verify_started", "a", 1, run=run)
    store.append_event("verify_passed", "a", 1, {"tail": "ok"}, run=run)
    store.append_event("attempt_spawned", "b", 1, spawned("b"), run=run)
    store.append_event("attempt_failed", "b", 1,
                       {"cause": "crashed", "reason": "crashed", "counts_attempt": True,
                        "counts_breaker": True}, run=run)
    store.append_event("task_requeued", "b", 1, {"note": "again"}, run=run)


# -- schema and pragmas -----------------------------------------------------------------------


def test_schema_version_set(store: Store, db_path: Path) -> None:
    """A new database carries the current schema version, also seen by other connections."""
    assert store.schema_version == SCHEMA_VERSION
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"events", "commands"} <= tables
    finally:
        raw.close()


def test_wal_and_synchronous_full(store: Store) -> None:
    """The store's connection runs in WAL mode with synchronous=FULL (2)."""
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_reopen_does_not_remigrate(db_path: Path) -> None:
    """Opening an existing database keeps its data and version."""
    with Store(db_path) as s:
        s.append_event("run_started", data=started(1), run=1)
    with Store(db_path, create=False) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert [e.kind for e in s.events()] == ["run_started"]


def test_missing_database_with_create_false(tmp_path: Path) -> None:
    """create=False on a missing file is a StoreError naming the path, and creates nothing."""
    path = tmp_path / "nope" / "state.db"
    with pytest.raises(StoreError, match="no state database") as info:
        Store(path, create=False)
    assert str(path) in str(info.value)
    assert not path.exists()


def test_newer_schema_refused(db_path: Path) -> None:
    """A database written by a newer swarmtui is refused with a clear StoreError."""
    Store(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError) as info:
        Store(db_path)
    msg = str(info.value)
    assert str(db_path) in msg
    assert f"schema version {SCHEMA_VERSION + 1}" in msg
    assert "newer" in msg and "upgrade" in msg


# -- the event log ----------------------------------------------------------------------------


def test_events_append_only(store: Store, db_path: Path) -> None:
    """UPDATE and DELETE on events are refused by the triggers, on any connection."""
    store.append_event("run_started", data=started(1), run=1)
    store.append_event("task_added", "a", data={"spec": spec_dict("a")}, run=1)
    before = store.events()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._db.execute("UPDATE events SET kind = 'forged' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._db.execute("DELETE FROM events")
    raw = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM events WHERE seq = 2")
    finally:
        raw.close()
    assert store.events() == before


def test_append_returns_stored_event_and_seq_increases(store: Store) -> None:
    """append_event returns what events() later reads back; seq strictly increases."""
    returned = [store.append_event("command_applied",
                                   data=applied(i, i=i, nested={"k": [1, 2]}),
                                   run=1, at=1000.0 + i)
                for i in range(20)]
    stored = store.events()
    assert stored == returned
    seqs = [e.seq for e in stored]
    assert all(b > a for a, b in itertools.pairwise(seqs))
    assert store.last_seq() == seqs[-1]
    assert stored[3].time == 1003.0
    assert stored[3].data == applied(3, i=3, nested={"k": [1, 2]})


def test_append_defaults_to_current_run(store: Store) -> None:
    """Without run=, an event joins the newest run (0 before any run)."""
    assert store.current_run() == 0
    assert store.append_event("dispatch_paused", data={"by": "x"}).run == 0
    store.append_event("run_started", data=started(3), run=3)
    assert store.current_run() == 3
    assert store.append_event("dispatch_resumed", data={"by": "x"}).run == 3


def test_events_filters(store: Store) -> None:
    """events(since, run, task, limit) select exactly the matching events in seq order."""
    fill_run(store, run=1)
    fill_run(store, run=2)
    every = store.events()
    assert len(every) == 20
    assert store.events(since=every[4].seq) == every[5:]
    assert store.events(run=2) == [e for e in every if e.run == 2]
    assert store.events(task="a") == [e for e in every if e.task == "a"]
    assert store.events(run=1, task="b") == [e for e in every if e.run == 1 and e.task == "b"]
    assert store.events(limit=3) == every[:3]
    assert store.events(since=every[2].seq, run=2, task="a", limit=2) == [
        e for e in every if e.seq > every[2].seq and e.run == 2 and e.task == "a"][:2]
    assert store.events(since=every[-1].seq) == []
    assert list(store.iter_events(run=1, batch=3)) == store.events(run=1)


def test_replay_equals_projection_and_survives_reopen(db_path: Path) -> None:
    """replay() equals project() over the events, and a fresh connection after close sees the
    same state (durability across connections)."""
    s = Store(db_path)
    fill_run(s, run=1)
    fill_run(s, run=2)
    s.append_event("dispatch_paused", run=2)
    state = s.replay()
    assert state == project(s.events(), run=2)
    assert state == project(s.events(run=2))
    assert s.replay(1) == project(s.events(run=1))
    assert state.run == 2 and state.paused and state.status == RunStatus.PAUSED
    assert state.tasks["a"].state == TaskState.PASSED
    assert state.tasks["b"].state == TaskState.PENDING and state.tasks["b"].retry_note == "again"
    every = s.events()
    s.close()
    with Store(db_path, create=False) as fresh:
        assert fresh.events() == every
        assert fresh.replay() == state
        assert fresh.replay(1) == project(every, run=1)


# -- commands ---------------------------------------------------------------------------------


def test_pending_commands_order_and_finish(store: Store) -> None:
    """pending_commands lists pending ones by id; finish_command changes only pending ones."""
    ids = [store.append_command("kill", {"task": f"t{i}"}, source=f"s{i}") for i in range(4)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    pending = store.pending_commands()
    assert [c.id for c in pending] == ids
    assert [c.args for c in pending] == [{"task": f"t{i}"} for i in range(4)]
    assert all(c.status == "pending" and c.result is None and c.done_time is None
               for c in pending)

    store.finish_command(ids[1], "done", {"killed": True})
    store.finish_command(ids[2], "refused", {"why": "no such task"})
    assert [c.id for c in store.pending_commands()] == [ids[0], ids[3]]
    done = store.command(ids[1])
    assert done is not None
    assert done.status == "done" and done.result == {"killed": True}
    assert done.done_time is not None

    # A finished command is not changed again.
    store.finish_command(ids[1], "failed", {"late": 1})
    again = store.command(ids[1])
    assert again is not None and again.status == "done" and again.result == {"killed": True}
    assert again.done_time == done.done_time

    with pytest.raises(ValueError):
        store.finish_command(ids[0], "pending")
    with pytest.raises(ValueError):
        store.finish_command(ids[0], "whatever")
    assert store.command(ids[0]).status == "pending"  # type: ignore[union-attr]
    assert store.command(999_999) is None
    assert [c.status for c in store.commands()] == ["pending", "done", "refused", "pending"]


# -- many processes ---------------------------------------------------------------------------

APPENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from swarmtui.store import Store, StoreBusy
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = Store(Path(path))
    print("ready", flush=True)
    sys.stdin.readline()  # wait for "go", so every process appends at the same time
    for i in range(count):
        while True:  # busy past the store's wait: callers try again (as client.py does)
            try:
                s.append_command("spawn", {"i": i, "who": name}, source=name)
                break
            except StoreBusy:
                pass
    s.close()
    print("done", flush=True)
""")


def test_many_processes_appending_commands_lose_none(db_path: Path) -> None:
    """Six processes appending 200 commands each at once: all 1200 arrive, ids are unique and
    each process's commands keep its order."""
    Store(db_path).close()  # migrate once, before the race
    procs_n, each = 6, 200
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(db_path), f"p{n}", str(each)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for n in range(procs_n)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, _ = p.communicate(timeout=120)
            assert p.returncode == 0
            assert out.strip() == "done"
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    with Store(db_path) as s:
        cmds = s.commands()
        assert len(cmds) == procs_n * each
        assert len({c.id for c in cmds}) == procs_n * each
        assert len(s.pending_commands()) == procs_n * each
        for n in range(procs_n):
            mine = [c for c in cmds if c.source == f"p{n}"]
            assert [c.args["i"] for c in mine] == list(range(each))
            assert all(c.args["who"] == f"p{n}" for c in mine)


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from swarmtui.store import Store
    s = Store(Path(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.readline()
    s.append_event("run_started",
                   data={"run": 1, "repo": "/r", "base": "main", "target": "main"}, run=1)
    for i in range(int(sys.argv[2])):
        s.append_event("command_applied", data={"id": i, "command": "pause", "source": "t",
                                                "status": "done", "result": {"i": i}}, run=1)
    s.close()
""")


def test_reader_sees_consistent_prefix_while_writer_appends(db_path: Path) -> None:
    """A reader polling while another process appends always sees a gap-free prefix of the
    final log, growing monotonically, and can replay it."""
    n = 300
    Store(db_path).close()
    reader = Store(db_path)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    snapshots: list[list[Event]] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        while True:
            done = proc.poll() is not None  # read once more after the writer has exited
            snap = reader.events()
            snapshots.append(snap)
            if done or len(snap) == n + 1:
                break
        proc.wait(timeout=60)
        assert proc.returncode == 0
        final = reader.events()
        assert len(final) == n + 1
        assert [e.data["result"].get("i") for e in final[1:]] == list(range(n))
        sizes = [len(s) for s in snapshots]
        assert sizes == sorted(sizes)
        for snap in snapshots:
            assert snap == final[: len(snap)]
        mid = [s for s in snapshots if 0 < len(s) < n + 1]
        if mid:
            assert project(mid[-1]).last_seq == mid[-1][-1].seq
        assert reader.replay().last_seq == final[-1].seq
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.close()


def test_data_is_json_round_tripped(store: Store) -> None:
    """Event data and command args are stored as JSON (non-JSON values become strings)."""
    ev = store.append_event("command_applied", data=applied(1, path=Path("/a/b"), n=1), run=1)
    assert ev.data["result"] == {"path": "/a/b", "n": 1}
    assert store.events()[0].data == ev.data
    row = store._db.execute("SELECT data FROM events").fetchone()[0]
    assert json.loads(row)["result"] == {"n": 1, "path": "/a/b"}


def test_events_are_validated_when_written_and_when_read(store: Store) -> None:
    """An unknown kind or data that does not fit its kind's type is refused before anything is
    written; a row that does not fit (a hand-edited log) is skipped when read, with an error
    naming its seq, and the rest of the log reads on."""
    with pytest.raises(EventSchemaError, match="unknown event kind 'tick'"):
        store.append_event("tick", data={"i": 1}, run=1)
    with pytest.raises(EventSchemaError, match="cause"):
        store.append_event("attempt_failed", "a", 1, {"reason": "crashed"}, run=1)
    with pytest.raises(EventSchemaError, match="bogus"):
        store.append_event("dispatch_paused", data={"by": "x", "bogus": 1}, run=1)
    assert store.events() == [] and store.last_seq() == 0
    store.append_event("dispatch_paused", data={"by": "x"}, run=1)
    store._db.execute("INSERT INTO events(run, time, kind, data, v) VALUES (1, 0, "
                      "'dispatch_paused', '{\"by\": 3}', 2)")
    assert [e.seq for e in store.events()] == [1]
    assert "event 2" in store.skipped[2] and "by" in store.skipped[2]
