"""Rows of the state database, and its errors: how an event's payload is written (checked to
read back first) and read, a command row, and SQLite's errors as the store's own types."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui import legacy
from swarmtui.errors import SwarmError
from swarmtui.model import Event, EventSchemaError, Payload, decode
from swarmtui.model.payloads import decode_json

# The payload schema new events are written with; rows of schema 1 are read through
# ``swarmtui.legacy``.
PAYLOAD_SCHEMA = 2

COMMAND_STATUSES = ("pending", "done", "failed", "refused")


@dataclass
class Command:
    id: int
    time: float
    source: str
    kind: str
    args: dict[str, Any]
    status: str
    result: dict[str, Any] | None
    done_time: float | None
    run: int | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run": self.run,
            "time": self.time,
            "source": self.source,
            "kind": self.kind,
            "args": self.args,
            "status": self.status,
            "result": self.result,
        }


class StoreError(Exception):
    pass


class StoreUnavailable(StoreError):
    """Nothing was written, for a reason that passes (the disk is full, another process holds
    the lock): the caller keeps what it meant to write and tries again later."""


class StoreFull(StoreUnavailable):
    """The disk (or the database's quota) is full: nothing was written."""


class UnreadablePayload(StoreError):
    """A payload whose JSON would not read back (e.g. nested past the parser's depth limit):
    refused before it reaches the append-only log, where it could never be removed."""


class StoreBusy(StoreUnavailable, SwarmError):
    """Another process held the database's write lock past the busy timeout: nothing was
    written; the caller waits and tries again."""


# How long one write waits for another process's write lock (SQLite's own backoff) before
# StoreBusy: short, so the supervisor's loop is never stuck on the store for long; callers
# retry with their own backoff. `SWARMTUI_STORE_BUSY_TIMEOUT` (seconds) overrides it.
BUSY_TIMEOUT_S = 10.0


def busy_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("SWARMTUI_STORE_BUSY_TIMEOUT", BUSY_TIMEOUT_S)))
    except ValueError:
        return BUSY_TIMEOUT_S


def _is_full(e: sqlite3.Error) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(e)


def _is_busy(e: sqlite3.Error) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return (code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or
            "database is locked" in str(e) or "database table is locked" in str(e))


def store_error(path: Path, e: sqlite3.Error) -> Exception:
    """SQLite's error as the store's: full and busy get their own types (the caller acts on
    them); anything else is returned as it is."""
    if _is_full(e):
        return StoreFull(f"{path}: {e}")
    if _is_busy(e):
        return StoreBusy(f"store busy: {path} is locked by another process ({e})")
    return e


def checked_json(p: Payload) -> str:
    """The payload's JSON, checked to read back as the same kind before it is appended."""
    data = p.model_dump_json()
    try:
        decode_json(str(p.KIND), data)
    except (EventSchemaError, ValueError, RecursionError) as e:
        raise UnreadablePayload(f"event {p.KIND} refused: its payload would not read back "
                                f"from the log ({str(e)[:300]})") from None
    return data


def event_of_row(r: tuple[Any, ...]) -> Event:
    if r[7] >= PAYLOAD_SCHEMA:
        payload = decode_json(r[3], r[6], where=f"state.db event {r[0]}: ")
    else:
        payload = _legacy_payload(r)
    return Event(seq=r[0], run=r[1], time=r[2], payload=payload, task=r[4], attempt=r[5])


def _legacy_payload(r: tuple[Any, ...]) -> Payload:
    where = f"state.db event {r[0]}: "
    try:
        data = json.loads(r[6])
    except ValueError as e:
        raise EventSchemaError(f"{where}payload is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise EventSchemaError(f"{where}payload is not a JSON object")
    return decode(r[3], legacy.upgrade(r[3], data), where=where)


COMMAND_COLS = "id, time, source, kind, args, status, result, done_time, run"


def command_of_row(r: tuple[Any, ...]) -> Command:
    return Command(id=r[0], time=r[1], source=r[2], kind=r[3], args=json.loads(r[4]),
                   status=r[5], result=json.loads(r[6]) if r[6] else None, done_time=r[7],
                   run=r[8])
