"""Plain data and the pure state machine.

The store keeps an append-only log of events; the state of a run is the projection of those
events (``project``). Nothing here does I/O, so replay is deterministic and unit-testable.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from swarmtui.errors import IllegalTransition


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


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    BREAKER_OPEN = "breaker_open"
    FINISHED = "finished"
    STOPPED = "stopped"


# States from which the task never moves again without an operator's action.
TERMINAL = frozenset({TaskState.PASSED, TaskState.MERGED, TaskState.DEAD, TaskState.CANCELLED})
# States that hold a slot.
ACTIVE = frozenset({TaskState.RUNNING, TaskState.VERIFYING})

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


def can_transition(src: TaskState, dst: TaskState) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(task: str, src: TaskState, dst: TaskState) -> None:
    if not can_transition(src, dst):
        allowed = ", ".join(sorted(TRANSITIONS[src])) or "nothing (terminal)"
        raise IllegalTransition(f"task {task}: cannot go from {src} to {dst} (allowed: {allowed})")


@dataclass(frozen=True)
class TaskSpec:
    """What to do: a task as declared in a task file or added at run time."""

    id: str
    title: str
    prompt: str
    role: str
    agent: str
    files: tuple[str, ...] = ()
    verify: str | None = None
    depends_on: tuple[str, ...] = ()
    max_attempts: int | None = None  # None: the config's retry.max_attempts
    priority: int = 0
    source: str = ""  # "tasks.toml", "cli", "spawn:<agent id>", ...
    parent: str | None = None  # the task that spawned this one
    depth: int = 0
    manual: bool = False  # added by an operator or a spawn: may use the reserve
    feature: dict[str, Any] | None = None  # {"file": ..., "index": n} for feature-list tasks

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["files"] = list(self.files)
        d["depends_on"] = list(self.depends_on)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["files"] = tuple(kw.get("files") or ())
        kw["depends_on"] = tuple(kw.get("depends_on") or ())
        return cls(**kw)


@dataclass
class Event:
    seq: int
    time: float  # unix seconds
    kind: str
    task: str | None = None
    attempt: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    run: int = 0

    def to_json_obj(self) -> dict[str, Any]:
        from datetime import UTC, datetime

        return {
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds"),
            "run": self.run,
            "kind": self.kind,
            "task": self.task,
            "attempt": self.attempt,
            "data": self.data,
        }


@dataclass
class TaskView:
    """The projected state of one task."""

    spec: TaskSpec
    state: TaskState = TaskState.PENDING
    attempt: int = 0  # the newest attempt number; 0 before the first spawn
    health: Health = Health.OK
    reason: str = ""  # why it is blocked, failed or dead
    not_before: float = 0.0  # earliest time of the next attempt (backoff)
    window: str | None = None
    started_at: float | None = None  # start of the current attempt
    ended_at: float | None = None
    last_progress_at: float | None = None
    last_progress: str = ""
    outputs: int | None = None
    summary: str = ""
    result_status: str | None = None
    result_at: float | None = None
    verify_tail: str = ""
    retry_note: str = ""
    failures: int = 0  # failed attempts that count towards max_attempts
    attempt_base: int = 0  # attempts used by earlier runs (numbers continue from here)
    progress_lines: int = 0  # progress lines of the current attempt already recorded
    children: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    tokens: int = 0
    diff: dict[str, Any] | None = None  # {"files", "insertions", "deletions"} of the attempt
    forecast: dict[str, Any] | None = None  # merge forecast (see engine/forecast.py)
    merged_at: float | None = None
    merge_note: str = ""  # why the last merge was refused
    conflicts: list[str] = field(default_factory=list)  # files of the last refused merge
    resolve: dict[str, Any] | None = None  # set when the next attempt resolves conflicts
    start_commit: str = ""  # the commit the current attempt's branch started from

    @property
    def id(self) -> str:
        return self.spec.id


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
    usage_limited_until: float | None = None  # the agent CLI's usage limit, until this time
    tasks: dict[str, TaskView] = field(default_factory=dict)
    last_seq: int = 0

    def ordered(self) -> list[TaskView]:
        return list(self.tasks.values())

    def active(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.state in ACTIVE]

    def copy(self) -> RunState:
        return copy.deepcopy(self)


# Event kinds that move a task to a new state.
STATE_OF_EVENT: dict[str, TaskState] = {
    "attempt_spawned": TaskState.RUNNING,
    "verify_started": TaskState.VERIFYING,
    "verify_passed": TaskState.PASSED,
    "attempt_failed": TaskState.FAILED,
    "task_requeued": TaskState.PENDING,
    "task_blocked": TaskState.BLOCKED,
    "task_unblocked": TaskState.PENDING,
    "task_dead": TaskState.DEAD,
    "task_cancelled": TaskState.CANCELLED,
    "task_merged": TaskState.MERGED,
}


def next_state(run: RunState, ev: Event) -> TaskState | None:
    """The state ``ev`` would move its task to, or None when it changes no state."""
    if ev.task is None or ev.task not in run.tasks:
        return None
    return STATE_OF_EVENT.get(ev.kind)


def apply(run: RunState, ev: Event) -> RunState:
    """Fold one event into the run state, in place, and return it.

    Raises IllegalTransition when the event asks for a transition the machine forbids, so a
    corrupt or hand-edited log is caught at replay rather than silently misread.
    """
    d = ev.data
    run.last_seq = ev.seq
    k = ev.kind
    if k == "run_started":
        run.run = d.get("run", ev.run)
        run.repo = d.get("repo", "")
        run.base = d.get("base", "")
        run.target = d.get("target", "")
        run.tasks_file = d.get("tasks_file", "")
        run.started_at = ev.time
        run.status = RunStatus.RUNNING
        return run
    if k == "dispatch_paused":
        run.paused = True
    elif k == "dispatch_resumed":
        run.paused = False
        run.breaker_open = False
        run.breaker_reason = ""
    elif k == "usage_limited":
        until = float(d.get("until", 0.0))
        run.usage_limited_until = max(until, run.usage_limited_until or 0.0)
    elif k == "usage_limit_lifted":
        run.usage_limited_until = None
    elif k == "breaker_opened":
        run.breaker_open = True
        run.breaker_reason = d.get("reason", "")
    elif k == "run_finished":
        run.status = RunStatus.FINISHED
        run.ended_at = ev.time
    elif k == "run_stopped":
        run.status = RunStatus.STOPPED
        run.ended_at = ev.time
    elif k == "run_resumed":
        run.status = RunStatus.RUNNING
        run.ended_at = None
    elif k == "task_added":
        spec = TaskSpec.from_dict(d["spec"])
        run.tasks[spec.id] = TaskView(spec=spec, attempt=int(d.get("attempt_base", 0)),
                                      attempt_base=int(d.get("attempt_base", 0)))
        if spec.parent and spec.parent in run.tasks:
            run.tasks[spec.parent].children.append(spec.id)
    if run.status not in (RunStatus.FINISHED, RunStatus.STOPPED):
        run.status = (
            RunStatus.BREAKER_OPEN
            if run.breaker_open
            else RunStatus.PAUSED
            if run.paused
            else RunStatus.RUNNING
        )
    if ev.task is None or ev.task not in run.tasks:
        return run
    t = run.tasks[ev.task]
    dst = STATE_OF_EVENT.get(k)
    if dst is not None:
        check_transition(t.id, t.state, dst)
        t.state = dst
    if k == "attempt_spawned":
        t.attempt = ev.attempt or t.attempt + 1
        t.window = d.get("window")
        t.start_commit = d.get("start_commit", "")
        t.started_at = ev.time
        t.ended_at = None
        t.health = Health.OK
        t.reason = ""
        t.last_progress_at = None
        t.last_progress = ""
        t.progress_lines = 0
        t.outputs = None
        t.resolve = None
        t.merge_note = ""
        t.diff = None
        t.forecast = None
        t.summary = ""
        t.result_status = None
        t.result_at = None
        t.verify_tail = ""
    elif k == "progress":
        t.last_progress_at = ev.time
        t.last_progress = d.get("status", "")
        t.progress_lines = int(d.get("n", t.progress_lines + 1))
        if d.get("outputs") is not None:
            t.outputs = d["outputs"]
    elif k == "health":
        t.health = Health(d["health"])
    elif k == "diff":
        t.diff = {key: d.get(key, 0) for key in ("files", "insertions", "deletions")}
    elif k == "forecast":
        t.forecast = {key: d.get(key) for key in ("target", "files", "conflicts_with",
                                                   "out_of_scope", "reverts")}
    elif k == "merge_refused":
        t.merge_note = d.get("reason", "")
        t.conflicts = list(d.get("conflicts") or [])
    elif k == "integration_failed":
        t.verify_tail = d.get("tail", "")
    elif k == "task_merged":
        t.merged_at = ev.time
    elif k == "results":
        t.summary = d.get("summary", "")
        t.result_status = d.get("status")
        t.result_at = ev.time
    elif k == "agent_exited":
        t.ended_at = ev.time
        t.cost_usd += float(d.get("cost_usd") or 0.0)
        t.tokens += int(d.get("tokens") or 0)
    elif k in ("verify_passed", "verify_failed"):
        t.verify_tail = d.get("tail", "")
    elif k == "attempt_failed":
        if d.get("counts", True):
            t.failures += 1
        t.reason = d.get("reason", "")
        if t.ended_at is None:
            t.ended_at = ev.time
        if "health" in d:
            t.health = Health(d["health"])
    elif k == "task_requeued":
        t.resolve = d.get("resolve")
        t.not_before = float(d.get("not_before", 0.0))
        t.retry_note = d.get("note", "")
        t.reason = d.get("reason", t.reason)
    elif k in ("task_blocked", "task_dead", "task_cancelled"):
        t.reason = d.get("reason", "")
    elif k == "task_unblocked":
        t.reason = ""
    return run


def project(events: list[Event] | Any, run: int | None = None) -> RunState:
    """Replay events (optionally only those of one run) into a fresh RunState."""
    state = RunState()
    for ev in events:
        if run is not None and ev.run != run:
            continue
        apply(state, ev)
    return state
