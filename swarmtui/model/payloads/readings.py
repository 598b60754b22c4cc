"""Payloads of readings taken of a running attempt beside its liveness: how full its context
window is, what its task's readiness check says, and which files it changed outside its scope.
"""

from __future__ import annotations

from typing import Annotated, Literal

import annotated_types as at
from pydantic import Field

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register

ContextLevel = Literal["ok", "warn", "act"]
WindowFrom = Literal["agent", "run", "config"]

DRIFT_FILES_CAP = 50  # files named in one scope_drift event (the count says how many in all)
CHECK_LINE_CAP = 300  # characters of a readiness check's last output line
CHECK_TAIL_CAP = 2000  # characters of its output's tail


@_register
class ContextFill(Payload):
    """The tokens of the agent's latest turn (input, cache read and cache creation) against
    its model's window, at a turn boundary. Recorded when the fill moved by a few percent or
    its level changed, not for every turn. ``offset`` is how far signals.jsonl was read.

    ``window_from`` says where the window came from: the agent CLI's own report, an earlier
    attempt of the run on the same model, or ``[context] window``."""

    KIND = EventKind.CONTEXT_FILL
    tokens: Annotated[int, at.Ge(0)]
    window: Annotated[int, at.Ge(1)]
    pct: Annotated[float, at.Ge(0)]  # percent of the window, one decimal
    level: ContextLevel = "ok"
    model: str = ""
    window_from: WindowFrom = "config"
    turn: int = 0  # main-conversation turns the agent had finished
    offset: int = 0


@_register
class ContextRelaunch(Payload):
    """The attempt is ended at a turn boundary so that the task goes on in a fresh session
    (``heartbeat.context_action = "relaunch"``), in the same worktree, with a handoff. ``n``
    counts the task's relaunches, this one included; ``limit`` is heartbeat.context_relaunches.
    """

    KIND = EventKind.CONTEXT_RELAUNCH
    pct: float
    tokens: int
    window: int
    act_at: float  # heartbeat.context_act, as a fraction
    n: int
    limit: int


@_register
class CheckRan(Payload):
    """The task's readiness check (its ``check`` command) ran in the worktree."""

    KIND = EventKind.CHECK_RAN
    ok: bool
    code: int | None = None  # None: timed out or could not be started
    seconds: float = 0.0
    timed_out: bool = False
    line: Annotated[str, at.MaxLen(CHECK_LINE_CAP)] = ""  # its last non-empty output line
    tail: Annotated[str, at.MaxLen(CHECK_TAIL_CAP)] = ""
    error: str = ""  # why it could not be run


@_register
class ScopeDrift(Payload):
    """Files the attempt changed (committed or not) that its task's ``files`` scope does not
    match, as the productivity sample saw them; an empty list: back within scope."""

    KIND = EventKind.SCOPE_DRIFT
    files: list[str] = Field(default_factory=list, max_length=DRIFT_FILES_CAP)
    count: int = 0  # all of them (``files`` names at most DRIFT_FILES_CAP)
