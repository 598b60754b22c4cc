"""Plain data, typed events and the pure state machine.

The store keeps an append-only log of events; the state of a run is the projection of those
events (``project``). Nothing here does I/O, so replay is deterministic and unit-testable.
"""

from __future__ import annotations

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

__all__ = [
    "ACTIVE", "CAUSE_POLICY", "PAYLOADS", "STATE_OF_EVENT", "TERMINAL", "TRANSITIONS",
    "Alert", "AlertLevel", "AttemptRec", "Cause", "CausePolicy", "DeadWhy", "Event",
    "EventKind", "EventSchemaError", "ExitHow", "Health", "MergeItem", "MergeOutcomeKind",
    "NoteKind", "Payload", "Retry", "RunSettings", "RunState", "RunStatus", "TaskSpec", "TaskState",
    "TaskView", "UsageLimit", "apply", "can_transition", "check_transition", "decode",
    "next_state", "payloads", "project",
]
