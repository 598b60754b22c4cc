"""One payload type per event kind, validated when written and when replayed.

A payload is a frozen pydantic model that forbids unknown fields, so a typo in the engine fails
at the ``emit`` that made it and a corrupt or hand-edited log fails at replay, naming the event
and the field. ``KIND`` ties each class to its ``EventKind``; ``PAYLOADS`` maps back.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swarmtui.errors import SwarmError
from swarmtui.model.kinds import Cause, DeadWhy, EventKind, ExitHow, Health
from swarmtui.model.spec import RunSettings, TaskSpec


class EventSchemaError(SwarmError):
    """An event whose payload does not match its kind's schema."""


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[EventKind]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


PAYLOADS: dict[EventKind, type[Payload]] = {}


def _register(cls: type[Payload]) -> type[Payload]:
    PAYLOADS[cls.KIND] = cls
    return cls


def _kind_class(kind: str, where: str) -> type[Payload]:
    cls = _BY_NAME.get(kind)
    if cls is None:
        raise EventSchemaError(f"{where}unknown event kind {kind!r}")
    return cls


def _schema_error(kind: str, where: str, e: ValidationError) -> EventSchemaError:
    problems = "; ".join(
        f"{'.'.join(str(x) for x in err['loc']) or '(payload)'}: {err['msg']}"
        for err in e.errors(include_url=False))
    return EventSchemaError(f"{where}event {kind}: {problems}")


def decode(kind: str, data: dict[str, Any], *, where: str = "") -> Payload:
    """The typed payload of an event given as plain data."""
    cls = _kind_class(kind, where)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise _schema_error(kind, where, e) from None


def decode_json(kind: str, raw: str | bytes, *, where: str = "") -> Payload:
    """The typed payload of an event read from the store as JSON text (parsed and checked in
    one pass, which is most of what replaying a long log costs)."""
    cls = _kind_class(kind, where)
    try:
        return cls.model_validate_json(raw)
    except ValidationError as e:
        raise _schema_error(kind, where, e) from None


# -- the run ---------------------------------------------------------------------------------


@_register
class RunStarted(Payload):
    KIND = EventKind.RUN_STARTED
    run: int
    repo: str
    base: str
    target: str
    tasks_file: str = ""
    pid: int = 0
    settings: RunSettings | None = None


@_register
class RunResumed(Payload):
    KIND = EventKind.RUN_RESUMED
    pid: int = 0
    settings: RunSettings | None = None  # set when the run's settings were replaced
    caller_config_differs: list[str] = Field(default_factory=list)


@_register
class RunFinished(Payload):
    KIND = EventKind.RUN_FINISHED
    ok: bool
    summary: dict[str, int] = Field(default_factory=dict)


@_register
class RunStopped(Payload):
    KIND = EventKind.RUN_STOPPED
    keep_agents: bool = False
    by: str = ""


@_register
class DispatchPaused(Payload):
    KIND = EventKind.DISPATCH_PAUSED
    by: str = ""


@_register
class DispatchResumed(Payload):
    KIND = EventKind.DISPATCH_RESUMED
    by: str = ""


@_register
class BreakerOpened(Payload):
    KIND = EventKind.BREAKER_OPENED
    reason: str
    failures: int = 0
    period_s: float = 0.0


@_register
class BudgetExhausted(Payload):
    KIND = EventKind.BUDGET_EXHAUSTED
    spent_usd: float
    budget_usd: float


@_register
class MemoryLow(Payload):
    KIND = EventKind.MEMORY_LOW
    available: int | None
    floor: int


@_register
class MemoryOk(Payload):
    KIND = EventKind.MEMORY_OK
    available: int | None = None


@_register
class DiskFull(Payload):
    KIND = EventKind.DISK_FULL
    error: str
    where: str = ""


@_register
class DiskOk(Payload):
    KIND = EventKind.DISK_OK


@_register
class UsageLimited(Payload):
    KIND = EventKind.USAGE_LIMITED
    until: float
    account: str = ""
    limit_type: str = ""
    source: str = ""


@_register
class UsageLimitLifted(Payload):
    KIND = EventKind.USAGE_LIMIT_LIFTED
    until: float
    account: str = ""


@_register
class TmuxServerGone(Payload):
    KIND = EventKind.TMUX_SERVER_GONE
    count: int


@_register
class TmuxError(Payload):
    KIND = EventKind.TMUX_ERROR
    error: str


@_register
class WatcherRearmed(Payload):
    KIND = EventKind.WATCHER_REARMED
    reason: str


@_register
class CommandApplied(Payload):
    KIND = EventKind.COMMAND_APPLIED
    id: int
    command: str
    source: str
    status: Literal["done", "failed", "refused"]
    result: dict[str, Any] = Field(default_factory=dict)


@_register
class AlertAcked(Payload):
    KIND = EventKind.ALERT_ACKED
    alert: int
    by: str = ""


@_register
class AgentHeld(Payload):
    """No new attempt of this agent config starts until an operator resumes dispatch (its API
    key was refused, say)."""

    KIND = EventKind.AGENT_HELD
    agent: str
    reason: str


@_register
class SpawnRefused(Payload):
    KIND = EventKind.SPAWN_REFUSED
    reason: str
    requester: str = ""
    prompt: str = ""


# -- tasks -----------------------------------------------------------------------------------


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

    model_config = ConfigDict(frozen=True, extra="forbid")
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


# -- attempts --------------------------------------------------------------------------------


@_register
class AttemptSpawned(Payload):
    """The attempt holds a slot from here on; its worktree and window are being made."""

    KIND = EventKind.ATTEMPT_SPAWNED
    window: str
    worktree: str
    branch: str
    agent: str
    base: str = ""  # the ref it starts from
    handoff: bool = False
    runner: str = "local"
    resumes: str | None = None  # the agent session it continues


@_register
class AttemptStarted(Payload):
    """Its worktree exists and its wrapper runs in its window."""

    KIND = EventKind.ATTEMPT_STARTED
    start_commit: str
    pane_pid: int | None = None


@_register
class AttemptAdopted(Payload):
    KIND = EventKind.ATTEMPT_ADOPTED
    window: str
    alive: bool


@_register
class AttemptFailed(Payload):
    KIND = EventKind.ATTEMPT_FAILED
    cause: Cause
    reason: str
    counts_attempt: bool
    counts_breaker: bool
    health: Health | None = None
    not_before: float | None = None


class ModelUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: float = 0.0
    context_window: int | None = None


class AgentOutcome(BaseModel):
    """How the agent CLI said its last turn ended (from its own structured output)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    is_error: bool = False
    subtype: str = ""
    terminal_reason: str = ""
    api_status: int | None = None
    api_error: str = ""
    message: str = ""
    denials: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


@_register
class AgentExited(Payload):
    KIND = EventKind.AGENT_EXITED
    how: ExitHow
    code: int | None = None
    signal: str | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    usage_limited_until: float | None = None
    limit_type: str = ""
    session_id: str | None = None
    models: dict[str, ModelUsage] = Field(default_factory=dict)
    outcome: AgentOutcome | None = None
    retry_delay_s: float | None = None  # the agent CLI's last API back-off, if it said one


class Signal(Payload):
    """What the agent CLI said about itself; ``offset`` is how far signals.jsonl was read."""

    offset: int = 0


@_register
class AgentSession(Signal):
    KIND = EventKind.AGENT_SESSION
    session_id: str
    model: str = ""
    permission_mode: str = ""


@_register
class ApiRetry(Signal):
    """The agent CLI is retrying the API: alive, and counted as a heartbeat."""

    KIND = EventKind.API_RETRY
    attempt: int
    max_retries: int = 0
    delay_ms: int = 0
    status: int | None = None
    error: str = ""


@_register
class ApiErrorSeen(Signal):
    KIND = EventKind.API_ERROR
    error: str = ""
    status: int | None = None
    api_error: str = ""


@_register
class RateLimit(Signal):
    KIND = EventKind.RATE_LIMIT
    status: str  # allowed | allowed_warning | rejected
    resets_at: float | None = None
    limit_type: str = ""
    utilization: float | None = None


@_register
class PermissionDenied(Signal):
    KIND = EventKind.PERMISSION_DENIED
    tool: str
    rule: str = ""
    message: str = ""


@_register
class AgentHook(Signal):
    """A hook of the agent CLI fired (Notification, Stop, StopFailure): it waits for input, it
    stopped, or it stopped on an error."""

    KIND = EventKind.AGENT_HOOK
    event: str
    notification_type: str = ""
    message: str = ""
    error: str = ""


@_register
class Progress(Payload):
    KIND = EventKind.PROGRESS
    status: str
    n: int
    offset: int = 0  # byte offset in progress.md just past this line
    outputs: int | None = None
    reread: bool = False  # the file was rewritten: counting started again from its start


class HealthEvidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    silent_s: float | None = None
    idle_s: float | None = None
    intervals: float | None = None
    last_progress_at: float | None = None
    waiting_s: float | None = None
    note: str = ""


@_register
class HealthChanged(Payload):
    KIND = EventKind.HEALTH
    health: Health
    evidence: HealthEvidence = Field(default_factory=HealthEvidence)


@_register
class Results(Payload):
    KIND = EventKind.RESULTS
    status: Literal["done", "failed", "blocked"]
    summary: str = ""
    files_modified: list[str] = Field(default_factory=list)
    do_not_revert: bool = False
    outputs: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


@_register
class ResultsInvalid(Payload):
    KIND = EventKind.RESULTS_INVALID
    error: str


@_register
class FileRefused(Payload):
    """An attempt's protocol file was not read: not a regular file, a link, or too large."""

    KIND = EventKind.FILE_REFUSED
    file: str
    why: str


@_register
class Diff(Payload):
    KIND = EventKind.DIFF
    files: int
    insertions: int
    deletions: int
    head: str = ""


class Revert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    task: str
    file: str
    lines: int
    example: str = ""


@_register
class Forecast(Payload):
    KIND = EventKind.FORECAST
    target: Literal["clean", "conflict"] | None
    files: list[str] = Field(default_factory=list)
    conflicts_with: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)
    head: str = ""
    target_commit: str = ""
    error: str = ""


@_register
class ContextFit(Payload):
    KIND = EventKind.CONTEXT_FIT
    tokens: int
    window: int
    fraction: float
    counted: bool
    level: str
    sentence: str = ""


@_register
class ReviewRecorded(Payload):
    """A model's review of the attempt (``ok`` False: no review, and ``error`` says why)."""

    KIND = EventKind.REVIEW
    ok: bool
    verdict: Literal["approve", "request_changes", "reject"] | None = None
    confidence: float = 0.0
    summary: str = ""
    concerns: list[dict[str, Any]] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str = ""
    error: str = ""


@_register
class VerifyStarted(Payload):
    KIND = EventKind.VERIFY_STARTED
    command: str = ""


@_register
class VerifyPassed(Payload):
    KIND = EventKind.VERIFY_PASSED
    code: int | None = 0
    tail: str = ""
    seconds: float = 0.0


@_register
class VerifyFailed(Payload):
    KIND = EventKind.VERIFY_FAILED
    code: int | None
    tail: str = ""
    seconds: float = 0.0
    timed_out: bool = False


@_register
class TextQuarantined(Payload):
    """Text one agent wrote was held back from other agents' prompts: the screen flagged it.

    ``excerpt`` is short and terminal-safe; the full text is kept for the operator in
    ``.swarm/quarantine/<qid>.txt`` (0600). The same text flagged again (same digest) is the
    same quarantine: repeats collapse."""

    KIND = EventKind.TEXT_QUARANTINED
    qid: str
    digest: str
    source: str
    reasons: list[str] = Field(default_factory=list)
    sentences: list[str] = Field(default_factory=list)
    excerpt: str = ""
    score: float = 0.0
    length: int = 0
    judged: str = ""  # what the model-backed judge said, when it was asked


@_register
class TextApproved(Payload):
    KIND = EventKind.TEXT_APPROVED
    qid: str
    digest: str
    by: str = ""


@_register
class TextRejected(Payload):
    KIND = EventKind.TEXT_REJECTED
    qid: str
    digest: str
    by: str = ""


@_register
class InjectionFlagged(Payload):
    KIND = EventKind.INJECTION_FLAGGED
    source: str
    flags: list[str]
    excerpt: str = ""


# -- fan-in ----------------------------------------------------------------------------------


@_register
class MergeQueued(Payload):
    KIND = EventKind.MERGE_QUEUED
    auto: bool
    by: str = ""
    command_id: int | None = None


@_register
class MergeStarted(Payload):
    KIND = EventKind.MERGE_STARTED


@_register
class MergeRefused(Payload):
    KIND = EventKind.MERGE_REFUSED
    reason: str
    conflicts: list[str] = Field(default_factory=list)
    dirty: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)


@_register
class MergeLanded(Payload):
    """A merge landed although its task had moved on meanwhile."""

    KIND = EventKind.MERGE_LANDED
    commit: str
    note: str = ""


@_register
class IntegrationFailed(Payload):
    KIND = EventKind.INTEGRATION_FAILED
    reason: str
    tail: str = ""
    landed: bool = False


@_register
class FeaturePassed(Payload):
    KIND = EventKind.FEATURE_PASSED
    file: str
    index: int


@_register
class FeatureWritebackFailed(Payload):
    KIND = EventKind.FEATURE_WRITEBACK_FAILED
    file: str
    index: int
    error: str


def _check_complete() -> None:
    missing = [k for k in EventKind if k not in PAYLOADS]
    if missing:  # pragma: no cover - a programming error caught on import
        raise RuntimeError(f"event kinds without a payload type: {missing}")


_check_complete()
_BY_NAME: dict[str, type[Payload]] = {k.value: cls for k, cls in PAYLOADS.items()}
