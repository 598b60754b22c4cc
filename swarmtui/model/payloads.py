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


def decode(kind: str, data: dict[str, Any], *, where: str = "") -> Payload:
    """The typed payload of an event read from the store."""
    try:
        cls = PAYLOADS[EventKind(kind)]
    except ValueError:
        raise EventSchemaError(f"{where}unknown event kind {kind!r}") from None
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or '(payload)'}: {err['msg']}"
            for err in e.errors(include_url=False))
        raise EventSchemaError(f"{where}event {kind}: {problems}") from None


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
