"""A task's events in words for the Events tab (pure).

The CLI's ``events`` prints the log's own names; the TUI says the same in words: states,
health and causes through their labels (``model/labels.py``), evidence as sentences, never a
raw field name. Everything is made terminal-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from swarmtui.model import Event, EventKind
from swarmtui.model import payloads as p
from swarmtui.model.labels import HEALTH_LABEL, cause_label
from swarmtui.render import event_detail
from swarmtui.textsafe import term_safe


def _short(s: str, n: int = 100) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _health(ev: Event) -> str:
    pl = ev.get(p.HealthChanged)
    e = pl.evidence
    bits = [f"silent for {e.silent_s:.0f}s" if e.silent_s else "",
            f"idle for {e.idle_s:.0f}s" if e.idle_s else "",
            f"waiting for {e.waiting_s:.0f}s" if e.waiting_s else "", e.note]
    why = "; ".join(b for b in bits if b)
    return HEALTH_LABEL[pl.health] + (f" ({why})" if why else "")


def _failed(ev: Event) -> str:
    pl = ev.get(p.AttemptFailed)
    label = cause_label(pl.cause)
    reason = _short(pl.reason)
    counted = "" if pl.counts_attempt else " (not counted)"
    return (label if not reason or reason == label else f"{label}: {reason}") + counted


def _forecast(ev: Event) -> str:
    pl = ev.get(p.Forecast)
    if pl.error:
        return f"not computed: {_short(pl.error)}"
    if pl.target is None:
        return "not computed yet"
    out = pl.target + (f" in {', '.join(pl.files)}" if pl.target == "conflict" and pl.files
                       else "")
    if pl.conflicts_with:
        out += f"; conflicts with {', '.join(pl.conflicts_with)}"
    if pl.out_of_scope:
        out += f"; outside its files: {', '.join(pl.out_of_scope)}"
    if pl.reverts:
        out += f"; undoes ledger lines of {', '.join(sorted({r.task for r in pl.reverts}))}"
    return out


def _dead(ev: Event) -> str:
    pl = ev.get(p.TaskDead)
    return _short(pl.reason) or cause_label(pl.cause)


_WORDS: dict[EventKind, Callable[[Event], str]] = {
    EventKind.HEALTH: _health,
    EventKind.ATTEMPT_FAILED: _failed,
    EventKind.FORECAST: _forecast,
    EventKind.TASK_DEAD: _dead,
}


def describe(ev: Event) -> str:
    """What happened, in words, without the time and the task."""
    words = _WORDS.get(ev.kind)
    try:
        detail = words(ev) if words is not None else event_detail(ev)
    except (TypeError, ValueError):  # a payload of another shape (an old log): say less
        detail = ""
    kind = str(ev.kind).replace("_", " ")
    return f"{kind}: {detail}" if detail else kind


def format_event(ev: Event) -> str:
    when = datetime.fromtimestamp(ev.time).strftime("%H:%M:%S")
    who = f"{ev.task}-{ev.attempt}" if ev.task and ev.attempt else (ev.task or "run")
    return term_safe(f"{when}  {who:<16} {describe(ev)}".rstrip())
