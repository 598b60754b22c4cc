"""Plain-text rendering of events and run state for the CLI and the headless stream (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from swarmtui.model import ACTIVE, Event, EventKind, TaskView
from swarmtui.model.readings import health_text
from swarmtui.model.state import Crash
from swarmtui.statustext import accounts_line, crash_text, format_age, short
from swarmtui.textsafe import term_safe

__all__ = ["accounts_line", "alert_text", "crash_line", "event_detail", "format_age",
           "format_event", "task_row"]


_short = short


# Per event kind: the detail shown after the kind, from the event's data.
_Detail = Callable[[dict[str, Any]], str]


def _run_started(d: dict[str, Any]) -> str:
    target = d.get("target") or "(detached)"
    return f"run {d.get('run')} on {target} at {str(d.get('base'))[:10]}"


def _task_added(d: dict[str, Any]) -> str:
    spec = d.get("spec", {})
    extra = f" (spawned by {spec['parent']})" if spec.get("parent") else ""
    return f"{_short(spec.get('title', ''), 60)}{extra}"


def _attempt_spawned(d: dict[str, Any]) -> str:
    return f"window {d.get('window')} agent {d.get('agent')}" + (
        " with handoff" if d.get("handoff") else "")


def _progress(d: dict[str, Any]) -> str:
    out = f" [outputs: {d['outputs']}]" if d.get("outputs") is not None else ""
    return _short(d.get("status", "")) + out


def _health(d: dict[str, Any]) -> str:
    evd = d.get("evidence") or {}
    bits = [f"silent {evd['silent_s']:.0f}s" if evd.get("silent_s") else "",
            f"idle {evd['idle_s']:.0f}s" if evd.get("idle_s") else "",
            f"waiting {evd['waiting_s']:.0f}s" if evd.get("waiting_s") else "",
            str(evd.get("note") or "")]
    detail = ", ".join(b for b in bits if b)
    return f"{d.get('health')}" + (f" ({detail})" if detail else "")


def _attempt_failed(d: dict[str, Any]) -> str:
    return f"{d.get('cause')}: {_short(d.get('reason', ''), 90)}"


def _agent_exited(d: dict[str, Any]) -> str:
    how = f"signal {d['signal']}" if d.get("signal") else f"code {d.get('code')}"
    return f"{d.get('how')} ({how})"


def _results(d: dict[str, Any]) -> str:
    return f"{d.get('status')}: {_short(d.get('summary', ''), 70)}"


def _verify(d: dict[str, Any]) -> str:
    return f"exit {d.get('code')} in {d.get('seconds')}s"


def _command_applied(d: dict[str, Any]) -> str:
    r = d.get("result") or {}
    msg = r.get("message") or r.get("error") or r.get("reason") or ""
    return f"{d.get('command')} from {d.get('source')}: {d.get('status')} {_short(msg, 70)}"


def _task_requeued(d: dict[str, Any]) -> str:
    return f"next attempt in {d.get('delay_s', 0)}s ({_short(d.get('reason', ''), 60)})"


def _turn_usage(d: dict[str, Any]) -> str:
    """One answer's tokens (an increment) and their estimated cost."""
    parts = [f"+{d[k]} {w}" for k, w in (("input", "in"), ("output", "out"),
                                         ("cache_read", "cache read"),
                                         ("cache_write", "cache write")) if d.get(k)]
    return f"{_short(d.get('model', ''), 40)}: {', '.join(parts)} (~${d.get('cost_usd', 0):.4f})"


def _generic(d: dict[str, Any]) -> str:
    """Any other kind: its reason, error or message, whichever comes first."""
    for key in ("reason", "error", "message"):
        if key in d:
            return _short(d[key], 100)
    return ""


_DETAILS: dict[EventKind, _Detail] = {
    EventKind.RUN_STARTED: _run_started,
    EventKind.TASK_ADDED: _task_added,
    EventKind.ATTEMPT_SPAWNED: _attempt_spawned,
    EventKind.PROGRESS: _progress,
    EventKind.HEALTH: _health,
    EventKind.ATTEMPT_FAILED: _attempt_failed,
    EventKind.AGENT_EXITED: _agent_exited,
    EventKind.RESULTS: _results,
    EventKind.VERIFY_PASSED: _verify,
    EventKind.VERIFY_FAILED: _verify,
    EventKind.COMMAND_APPLIED: _command_applied,
    EventKind.TASK_REQUEUED: _task_requeued,
    EventKind.TURN_USAGE: _turn_usage,
}


def event_detail(ev: Event) -> str:
    """The one-line detail of ``ev``: what a reader needs to know beyond its kind."""
    return _DETAILS.get(ev.kind, _generic)(ev.data)


def format_event(ev: Event) -> str:
    when = datetime.fromtimestamp(ev.time).strftime("%H:%M:%S")
    who = f"{ev.task}-{ev.attempt}" if ev.task and ev.attempt else (ev.task or "-")
    line = f"{when} {ev.seq:>5} {who:<22} {ev.kind:<16} {event_detail(ev)}".rstrip()
    return term_safe(line)  # agent text never reaches a terminal raw


def task_row(t: TaskView, max_attempts: int, now: float) -> dict[str, Any]:
    runtime = None
    if t.started_at is not None:
        runtime = (t.ended_at or now) - t.started_at if t.state in ACTIVE or t.ended_at else None
    return {
        "id": t.id,
        "title": t.spec.title,
        "state": str(t.state),
        "attempt": t.attempt - t.attempt_base,
        "attempt_number": t.attempt,
        "max_attempts": t.spec.max_attempts or max_attempts,
        "role": t.spec.role,
        "agent": t.spec.agent,
        "health": str(t.health),
        "reason": t.reason,
        "parent": t.spec.parent,
        "depends_on": list(t.spec.depends_on),
        "files": list(t.spec.files),
        "last_progress": t.last_progress,
        "last_progress_age_s": None if t.last_progress_at is None
        else round(now - t.last_progress_at, 1),
        "runtime_s": None if runtime is None else round(runtime, 1),
        "outputs": t.outputs,
        "summary": t.summary,
        "cost_usd": round(t.cost_usd, 4),
        "tokens": t.tokens,
        "window": t.window,
        # Readings beside liveness (model/readings.py): context fill, readiness check, drift.
        "health_text": health_text(t),
        "context_pct": t.context_pct,
        "context_tokens": t.context_tokens,
        "context_window": t.context_window,
        "context_relaunches": t.context_relaunches,
        "check": dict(t.check) if t.check is not None else None,
        "drift": list(t.drift),
    }


def crash_line(c: Crash, *, hint: bool = True) -> str:
    """The supervisor's last crash, for people: when, what, and where the traceback is."""
    return crash_text(c.time, c.error, c.resumed, hint=hint)


def alert_text(ev: Event) -> str | None:
    """A one-line alert for ``ev``, or None when it is routine (a healthy heartbeat, say)."""
    from swarmtui.model.alerts import raised_by

    r = raised_by(ev)
    return term_safe(r.text) if r is not None else None
