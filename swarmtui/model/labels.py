"""Words for people: every state, health value and failure cause as an operator reads it."""

from __future__ import annotations

from swarmtui.model.kinds import CAUSE_POLICY, Cause, Health, RunStatus, TaskState

STATE_LABEL: dict[TaskState, str] = {
    TaskState.PENDING: "queued",
    TaskState.BLOCKED: "blocked",
    TaskState.RUNNING: "running",
    TaskState.VERIFYING: "verifying",
    TaskState.PASSED: "passed",
    TaskState.FAILED: "failed",
    TaskState.MERGED: "merged",
    TaskState.DEAD: "dead",
    TaskState.CANCELLED: "cancelled",
}

HEALTH_LABEL: dict[Health, str] = {
    Health.OK: "ok",
    Health.QUIET: "quiet",
    Health.STUCK: "stuck",
    Health.UNPRODUCTIVE: "unproductive",
    Health.STALE_RESULT: "waiting to merge",
    Health.CRASHED: "crashed",
    Health.ORPHAN: "orphaned",
    Health.LOST: "lost",
    Health.CONTEXT: "context filling",
    Health.CHECK_FAILING: "check failing",
}

HEALTH_MEANING: dict[Health, str] = {
    Health.OK: "reporting progress",
    Health.QUIET: "no progress line for a while (an alert, nothing is done yet)",
    Health.STUCK: "no progress line for too long: killed and requeued",
    Health.UNPRODUCTIVE: "progress lines, but no new outputs, diff or log output",
    Health.STALE_RESULT: "passed, but nobody merged it yet",
    Health.CRASHED: "the agent ended without writing results.json",
    Health.ORPHAN: "the agent ended itself when the supervisor went silent",
    Health.LOST: "its tmux server went away",
    Health.CONTEXT: "its context window is filling (heartbeat.context_warn); with "
                    "context_action = \"relaunch\" it goes on in a fresh session",
    Health.CHECK_FAILING: "the task's readiness check fails in its worktree",
}

RUN_LABEL: dict[RunStatus, str] = {
    RunStatus.RUNNING: "running",
    RunStatus.PAUSED: "paused",
    RunStatus.BREAKER_OPEN: "breaker open",
    RunStatus.FINISHED: "finished",
    RunStatus.STOPPED: "stopped",
}


def cause_label(cause: Cause | None) -> str:
    return CAUSE_POLICY[cause].label if cause is not None else ""
