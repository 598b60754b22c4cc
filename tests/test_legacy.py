"""A state.db written by swarmtui 0.1 (schema 1, untyped payloads) is still read and resumed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from swarmtui.model import Cause, DeadWhy, ExitHow, TaskState
from swarmtui.store import MIGRATIONS, SCHEMA_VERSION, Store, _split_sql

SPEC = {"id": "t", "title": "t", "prompt": "p", "role": "worker", "agent": "a", "files": [],
        "verify": None, "depends_on": [], "max_attempts": None, "priority": 0, "source": "x",
        "parent": None, "depth": 0, "manual": False, "feature": None}

# What 0.1 wrote, field for field.
OLD_EVENTS = [
    ("run_started", None, None, {"run": 1, "repo": "/r", "base": "abc", "target": "main",
                                 "tasks_file": "t.toml", "pid": 9}),
    ("task_added", "t", None, {"spec": SPEC, "attempt_base": 0}),
    ("attempt_spawned", "t", 1, {"window": "t-1", "worktree": "/r/.swarm/worktrees/t-1",
                                 "branch": "swarm/t-1", "base": "main", "agent": "a",
                                 "handoff": False, "start_commit": "abc"}),
    ("progress", "t", 1, {"status": "working", "outputs": None, "n": 1}),
    ("health", "t", 1, {"health": "stuck", "silent_s": 190.0, "intervals": 3.1,
                        "last_progress_at": None}),
    ("agent_exited", "t", 1, {"code": None, "signal": "SIGTERM", "reason": "terminated by "
                              "SIGTERM"}),
    ("attempt_failed", "t", 1, {"reason": "stuck: no progress for 3 intervals", "counts": True,
                                "health": "stuck"}),
    ("task_added", "u", None, {"spec": {**SPEC, "id": "u"}, "attempt_base": 0}),
    ("task_dead", "u", None, {"reason": "gave up after 1 failed attempts; last: stuck"}),
    ("task_added", "v", None, {"spec": {**SPEC, "id": "v"}, "attempt_base": 0}),
    ("attempt_spawned", "v", 1, {"window": "v-1", "worktree": "/r/.swarm/worktrees/v-1",
                                 "branch": "swarm/v-1", "base": "main", "agent": "a"}),
    ("verify_started", "v", 1, {"command": ""}),
    ("verify_passed", "v", 1, {"code": 0, "tail": "ok", "seconds": 0.1}),
    ("task_merged", "v", 1, {"branch": "swarm/v-1", "target": "main", "commit": "def",
                             "summary": "s", "files_modified": ["a.py"], "do_not_revert": True,
                             "added": {"a.py": ["x = 1"]}, "method": "merge", "noop": False,
                             "verify_tail": "", "landed_despite_failure": False}),
]


def test_an_old_log_is_migrated_and_read(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    con = sqlite3.connect(db)
    for stmt in _split_sql(MIGRATIONS[1]):
        con.execute(stmt)
    con.execute("PRAGMA user_version = 1")
    for i, (kind, task, attempt, data) in enumerate(OLD_EVENTS):
        con.execute("INSERT INTO events(run, time, kind, task, attempt, data) VALUES "
                    "(1, ?, ?, ?, ?, ?)", (1000.0 + i, kind, task, attempt, json.dumps(data)))
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        evs = store.events()
        failed = next(e for e in evs if e.kind == "attempt_failed")
        assert failed.payload.cause == Cause.STUCK and failed.payload.counts_attempt
        exited = next(e for e in evs if e.kind == "agent_exited")
        assert exited.payload.how == ExitHow.TERMINATED
        dead = next(e for e in evs if e.kind == "task_dead")
        assert dead.payload.why == DeadWhy.GAVE_UP
        st = store.replay()
        t = st.tasks["t"]
        assert t.state == TaskState.FAILED and t.failures == 1 and t.cause == Cause.STUCK
        assert st.tasks["u"].state == TaskState.DEAD
        assert st.tasks["v"].state == TaskState.MERGED
        # New events are written in the new schema beside the old ones.
        store.append_event("dispatch_paused", data={"by": "test"}, run=1)
        assert store.replay().paused
