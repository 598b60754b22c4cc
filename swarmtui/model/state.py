"""The projected state of a run: every piece of it is folded from the event log.

Nothing here is kept anywhere else: the merge queue, the breaker's window, alerts and their
acknowledgements, usage limits and the run's own settings are all rebuilt by replaying the log,
so a supervisor that restarts (or any reader) sees exactly what the one before it saw.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from swarmtui.model.kinds import (
    AlertLevel,
    Cause,
    DeadWhy,
    EventKind,
    ExitHow,
    Health,
    NoteKind,
    RunStatus,
    TaskState,
)
from swarmtui.model.spec import RunSettings, TaskSpec

# States from which the task never moves again without an operator's action.
TERMINAL = frozenset({TaskState.PASSED, TaskState.MERGED, TaskState.DEAD, TaskState.CANCELLED})
# States that hold a slot.
ACTIVE = frozenset({TaskState.RUNNING, TaskState.VERIFYING})


@dataclass(frozen=True)
class Asked:
    """A permission request a live session waits on."""

    n: int  # per attempt: 1, 2, ...
    tool: str
    input: str  # the tool's input (JSON, cut)
    rule: str  # what would allow it
    at: float
    timeout: float  # seconds from ``at`` until it is denied unanswered

    @property
    def ref(self) -> str:
        return f"#{self.n}"


@dataclass
class TaskView:
    """The projected state of one task."""

    spec: TaskSpec
    state: TaskState = TaskState.PENDING
    attempt: int = 0  # the newest attempt number; 0 before the first spawn
    health: Health = Health.OK
    reason: str = ""  # why it is blocked, failed or dead (for people)
    cause: Cause | None = None  # why the newest attempt failed (for decisions)
    dead_why: DeadWhy | None = None
    not_before: float = 0.0  # earliest time of the next attempt (backoff)
    window: str | None = None
    ran_on: str = ""  # the agent config of the newest attempt (another CLI's after a failover)
    account: str | None = None  # the [[accounts]] entry the newest attempt runs on
    interactive: bool = False  # the newest attempt runs the CLI's own screen (mode)
    hook_at: float = 0.0  # when the newest hook read of its attempt was fired (interactive)
    started_at: float | None = None  # start of the current attempt
    ended_at: float | None = None
    last_progress_at: float | None = None
    last_progress: str = ""
    outputs: int | None = None
    summary: str = ""
    result_status: str | None = None
    result_at: float | None = None
    result_files: list[str] = field(default_factory=list)  # files_modified of results.json
    result_dnr: bool = False  # do_not_revert of results.json
    verify_tail: str = ""
    retry_note: str = ""
    failures: int = 0  # failed attempts that count towards max_attempts
    attempt_base: int = 0  # attempts used by earlier runs (numbers continue from here)
    progress_lines: int = 0  # progress lines of the current attempt already recorded
    progress_offset: int = 0  # byte offset in its progress.md just past the last line read
    signals_offset: int = 0  # the same in its signals.jsonl
    setup_running: bool = False  # the worktree's setup command runs; the agent has not started
    setup_done_at: float | None = None  # when it finished (the agent's clock starts there)
    children: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    tokens: int = 0
    diff: dict[str, Any] | None = None  # {"files", "insertions", "deletions"} of the attempt
    forecast: dict[str, Any] | None = None  # merge forecast (see engine/integrate/forecast.py)
    merged_at: float | None = None
    merge_note: str = ""  # why the last merge was refused
    conflicts: list[str] = field(default_factory=list)  # files of the last refused merge
    resolve: dict[str, Any] | None = None  # set when the next attempt resolves conflicts
    start_commit: str = ""  # the commit the current attempt's branch started from
    forecast_head: str = ""  # the branch commit the forecast was computed for
    note: str = ""  # what the agent CLI says right now: "API retry 3/10 (529)", ... (people)
    note_kind: NoteKind | None = None  # what that note is (decisions read this, not the words)
    last_heard_at: float | None = None  # newest progress line or sign of life from its CLI
    denied: list[str] = field(default_factory=list)  # permission rules the attempt lacked
    asks: list[Asked] = field(default_factory=list)  # its live session's requests, waiting
    allow: list[str] = field(default_factory=list)  # rules the operator granted (all attempts)
    resume_session: str | None = None  # the next attempt continues this agent session
    follow_up: str = ""  # what a resumed attempt is told to do
    force_context: bool = False  # start it even if its prompt does not fit the window
    context: dict[str, Any] | None = None  # the last context fit (tokens, window, level)
    review: dict[str, Any] | None = None  # the last review (verdict, attempt, summary, ...)
    held: str = ""  # the quarantine id of its prompt, while that waits for approval
    held_work: dict[str, int] = field(default_factory=dict)  # qid -> attempt: held summaries
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # tokens and cost per model
    # Readings beside liveness (model/readings.py), of the current attempt unless said:
    context_pct: float | None = None  # percent of the window the latest turn filled
    context_tokens: int | None = None  # tokens of the latest turn (input + cache read/write)
    context_window: int | None = None  # the model's window those are counted against
    context_relaunches: int = 0  # fresh relaunches for a full context (all attempts)
    check: dict[str, Any] | None = None  # the last readiness check (ok, code, line, at, runs)
    drift: list[str] = field(default_factory=list)  # changed files outside the declared scope

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass
class AttemptRec:
    """One attempt's process: from the slot it takes to the exit record that frees it."""

    task: str
    attempt: int
    window: str
    worktree: str
    branch: str
    agent: str
    runner: str = "local"
    spawned_at: float = 0.0
    started: bool = False  # its window (and wrapper) exists
    start_commit: str = ""
    pane_pid: int | None = None
    session_id: str | None = None  # the agent CLI's own session (to resume it)
    exit: ExitHow | None = None  # set once its process is known to be gone
    exit_record: Any = None  # the agent_exited payload (engine decisions read it)
    # tokens and cost of its turns per model, counted until an exit record reports its own
    turn_models: dict[str, dict[str, float]] = field(default_factory=dict)
    resolving: tuple[str, ...] = ()  # a resolver's files with conflict markers at its start
    account: str | None = None  # the [[accounts]] entry it runs on

    @property
    def id(self) -> str:
        return f"{self.task}-{self.attempt}"


@dataclass(frozen=True)
class MergeItem:
    task: str
    attempt: int
    auto: bool
    by: str = ""
    command_id: int | None = None


@dataclass
class Alert:
    """Something that needs the operator; repeats of the same condition collapse into one."""

    id: int  # the seq of the event that first raised it
    key: tuple[str, ...]
    kind: EventKind
    task: str | None
    attempt: int | None
    level: AlertLevel
    text: str
    first_time: float
    last_time: float
    last_seq: int
    count: int = 1
    acked: bool = False
    resolved: bool = False
    bell: bool = False
    ref: str = ""  # what an action on the alert names (a quarantined text's id, say)

    @property
    def open(self) -> bool:
        return not self.resolved


@dataclass
class Held:
    """A text held back from prompts, by the digest of its normalised form."""

    qid: str
    digest: str
    task: str | None
    attempt: int | None
    source: str
    reasons: list[str]
    excerpt: str
    first_seq: int
    count: int = 1
    state: str = "held"  # held | approved | rejected


@dataclass(frozen=True)
class Crash:
    """A supervisor crash (its ``supervisor_crashed`` event) and whether a supervisor has
    resumed the run since."""
    time: float
    error: str
    resumed: bool = False


@dataclass(frozen=True)
class UsageLimit:
    until: float
    limit_type: str = ""


@dataclass
class RunState:
    run: int = 0
    status: RunStatus = RunStatus.RUNNING
    repo: str = ""
    base: str = ""
    target: str = ""
    tasks_file: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    paused: bool = False
    breaker_open: bool = False
    breaker_reason: str = ""
    settings: RunSettings | None = None
    tasks: dict[str, TaskView] = field(default_factory=dict)
    attempts: dict[str, AttemptRec] = field(default_factory=dict)
    merge_queue: list[MergeItem] = field(default_factory=list)
    merging: MergeItem | None = None
    breaker_window: list[float] = field(default_factory=list)  # times of counted failures
    alerts: dict[int, Alert] = field(default_factory=dict)
    alert_keys: dict[tuple[str, ...], int] = field(default_factory=dict)  # open alerts by key
    usage_limits: dict[str, UsageLimit] = field(default_factory=dict)  # by account
    held_agents: dict[str, str] = field(default_factory=dict)  # agent -> why it is held
    granted: dict[str, list[str]] = field(default_factory=dict)  # role -> rules allowed live
    quarantine: dict[str, Held] = field(default_factory=dict)  # by qid

    def released(self) -> frozenset[str]:
        """Digests the operator approved: such text enters prompts as written."""
        return frozenset(h.digest for h in self.quarantine.values() if h.state == "approved")

    def refused(self) -> frozenset[str]:
        return frozenset(h.digest for h in self.quarantine.values() if h.state == "rejected")
    budget_exhausted: bool = False
    memory_low: bool = False
    disk_full: bool = False
    unsandboxed: str = ""  # why (some) agents run outside a sandbox; "" when none do
    last_seq: int = 0
    last_crash: Crash | None = None  # the supervisor's last crash in this run

    @property
    def usage_limited_until(self) -> float | None:
        """The latest time any usage limit of the run lifts, or None."""
        return max((u.until for u in self.usage_limits.values()), default=None)

    def ordered(self) -> list[TaskView]:
        return list(self.tasks.values())

    def active(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.state in ACTIVE]

    def open_attempts(self) -> list[AttemptRec]:
        """Attempts whose process may still exist (no exit recorded yet)."""
        return [a for a in self.attempts.values() if a.exit is None]

    def slots_used(self) -> int:
        """Active tasks plus attempts that ended in the log but whose process has not yet
        gone: a killed agent keeps its slot until its exit is recorded (kill before spawn)."""
        n = 0
        for t in self.tasks.values():
            if t.state in ACTIVE:
                n += 1
        for a in self.attempts.values():
            if a.exit is not None:
                continue
            owner = self.tasks.get(a.task)
            if owner is None or owner.state not in ACTIVE or owner.attempt != a.attempt:
                n += 1
        return n

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if not a.resolved]

    def pending_alerts(self) -> list[Alert]:
        """Open alerts nobody has acknowledged yet."""
        return [a for a in self.alerts.values() if not a.resolved and not a.acked]

    def copy(self) -> RunState:
        return copy.deepcopy(self)
