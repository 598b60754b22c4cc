"""Payloads of tasks: added, blocked, requeued, dead, cancelled, merged."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from swarmtui.model.kinds import Cause, DeadWhy, EventKind
from swarmtui.model.payloads.base import Payload, _register
from swarmtui.model.spec import TaskSpec


@_register
class TaskAdded(Payload):
    KIND = EventKind.TASK_ADDED
    spec: TaskSpec
    attempt_base: int = 0
    held: str = ""  # a spawned task whose prompt is quarantined: it waits for approval


@_register
class TaskBlocked(Payload):
    KIND = EventKind.TASK_BLOCKED
    reason: str
    waiting_for: list[str] = Field(default_factory=list)


@_register
class TaskUnblocked(Payload):
    KIND = EventKind.TASK_UNBLOCKED


class ResolveBrief(BaseModel):
    """What a resolver attempt is told about the conflict it resolves."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    conflicts: list[str]
    theirs: list[str] = Field(default_factory=list)


@_register
class TaskRequeued(Payload):
    KIND = EventKind.TASK_REQUEUED
    reason: str = ""
    cause: Cause | None = None
    not_before: float = 0.0
    delay_s: float = 0.0
    note: str = ""
    manual: bool = False
    resolve: ResolveBrief | None = None
    resume_session: str | None = None  # the next attempt continues this agent session
    follow_up: str = ""  # with resume_session: what the agent is told to do next
    allow: list[str] = Field(default_factory=list)  # permission rules granted from now on
    force: bool = False  # start even if the prompt does not fit the context window


@_register
class TaskDead(Payload):
    KIND = EventKind.TASK_DEAD
    reason: str
    why: DeadWhy
    cause: Cause | None = None


@_register
class TaskCancelled(Payload):
    KIND = EventKind.TASK_CANCELLED
    reason: str
    by: str = ""


@_register
class TaskMerged(Payload):
    KIND = EventKind.TASK_MERGED
    branch: str
    target: str
    commit: str
    method: str = "merge"
    summary: str = ""
    files_modified: list[str] = Field(default_factory=list)
    do_not_revert: bool = False
    added: dict[str, list[str]] = Field(default_factory=dict)
    verify_tail: str = ""
    landed_despite_failure: bool = False
    noop: bool = False
