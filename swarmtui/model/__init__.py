"""Plain data, typed events and the pure state machine.

The store keeps an append-only log of events; the state of a run is the projection of those
events (``project``). Nothing here does I/O, so replay is deterministic and unit-testable.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swarmtui.model import payloads
    from swarmtui.model.event import Event
    from swarmtui.model.fold import apply, next_state, project
    from swarmtui.model.kinds import (
        CAUSE_POLICY,
        AlertLevel,
        Cause,
        CausePolicy,
        DeadWhy,
        EventKind,
        ExitHow,
        Health,
        MergeOutcomeKind,
        NoteKind,
        Retry,
        RunStatus,
        TaskState,
    )
    from swarmtui.model.payloads import PAYLOADS, EventSchemaError, Payload, decode
    from swarmtui.model.spec import RunSettings, TaskSpec
    from swarmtui.model.state import (
        ACTIVE,
        TERMINAL,
        Alert,
        AttemptRec,
        MergeItem,
        RunState,
        TaskView,
        UsageLimit,
    )
    from swarmtui.model.transitions import (
        STATE_OF_EVENT,
        TRANSITIONS,
        can_transition,
        check_transition,
    )

# The names are loaded on first use: a process that needs one small part (the wrapper reads
# ``kinds``) does not pay for building every payload's validator at start.
_HOME: dict[str, str] = {
    "Event": "event",
    "apply": "fold", "next_state": "fold", "project": "fold",
    "AlertLevel": "kinds", "CAUSE_POLICY": "kinds", "Cause": "kinds", "CausePolicy": "kinds",
    "DeadWhy": "kinds", "EventKind": "kinds", "ExitHow": "kinds", "Health": "kinds",
    "MergeOutcomeKind": "kinds", "NoteKind": "kinds", "Retry": "kinds", "RunStatus": "kinds",
    "TaskState": "kinds",
    "EventSchemaError": "payloads", "PAYLOADS": "payloads", "Payload": "payloads",
    "decode": "payloads",
    "RunSettings": "spec", "TaskSpec": "spec",
    "ACTIVE": "state", "Alert": "state", "AttemptRec": "state", "MergeItem": "state",
    "RunState": "state", "TERMINAL": "state", "TaskView": "state", "UsageLimit": "state",
    "STATE_OF_EVENT": "transitions", "TRANSITIONS": "transitions", "can_transition": "transitions",
    "check_transition": "transitions",
}


def __getattr__(name: str) -> Any:
    if name == "payloads":
        return importlib.import_module("swarmtui.model.payloads")
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'swarmtui.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"swarmtui.model.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACTIVE", "CAUSE_POLICY", "PAYLOADS", "STATE_OF_EVENT", "TERMINAL", "TRANSITIONS",
    "Alert", "AlertLevel", "AttemptRec", "Cause", "CausePolicy", "DeadWhy", "Event",
    "EventKind", "EventSchemaError", "ExitHow", "Health", "MergeItem", "MergeOutcomeKind",
    "NoteKind", "Payload", "Retry", "RunSettings", "RunState", "RunStatus", "TaskSpec", "TaskState",
    "TaskView", "UsageLimit", "apply", "can_transition", "check_transition", "decode",
    "next_state", "payloads", "project",
]
