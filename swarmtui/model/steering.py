"""Folding a live session's requests and the operator's answers into the task's view (pure).

``fold.py`` registers ``STEERING_FOLDERS`` with its own and calls ``reset_steering`` when an
attempt is spawned or exits: what the session asked ends with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from swarmtui.model import payloads as p
from swarmtui.model.event import Event
from swarmtui.model.kinds import EventKind, NoteKind
from swarmtui.model.state import Asked, RunState, TaskView
from swarmtui.textsafe import term_safe


def input_lines(raw: str) -> list[str]:
    """The tool's input for people: a command as it would be typed, else its fields."""
    try:
        data = json.loads(raw)
    except ValueError:
        return [term_safe(raw)]
    if not isinstance(data, dict):
        return [term_safe(raw)]
    out: list[str] = []
    if isinstance(data.get("command"), str):
        out.append("$ " + term_safe(data["command"]))
    for key, value in data.items():
        if key == "command":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out.append(f"{term_safe(str(key))}: {term_safe(text)}")
    return out


def reset_steering(t: TaskView) -> None:
    t.asks = []
    t.hook_at = 0.0


def _offset(t: TaskView, ev: Event) -> bool:
    """Counts the signal as read; True when it is about the task's current attempt."""
    if t.attempt != ev.attempt:
        return False
    if isinstance(ev.payload, p.Signal):
        t.signals_offset = max(t.signals_offset, ev.payload.offset)
    t.last_heard_at = ev.time
    return True


def asking_text(t: TaskView) -> str:
    """What waits, for people: the oldest request's rule and how many more ("" for none)."""
    if not t.asks:
        return ""
    more = f" (+{len(t.asks) - 1} more)" if len(t.asks) > 1 else ""
    return f"asks to use {t.asks[0].rule}{more}"


def asking_note(t: TaskView) -> None:
    """The task's note while requests wait: the oldest one, for people."""
    if t.asks:
        t.note_kind, t.note = NoteKind.WAITING_PERMISSION, asking_text(t)
    elif t.note_kind == NoteKind.WAITING_PERMISSION:
        t.note_kind, t.note = None, ""


def _asked(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.PermissionAsked)
    if not _offset(t, ev) or any(a.n == pl.request for a in t.asks):
        return
    t.asks.append(Asked(pl.request, pl.tool, pl.input, pl.rule or pl.tool, ev.time, pl.timeout))
    asking_note(t)


def _answered(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.PermissionAnswered)
    if not _offset(t, ev):
        return
    t.asks = [a for a in t.asks if a.n != pl.request]
    asking_note(t)


WAITING = (NoteKind.WAITING_INPUT, NoteKind.WAITING_PERMISSION)
# Hooks of an interactive session that say it works again (the operator spoke, a tool runs).
WORKING_HOOKS = frozenset({"UserPromptSubmit", "PreToolUse", "PostToolUse", "SessionStart"})


def waits_on_operator(t: TaskView) -> bool:
    """Its live session waits for a person (a request, or a message after an interrupt), or
    its interactive screen does (its turn ended, or it asks in its own dialog): silence now is
    not the agent's."""
    return bool(t.asks) or t.note_kind == NoteKind.INTERRUPTED or (
        t.interactive and t.note_kind in WAITING)


def interactive_note(pl: p.AgentHook, t: TaskView) -> tuple[NoteKind | None, str] | None:
    """What a hook says of an interactive session: a turn that ended (Stop) leaves the CLI's
    own prompt waiting for the operator, a Notification is its dialog or its idle prompt, and
    a prompt submitted or a tool running clears the wait (None, ""). A headless session's Stop
    is its end instead, which is why this reading is the interactive mode's alone. A hook
    fired before the newest one read (its detached reader was slower) says nothing now."""
    if pl.at and pl.at < t.hook_at:
        return None
    t.hook_at = max(t.hook_at, pl.at)
    if pl.event == "Stop":
        return NoteKind.WAITING_INPUT, "waiting for you"
    if pl.event == "Notification":
        if "permission" in pl.notification_type:
            return NoteKind.WAITING_PERMISSION, "waiting for you: permission"
        return NoteKind.WAITING_INPUT, "waiting for you"
    if pl.event in WORKING_HOOKS and t.note_kind in WAITING:
        return None, ""
    if pl.event == "StopFailure":
        return NoteKind.STOPPED_ON_ERROR, f"stopped on {pl.error or 'an error'}".replace(
            "_", " ")
    return None


def _heard(run: RunState, t: TaskView, ev: Event) -> None:
    _offset(t, ev)


def _said(run: RunState, t: TaskView, ev: Event) -> None:
    if _offset(t, ev) and ev.get(p.OperatorSaid).outcome == "delivered" and (
            t.note_kind == NoteKind.INTERRUPTED):
        t.note_kind, t.note = None, ""
        asking_note(t)


def _interrupted(run: RunState, t: TaskView, ev: Event) -> None:
    if _offset(t, ev) and ev.get(p.TurnInterrupted).outcome == "delivered" and not t.asks:
        t.note_kind, t.note = NoteKind.INTERRUPTED, "interrupted: waits for your message"


def _granted(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.RuleGranted)
    if pl.scope == "task":
        if pl.rule not in t.allow:
            t.allow = sorted({*t.allow, pl.rule})
    else:
        rules = run.granted.setdefault(pl.role or t.spec.role, [])
        if pl.rule not in rules:
            rules.append(pl.rule)


STEERING_FOLDERS: dict[EventKind, Callable[[RunState, TaskView, Event], None]] = {
    EventKind.PERMISSION_ASKED: _asked,
    EventKind.PERMISSION_ANSWERED: _answered,
    EventKind.OPERATOR_SAID: _said,
    EventKind.TURN_INTERRUPTED: _interrupted,
    EventKind.STEER_REFUSED: _heard,
    EventKind.RULE_GRANTED: _granted,
}
