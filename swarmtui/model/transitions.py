"""The task state machine: which event kinds move a task, and which moves are legal."""

from __future__ import annotations

from swarmtui.errors import IllegalTransition
from swarmtui.model.kinds import EventKind, TaskState

# The legal transitions. ``failed`` waits for a retry (automatic or by the operator);
# ``dead`` and ``passed`` can be revived by an explicit retry (a fresh attempt).
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    # pending/blocked -> dead: a dependency died, so this task can never start on its own.
    TaskState.PENDING: frozenset(
        {TaskState.RUNNING, TaskState.BLOCKED, TaskState.CANCELLED, TaskState.DEAD}
    ),
    # blocked -> blocked: the reason changed (waiting for another task now).
    TaskState.BLOCKED: frozenset(
        {TaskState.BLOCKED, TaskState.PENDING, TaskState.RUNNING, TaskState.CANCELLED,
         TaskState.DEAD}
    ),
    TaskState.RUNNING: frozenset({TaskState.VERIFYING, TaskState.FAILED, TaskState.CANCELLED}),
    TaskState.VERIFYING: frozenset({TaskState.PASSED, TaskState.FAILED, TaskState.CANCELLED}),
    TaskState.PASSED: frozenset(
        {TaskState.MERGED, TaskState.FAILED, TaskState.PENDING, TaskState.VERIFYING}
    ),
    TaskState.FAILED: frozenset(
        {TaskState.PENDING, TaskState.DEAD, TaskState.CANCELLED, TaskState.VERIFYING}
    ),
    TaskState.DEAD: frozenset({TaskState.PENDING, TaskState.CANCELLED}),
    TaskState.MERGED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}

# Event kinds that move a task to a new state.
STATE_OF_EVENT: dict[EventKind, TaskState] = {
    EventKind.ATTEMPT_SPAWNED: TaskState.RUNNING,
    EventKind.VERIFY_STARTED: TaskState.VERIFYING,
    EventKind.VERIFY_PASSED: TaskState.PASSED,
    EventKind.ATTEMPT_FAILED: TaskState.FAILED,
    EventKind.TASK_REQUEUED: TaskState.PENDING,
    EventKind.TASK_BLOCKED: TaskState.BLOCKED,
    EventKind.TASK_UNBLOCKED: TaskState.PENDING,
    EventKind.TASK_DEAD: TaskState.DEAD,
    EventKind.TASK_CANCELLED: TaskState.CANCELLED,
    EventKind.TASK_MERGED: TaskState.MERGED,
}


def can_transition(src: TaskState, dst: TaskState) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(task: str, src: TaskState, dst: TaskState) -> None:
    if not can_transition(src, dst):
        allowed = ", ".join(sorted(TRANSITIONS[src])) or "nothing (terminal)"
        raise IllegalTransition(f"task {task}: cannot go from {src} to {dst} (allowed: {allowed})")
