"""Folding the readings of a running attempt (context fill, readiness check, scope drift) into
its task's view, and the few words that say them (pure).

``fold.py`` registers ``READING_FOLDERS`` with its own and calls ``reset_readings`` when an
attempt is spawned: a new attempt starts with a fresh context and nothing checked yet.
"""

from __future__ import annotations

from collections.abc import Callable

from swarmtui.model import payloads as p
from swarmtui.model.event import Event
from swarmtui.model.kinds import EventKind, Health
from swarmtui.model.labels import HEALTH_LABEL
from swarmtui.model.state import RunState, TaskView

CHECK_LINE_SHOWN = 80  # characters of a failing check's last line in the health text
DRIFT_SHOWN = 3  # files named in the health text


def reset_readings(t: TaskView) -> None:
    """A new attempt: its own context, no check run, no drift (relaunches are per task)."""
    t.context_pct = None
    t.context_tokens = None
    t.context_window = None
    t.check = None
    t.drift = []


def _context_fill(run: RunState, t: TaskView, ev: Event) -> None:
    if t.attempt != ev.attempt:
        return
    pl = ev.get(p.ContextFill)
    t.context_pct = pl.pct
    t.context_tokens = pl.tokens
    t.context_window = pl.window
    t.last_heard_at = ev.time  # a finished turn is a sign of life
    t.signals_offset = max(t.signals_offset, pl.offset)


def _context_relaunch(run: RunState, t: TaskView, ev: Event) -> None:
    t.context_relaunches += 1


def _check_ran(run: RunState, t: TaskView, ev: Event) -> None:
    if t.attempt != ev.attempt:
        return
    pl = ev.get(p.CheckRan)
    prev = t.check or {}
    runs = int(prev.get("runs", 0)) + 1
    failures = int(prev.get("failures", 0)) + (0 if pl.ok else 1)
    t.check = {"ok": pl.ok, "code": pl.code, "line": pl.line, "at": ev.time,
               "seconds": pl.seconds, "timed_out": pl.timed_out, "error": pl.error,
               "runs": runs, "failures": failures}


def _scope_drift(run: RunState, t: TaskView, ev: Event) -> None:
    if t.attempt != ev.attempt:
        return
    t.drift = list(ev.get(p.ScopeDrift).files)


READING_FOLDERS: dict[EventKind, Callable[[RunState, TaskView, Event], None]] = {
    EventKind.CONTEXT_FILL: _context_fill,
    EventKind.CONTEXT_RELAUNCH: _context_relaunch,
    EventKind.CHECK_RAN: _check_ran,
    EventKind.SCOPE_DRIFT: _scope_drift,
}


def context_text(t: TaskView) -> str:
    """``context 83%`` (or "" before the agent reported a turn)."""
    return "" if t.context_pct is None else f"context {t.context_pct:.0f}%"


def check_text(t: TaskView) -> str:
    """``check failing: <last line>`` while the readiness check fails, else ""."""
    if not t.check or t.check.get("ok", True):
        return ""
    line = str(t.check.get("line") or t.check.get("error") or "")
    if not line:
        line = "timed out" if t.check.get("timed_out") else f"exit {t.check.get('code')}"
    line = " ".join(line.split())
    if len(line) > CHECK_LINE_SHOWN:
        line = line[: CHECK_LINE_SHOWN - 1] + "…"
    return f"check failing: {line}"


def drift_text(t: TaskView) -> str:
    """``outside its scope: a.py, b.py (+2)`` while the attempt has drifted, else ""."""
    if not t.drift:
        return ""
    shown = ", ".join(t.drift[:DRIFT_SHOWN])
    more = len(t.drift) - DRIFT_SHOWN
    return f"outside its scope: {shown}" + (f" (+{more})" if more > 0 else "")


def health_text(t: TaskView) -> str:
    """The health as an operator reads it: ``context 83%``, ``check failing: 2 failed``, the
    label of any other health value; a drift note is added after a semicolon."""
    if t.health == Health.CONTEXT and t.context_pct is not None:
        text = context_text(t)
    elif t.health == Health.CHECK_FAILING and check_text(t):
        text = check_text(t)
    else:
        text = HEALTH_LABEL[t.health]
    drift = drift_text(t)
    return f"{text}; {drift}" if drift else text
