"""The SQLite store: an append-only log of typed events and a command inbox.

One database per repository (``.swarm/state.db``), in WAL mode so readers (CLI calls from other
shells, the TUI) never block the supervisor. The supervisor is the only writer of events; any
process may append commands. ``synchronous=FULL`` makes every commit durable when the call
returns: in WAL mode ``NORMAL`` may lose the newest transactions on power loss, and an event that
said "merged" or "killed" must not vanish. The cost is one fsync per event, which is small next
to what an event stands for (an agent spawning, a verification finishing).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from swarmtui import snapshot
from swarmtui.model import Event, EventSchemaError, Payload, RunState, apply, decode, project
from swarmtui.storerows import (
    BUSY_TIMEOUT_S,
    COMMAND_COLS,
    COMMAND_STATUSES,
    PAYLOAD_SCHEMA,
    Command,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreUnavailable,
    UnreadablePayload,
    busy_timeout,
    checked_json,
    command_of_row,
    event_of_row,
    store_error,
)

__all__ = ["BUSY_TIMEOUT_S", "COMMAND_STATUSES", "MIGRATIONS", "PAYLOAD_SCHEMA",
           "SCHEMA_VERSION", "Command", "Store", "StoreBusy", "StoreError", "StoreFull",
           "StoreUnavailable", "UnreadablePayload"]

T = TypeVar("T")
log = logging.getLogger("swarmtui.store")
SCHEMA_VERSION = 4

# Migrations, by the version they bring the database to. Never edit a released entry: add one.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        run     INTEGER NOT NULL,
        time    REAL NOT NULL,
        kind    TEXT NOT NULL,
        task    TEXT,
        attempt INTEGER,
        data    TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_run_seq ON events(run, seq);
    CREATE INDEX events_task ON events(task, seq);
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TABLE commands (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        time      REAL NOT NULL,
        source    TEXT NOT NULL,
        kind      TEXT NOT NULL,
        args      TEXT NOT NULL DEFAULT '{}',
        status    TEXT NOT NULL DEFAULT 'pending',
        result    TEXT,
        done_time REAL
    );
    CREATE INDEX commands_pending ON commands(status, id);
    """,
    2: """
    ALTER TABLE events ADD COLUMN v INTEGER NOT NULL DEFAULT 1;
    """,
    # A cache of each run's projection (see swarmtui/snapshot.py): replaced, never appended.
    3: """
    CREATE TABLE snapshots (
        run         INTEGER PRIMARY KEY,
        seq         INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        time        REAL NOT NULL,
        data        BLOB NOT NULL
    );
    """,
    # The run a command was sent to: it is applied by that run's supervisor or refused, never
    # applied to a later run. NULL: appended by an older swarmtui (refused, the run unknown).
    4: """
    ALTER TABLE commands ADD COLUMN run INTEGER;
    """,
}


class Store:
    """A connection to one repository's state database.

    Each instance owns one connection, guarded by a lock so a supervisor's helper threads may
    share it. Open one Store per process (or per thread that wants its own).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no state database")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The log holds prompts, summaries and paths: readable by its owner only (SQLite gives
        # the -wal and -shm files the database file's mode).
        old = os.umask(0o077)
        try:
            self.path.touch(exist_ok=True)
        finally:
            os.umask(old)
        if self.path.stat().st_mode & 0o077:
            os.chmod(self.path, 0o600)
        # isolation_level=None: we issue BEGIN ourselves, so each write is one explicit
        # transaction and nothing stays open between calls.
        wait = busy_timeout()
        self._db = sqlite3.connect(
            str(self.path), timeout=wait, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.RLock()
        self._tx_depth = 0  # > 0 while transaction() is open (on the thread holding _lock)
        self.skipped: dict[int, str] = {}  # seq -> why: unreadable rows the readers skipped
        self._db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.Error as e:
            self._db.close()
            raise store_error(self.path, e) from None
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: could not switch to WAL mode (got {mode})")
        self._db.execute("PRAGMA synchronous = FULL")
        try:
            self._migrate()
        except sqlite3.Error as e:
            self._db.close()
            raise store_error(self.path, e) from None
        except BaseException:
            self._db.close()
            raise

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this swarmtui "
                    f"understands ({SCHEMA_VERSION}); upgrade swarmtui"
                )
            if version == SCHEMA_VERSION:
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                # Re-read under the write lock: another process may have migrated meanwhile.
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in _split_sql(MIGRATIONS[target]):
                        self._db.execute(stmt)
                    self._db.execute(f"PRAGMA user_version = {target}")
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events -----------------------------------------------------------------------------

    def append(self, payload: Payload, task: str | None = None, attempt: int | None = None,
               *, run: int | None = None, at: float | None = None) -> Event:
        """Append one event; it is on disk when this returns."""
        return self.append_many([(payload, task, attempt)], run=run, at=at)[0]

    def append_many(self, items: list[tuple[Payload, str | None, int | None]], *,
                    run: int | None = None, at: float | None = None) -> list[Event]:
        """Append events in one transaction (one fsync); all are on disk when this returns,
        or none is. Raises StoreFull when the disk is full."""
        now = time.time() if at is None else at
        rows = [(p, task, attempt, checked_json(p)) for p, task, attempt in items]

        def write() -> list[Event]:
            nonlocal run
            out: list[Event] = []
            if run is None:
                run = self._current_run_locked()
            for p, task, attempt, data in rows:
                cur = self._db.execute(
                    "INSERT INTO events(run, time, kind, task, attempt, data, v)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run, now, str(p.KIND), task, attempt, data, PAYLOAD_SCHEMA))
                out.append(Event(seq=int(cur.lastrowid or 0), time=now, payload=p,
                                 task=task, attempt=attempt, run=run))
            return out

        return self._write(write)

    # -- transactions -----------------------------------------------------------------------

    def _write(self, fn: Callable[[], T]) -> T:
        """``fn`` in its own write transaction, or in the open ``transaction()`` (which then
        commits it with the rest)."""
        with self._lock:
            if self._tx_depth:
                return fn()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = fn()
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback()
                raise store_error(self.path, e) from None
            except BaseException:
                self._rollback()
                raise
            return result

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every write in the block (events, command answers) commits together, or none does:
        a command's effects and its "done" mark are one transaction. A block inside another
        joins it. Other threads wait for the block to end."""
        with self._lock:
            if self._tx_depth:
                self._tx_depth += 1
                try:
                    yield
                finally:
                    self._tx_depth -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise store_error(self.path, e) from None
            self._tx_depth = 1
            try:
                yield
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._tx_depth = 0
                self._rollback()
                raise store_error(self.path, e) from None
            except BaseException:
                self._tx_depth = 0
                self._rollback()
                raise
            finally:
                self._tx_depth = 0

    def writable(self) -> bool:
        """Whether the write lock can be had now (within the busy timeout): the loop's probe
        while the store is busy."""
        try:
            self._write(lambda: None)
        except StoreBusy:
            return False
        return True

    def _rollback(self) -> None:
        # A failed COMMIT (disk full) has already rolled back: ROLLBACK would then raise
        # "no transaction is active" and hide the real error.
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def append_event(self, kind: str, task: str | None = None, attempt: int | None = None,
                     data: dict[str, Any] | None = None, *, run: int | None = None,
                     at: float | None = None) -> Event:
        """Append an event given as kind and plain data (validated against its type)."""
        return self.append(decode(kind, data or {}), task, attempt, run=run, at=at)

    def _current_run_locked(self) -> int:
        row = self._db.execute("SELECT MAX(run) FROM events").fetchone()
        return int(row[0] or 0)

    def current_run(self) -> int:
        """The newest run id (0 when no run was ever started)."""
        with self._lock:
            return self._current_run_locked()

    def events(
        self,
        since: int = 0,
        *,
        run: int | None = None,
        task: str | None = None,
        limit: int | None = None,
        kind: str | None = None,
    ) -> list[Event]:
        """Events with ``seq > since`` in order, optionally of one run, task or kind. A row
        that does not read back (written by an older version) is skipped with a logged error
        naming its seq (``skipped`` keeps them): one bad row must not make the run unreadable."""
        return self._decode(self._rows(since, run=run, task=task, limit=limit, kind=kind))

    def _rows(self, since: int, *, run: int | None = None, task: str | None = None,
              limit: int | None = None, kind: str | None = None) -> list[tuple[Any, ...]]:
        sql = "SELECT seq, run, time, kind, task, attempt, data, v FROM events WHERE seq > ?"
        params: list[Any] = [since]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if run is not None:
            sql += " AND run = ?"
            params.append(run)
        if task is not None:
            sql += " AND task = ?"
            params.append(task)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _decode(self, rows: list[tuple[Any, ...]]) -> list[Event]:
        out: list[Event] = []
        for r in rows:
            try:
                out.append(event_of_row(r))
            except (EventSchemaError, ValueError, RecursionError) as e:
                seq = int(r[0])
                if seq not in self.skipped:
                    self.skipped[seq] = str(e)
                    log.error("%s: event %d (%s) cannot be read and is skipped: %s",
                              self.path, seq, r[3], e)
        return out

    def iter_events(self, run: int | None = None, batch: int = 2000, *,
                    since: int = 0) -> Iterator[Event]:
        while True:
            rows = self._rows(since, run=run, limit=batch)
            if not rows:
                return
            yield from self._decode(rows)
            since = int(rows[-1][0])

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def replay(self, run: int | None = None) -> RunState:
        """The state of ``run`` (default: the newest): its newest usable snapshot with the
        events after it folded in, or every event of the run when there is none."""
        if run is None:
            run = self.current_run()
        state = self.snapshot_state(run)
        if state is None:
            return project(self.iter_events(run=run), run=run)
        for ev in self.iter_events(run=run, since=state.last_seq):
            apply(state, ev)
        return state

    def save_snapshot(self, run: int, seq: int, blob: bytes) -> None:
        """Keep ``blob`` (``snapshot.dump`` of the run's state after event ``seq``) as the run's
        snapshot. A failure is not an error: readers replay more of the log instead."""
        fp = snapshot.fingerprint()
        if not fp:
            return
        try:
            self._write(lambda: self._db.execute(
                "INSERT OR REPLACE INTO snapshots(run, seq, fingerprint, time, data)"
                " VALUES (?, ?, ?, ?, ?)", (run, seq, fp, time.time(), blob)))
        except (sqlite3.Error, StoreError):
            pass

    def snapshot_seq(self, run: int) -> int:
        """The seq the run's snapshot was taken at (0: none)."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM snapshots WHERE run = ?", (run,)).fetchone()
        return int(row[0]) if row else 0

    def snapshot_state(self, run: int) -> RunState | None:
        """The run's snapshot, when there is one this code can trust (see swarmtui/snapshot.py);
        a fresh object: the caller may fold more events into it."""
        fp = snapshot.fingerprint()
        if not fp:
            return None
        with self._lock:
            row = self._db.execute("SELECT seq, fingerprint, data FROM snapshots WHERE run = ?",
                                   (run,)).fetchone()
        if row is None or row[1] != fp:
            return None
        state = snapshot.load(bytes(row[2]))
        if state is None or state.run != run or state.last_seq != int(row[0]):
            return None
        return state

    # -- commands ---------------------------------------------------------------------------

    def append_command(self, kind: str, args: dict[str, Any] | None = None,
                       source: str = "cli", *, run: int | None = None) -> int:
        """Queue a command for ``run`` (default: the newest run, read in the same
        transaction): only that run's supervisor applies it."""
        payload = json.dumps(args or {}, sort_keys=True)

        def write() -> int:
            cur = self._db.execute(
                "INSERT INTO commands(time, source, kind, args, run) VALUES (?, ?, ?, ?, ?)",
                (time.time(), source, kind, payload,
                 self._current_run_locked() if run is None else run))
            return int(cur.lastrowid or 0)

        return self._write(write)

    def pending_commands(self) -> list[Command]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COMMAND_COLS} FROM commands WHERE status = 'pending' ORDER BY id"
            ).fetchall()
        return [command_of_row(r) for r in rows]

    def finish_command(self, cid: int, status: str, result: dict[str, Any] | None = None
                       ) -> bool:
        """Answer a pending command; False when it had already been answered (by whoever
        got there first: the supervisor, or a client withdrawing it)."""
        if status not in COMMAND_STATUSES or status == "pending":
            raise ValueError(f"bad command status {status!r}")
        data = json.dumps(result or {}, sort_keys=True, default=str)
        return self._write(lambda: self._db.execute(
            "UPDATE commands SET status = ?, result = ?, done_time = ?"
            " WHERE id = ? AND status = 'pending'", (status, data, time.time(), cid)
        ).rowcount == 1)

    def command(self, cid: int) -> Command | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {COMMAND_COLS} FROM commands WHERE id = ?", (cid,)).fetchone()
        return command_of_row(row) if row else None

    def commands(self) -> list[Command]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COMMAND_COLS} FROM commands ORDER BY id").fetchall()
        return [command_of_row(r) for r in rows]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (trigger bodies hold ';', so ask SQLite where one ends)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
