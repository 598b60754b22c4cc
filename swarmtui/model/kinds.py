"""The closed vocabularies of the log: event kinds, failure causes, states and health.

Every decision the engine makes reads one of these enums, never the wording of a message: a
failure's cause decides whether it counts, whether it is retried and how long to wait; the
sentence beside it is for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from swarmtui.refusal import Refusal as Refusal  # re-exported: the model's vocabulary


class TaskState(StrEnum):
    PENDING = "pending"
    BLOCKED = "blocked"
    RUNNING = "running"
    VERIFYING = "verifying"
    PASSED = "passed"
    FAILED = "failed"
    MERGED = "merged"
    DEAD = "dead"
    CANCELLED = "cancelled"


class Health(StrEnum):
    OK = "ok"
    QUIET = "quiet"
    STUCK = "stuck"
    UNPRODUCTIVE = "unproductive"
    STALE_RESULT = "stale_result"
    CRASHED = "crashed"
    ORPHAN = "orphan"
    LOST = "lost"
    CONTEXT = "context"  # its context window is filling (heartbeat.context_warn)
    CHECK_FAILING = "check_failing"  # its task's readiness check fails


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    BREAKER_OPEN = "breaker_open"
    FINISHED = "finished"
    STOPPED = "stopped"


class EventKind(StrEnum):
    # the run
    RUN_STARTED = "run_started"
    RUN_RESUMED = "run_resumed"
    RUN_FINISHED = "run_finished"
    RUN_STOPPED = "run_stopped"
    DISPATCH_PAUSED = "dispatch_paused"
    DISPATCH_RESUMED = "dispatch_resumed"
    BREAKER_OPENED = "breaker_opened"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MEMORY_LOW = "memory_low"
    MEMORY_OK = "memory_ok"
    DISK_FULL = "disk_full"
    DISK_OK = "disk_ok"
    SANDBOX_CHECKED = "sandbox_checked"  # whether agents run in a sandbox here
    USAGE_LIMITED = "usage_limited"
    USAGE_LIMIT_LIFTED = "usage_limit_lifted"
    TMUX_SERVER_GONE = "tmux_server_gone"
    TMUX_ERROR = "tmux_error"
    WATCHER_REARMED = "watcher_rearmed"
    SUPERVISOR_CRASHED = "supervisor_crashed"  # the loop died: the error and its traceback
    COMMAND_APPLIED = "command_applied"
    ALERT_ACKED = "alert_acked"
    SPAWN_REFUSED = "spawn_refused"
    AGENT_HELD = "agent_held"
    # tasks
    TASK_ADDED = "task_added"
    TASK_BLOCKED = "task_blocked"
    TASK_UNBLOCKED = "task_unblocked"
    TASK_REQUEUED = "task_requeued"
    TASK_DEAD = "task_dead"
    TASK_CANCELLED = "task_cancelled"
    TASK_MERGED = "task_merged"
    # attempts
    ATTEMPT_SPAWNED = "attempt_spawned"
    ATTEMPT_STARTED = "attempt_started"
    ATTEMPT_ADOPTED = "attempt_adopted"
    ATTEMPT_FAILED = "attempt_failed"
    AGENT_EXITED = "agent_exited"
    PROGRESS = "progress"
    HEALTH = "health"
    RESULTS = "results"
    RESULTS_INVALID = "results_invalid"
    FILE_REFUSED = "file_refused"
    AGENT_SESSION = "agent_session"
    API_RETRY = "api_retry"
    API_ERROR = "api_error"
    RATE_LIMIT = "rate_limit"
    PERMISSION_DENIED = "permission_denied"
    AGENT_HOOK = "agent_hook"
    SETUP = "setup"  # the worktree's setup command started, finished or failed
    AGENT_ACTIVITY = "agent_activity"  # a turn or tool call the agent CLI reported (alive)
    PERMISSION_ASKED = "permission_asked"  # a live session waits for a tool's permission
    PERMISSION_ANSWERED = "permission_answered"  # ... and was answered (by whom, how)
    OPERATOR_SAID = "operator_said"  # a message went into a live session
    TURN_INTERRUPTED = "turn_interrupted"  # a live session's turn was interrupted
    STEER_REFUSED = "steer_refused"  # a steering command without the attempt's token
    NET_REFUSED = "net_refused"  # the sandbox's API proxy refused a connection (network "api")
    RULE_GRANTED = "rule_granted"  # the operator allowed a tool rule for a task or a role
    WORKTREE_COPIED = "worktree_copied"
    CONTEXT_FIT = "context_fit"
    CONTEXT_FILL = "context_fill"  # how full the agent's context window is (latest turn)
    CONTEXT_RELAUNCH = "context_relaunch"  # ended at a turn boundary for a fresh session
    CHECK_RAN = "check_ran"  # the task's readiness check ran in the worktree
    SCOPE_DRIFT = "scope_drift"  # files changed outside the declared scope while working
    REVIEW = "review"
    DIFF = "diff"
    FORECAST = "forecast"
    VERIFY_STARTED = "verify_started"
    VERIFY_PASSED = "verify_passed"
    VERIFY_FAILED = "verify_failed"
    INJECTION_FLAGGED = "injection_flagged"  # swarmtui 0.1; now text_quarantined
    TEXT_QUARANTINED = "text_quarantined"
    TEXT_APPROVED = "text_approved"
    TEXT_REJECTED = "text_rejected"
    # fan-in
    MERGE_QUEUED = "merge_queued"
    MERGE_STARTED = "merge_started"
    MERGE_REFUSED = "merge_refused"
    MERGE_LANDED = "merge_landed"
    INTEGRATION_FAILED = "integration_failed"
    FEATURE_PASSED = "feature_passed"
    FEATURE_WRITEBACK_FAILED = "feature_writeback_failed"
    # appended after the original members
    TURN_USAGE = "turn_usage"  # tokens of one model answer the agent CLI printed, priced


class Cause(StrEnum):
    """Why an attempt ended without passing. The policy of each is in ``CAUSE_POLICY``."""

    CRASHED = "crashed"  # the agent exited without results.json
    STUCK = "stuck"  # killed: no progress line for heartbeat.stuck_after intervals
    VERIFY_FAILED = "verify_failed"
    REPORTED_FAILED = "reported_failed"
    REPORTED_BLOCKED = "reported_blocked"
    ORPHANED = "orphaned"  # the agent ended itself when the supervisor went silent
    LOST = "lost"  # its tmux server (or host) went away with it
    KILLED = "killed"  # by the operator
    CANCELLED = "cancelled"  # its task was cancelled
    STOPPED = "stopped"  # the run was stopped (swarmtui down)
    USAGE_LIMITED = "usage_limited"
    API_AUTH = "api_auth"
    API_RATE_LIMITED = "api_rate_limited"
    API_OVERLOADED = "api_overloaded"
    API_SERVER = "api_server"
    MAX_TURNS = "max_turns"
    MAX_BUDGET = "max_budget"
    NEEDS_PERMISSION = "needs_permission"
    COULD_NOT_START = "could_not_start"
    INTEGRATION_FAILED = "integration_failed"
    RETRIED = "retried"  # ended by the operator's retry, a fresh attempt follows
    TOO_LARGE = "too_large"  # its prompt and declared files do not fit the model's window
    SETUP_FAILED = "setup_failed"  # the worktree's setup command failed or timed out
    CONTEXT_FULL = "context_full"  # ended at a turn boundary to go on in a fresh session
    PROTECTED_PATHS = "protected_paths"  # its branch changes .swarm/ or another protected path
    VERIFY_UNRUNNABLE = "verify_unrunnable"  # the verify command could not run (exit 126/127)
    RESULTS_REFUSED = "results_refused"  # it wrote results.json, but not one that can be read
    API_CONTEXT_TOO_LONG = "api_context_too_long"  # the API refused: the context is too long


class NoteKind(StrEnum):
    """What the agent CLI says right now (``TaskView.note_kind``), folded from the typed signal
    that set ``TaskView.note``: decisions read this, the note's words are for people."""

    API_RETRY = "api_retry"  # an API call is being retried
    API_ERROR = "api_error"  # an API error was seen
    LIMIT_WARNING = "limit_warning"  # most of a usage limit is used
    USAGE_LIMITED = "usage_limited"  # a usage limit refused the agent
    PERMISSION_DENIED = "permission_denied"  # a tool was denied
    WAITING_PERMISSION = "waiting_permission"  # it asks a person for a permission
    WAITING_INPUT = "waiting_input"  # it waits for a person's input
    STOPPED_ON_ERROR = "stopped_on_error"  # it stopped on an error
    STOPPED = "stopped"  # it stopped (its turn ended)
    SETUP_RUNNING = "setup_running"  # the worktree's setup command runs
    INTERRUPTED = "interrupted"  # the operator interrupted its turn: it waits for a message
    SETUP_FAILED = "setup_failed"  # the worktree's setup command failed


class Retry(StrEnum):
    AUTO = "auto"  # a fresh attempt follows by itself (within max_attempts)
    OPERATOR = "operator"  # the task waits for `swarmtui retry`
    NEVER = "never"  # the run is ending; nothing follows


@dataclass(frozen=True)
class CausePolicy:
    counts_attempt: bool  # towards max_attempts
    counts_breaker: bool  # towards the circuit breaker's window
    retry: Retry
    backoff: bool  # wait retry.backoff (doubling) before the next attempt
    dead_when_operator: bool = False  # an operator is needed: the task goes dead, not failed
    label: str = ""  # a few words for people


# Supervisor-style intent: crashes, stalls and bad work are the agent's failures (counted, with
# backoff, bounded by max_attempts and the breaker); losses that are not the task's fault (a
# dead tmux server, an orphaned agent, a usage limit, an overloaded API) are retried without
# counting against max_attempts; kills and blockers wait for a person.
CAUSE_POLICY: dict[Cause, CausePolicy] = {
    Cause.CRASHED: CausePolicy(True, True, Retry.AUTO, True, label="crashed"),
    Cause.STUCK: CausePolicy(True, True, Retry.AUTO, True, label="stuck"),
    Cause.VERIFY_FAILED: CausePolicy(True, True, Retry.AUTO, True, label="verify failed"),
    Cause.REPORTED_FAILED: CausePolicy(True, True, Retry.AUTO, True, label="reported failed"),
    Cause.REPORTED_BLOCKED: CausePolicy(True, False, Retry.OPERATOR, False, True,
                                        label="blocked: needs an operator"),
    Cause.ORPHANED: CausePolicy(False, False, Retry.AUTO, False, label="orphaned"),
    Cause.LOST: CausePolicy(False, False, Retry.AUTO, False, label="lost"),
    Cause.KILLED: CausePolicy(False, False, Retry.OPERATOR, False, label="killed by operator"),
    Cause.CANCELLED: CausePolicy(False, False, Retry.NEVER, False, label="cancelled"),
    Cause.STOPPED: CausePolicy(False, False, Retry.NEVER, False, label="run stopped"),
    Cause.USAGE_LIMITED: CausePolicy(False, False, Retry.AUTO, False, label="usage limited"),
    Cause.API_AUTH: CausePolicy(False, False, Retry.OPERATOR, False,
                                label="API authentication failed"),
    Cause.API_RATE_LIMITED: CausePolicy(False, True, Retry.AUTO, False, label="API rate limit"),
    Cause.API_OVERLOADED: CausePolicy(False, True, Retry.AUTO, True, label="API overloaded"),
    Cause.API_SERVER: CausePolicy(False, True, Retry.AUTO, True, label="API server error"),
    Cause.MAX_TURNS: CausePolicy(True, True, Retry.AUTO, True, label="hit max turns"),
    Cause.MAX_BUDGET: CausePolicy(True, False, Retry.OPERATOR, False, label="hit max budget"),
    Cause.NEEDS_PERMISSION: CausePolicy(False, False, Retry.OPERATOR, False,
                                        label="needs permission"),
    Cause.COULD_NOT_START: CausePolicy(True, True, Retry.AUTO, True, label="could not start"),
    Cause.INTEGRATION_FAILED: CausePolicy(True, True, Retry.AUTO, True,
                                          label="integration check failed"),
    Cause.RETRIED: CausePolicy(False, False, Retry.NEVER, False, label="retried by operator"),
    Cause.TOO_LARGE: CausePolicy(False, False, Retry.OPERATOR, False,
                                 label="too large for the context window"),
    # A flaky install is retried; a broken setup command trips the breaker, not every task.
    Cause.SETUP_FAILED: CausePolicy(True, True, Retry.AUTO, True, label="worktree setup failed"),
    # Not a failure of the work: the same worktree goes on in a fresh session at once, bounded
    # by heartbeat.context_relaunches rather than max_attempts or the breaker.
    Cause.CONTEXT_FULL: CausePolicy(False, False, Retry.AUTO, False,
                                    label="context full: relaunched fresh"),
    # Neither is fixed by trying again: the operator decides (retry, edit the task or config).
    Cause.PROTECTED_PATHS: CausePolicy(True, False, Retry.OPERATOR, False,
                                       label="changes protected paths"),
    Cause.VERIFY_UNRUNNABLE: CausePolicy(False, False, Retry.OPERATOR, False,
                                         label="verify command cannot run"),
    # The agent's own fault, like a crash: counted, retried with backoff.
    Cause.RESULTS_REFUSED: CausePolicy(True, True, Retry.AUTO, True,
                                       label="results.json refused"),
    # The same request would be refused again: the operator splits the task or retries it.
    Cause.API_CONTEXT_TOO_LONG: CausePolicy(False, False, Retry.OPERATOR, False,
                                            label="context too long for the model"),
}


class ExitHow(StrEnum):
    """How an agent's process ended, as its wrapper (or the loss of its pane) tells."""

    EXITED = "exited"  # it exited by itself
    TERMINATED = "terminated"  # ended on request (TERM or INT to the wrapper)
    HANGUP = "hangup"  # its window or the tmux server went away (HUP to the wrapper)
    ORPHANED = "orphaned"  # the wrapper ended it: the supervisor's heartbeat went silent
    NOT_STARTED = "not_started"  # the wrapper could not start it
    SETUP_FAILED = "setup_failed"  # the worktree's setup failed: the agent was never started
    VANISHED = "vanished"  # the pane went away without an exit record


class DeadWhy(StrEnum):
    GAVE_UP = "gave_up"  # max_attempts reached
    NEEDS_OPERATOR = "needs_operator"
    DEPENDENCY = "dependency"  # a dependency died or was cancelled
    DEPENDENCY_UNMERGED = "dependency_unmerged"  # auto-merge refused a dependency


class MergeOutcomeKind(StrEnum):
    MERGED = "merged"
    REFUSED = "refused"
    INTEGRATION_FAILED = "integration_failed"


class AlertLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "information"
