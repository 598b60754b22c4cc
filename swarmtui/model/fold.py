"""Folding events into the run state: one small function per event kind (pure).

``apply`` is the only way state changes, live and at replay alike, so the two never differ. An
event that asks for a transition the state machine forbids raises ``IllegalTransition``: a
corrupt or hand-edited log is caught at replay instead of silently misread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from swarmtui.model import payloads as p
from swarmtui.model.alerts import fold_alerts
from swarmtui.model.event import Event
from swarmtui.model.kinds import EventKind, Health, NoteKind, RunStatus
from swarmtui.model.readings import READING_FOLDERS, reset_readings
from swarmtui.model.state import (
    AttemptRec,
    Crash,
    Held,
    MergeItem,
    RunState,
    TaskView,
    UsageLimit,
)
from swarmtui.model.steering import (
    STEERING_FOLDERS,
    asking_note,
    interactive_note,
    reset_steering,
)
from swarmtui.model.transitions import STATE_OF_EVENT, check_transition
from swarmtui.model.usage import USAGE_FOLDERS, exit_usage

BREAKER_WINDOW_CAP = 1000  # counted failures kept for the breaker's window
RESOLVED_ALERTS_CAP = 500  # resolved alerts kept for the alert list

RunFolder = Callable[[RunState, Event], None]
TaskFolder = Callable[[RunState, TaskView, Event], None]


# -- run-level -------------------------------------------------------------------------------


def _run_started(run: RunState, ev: Event) -> None:
    pl = ev.get(p.RunStarted)
    run.run = pl.run or ev.run
    run.repo, run.base, run.target, run.tasks_file = pl.repo, pl.base, pl.target, pl.tasks_file
    run.started_at = ev.time
    run.status = RunStatus.RUNNING
    run.settings = pl.settings


def _sandbox(run: RunState, ev: Event) -> None:
    pl = ev.get(p.SandboxChecked)
    run.unsandboxed = "" if not pl.off else (pl.why or "sandbox off")


def _crashed(run: RunState, ev: Event) -> None:
    run.last_crash = Crash(ev.time, ev.get(p.SupervisorCrashed).error)


def _run_resumed(run: RunState, ev: Event) -> None:
    pl = ev.get(p.RunResumed)
    if run.last_crash is not None:
        run.last_crash = replace(run.last_crash, resumed=True)
    run.status = RunStatus.RUNNING
    run.ended_at = None
    if pl.settings is not None:
        run.settings = pl.settings


def _run_ended(run: RunState, ev: Event) -> None:
    run.status = RunStatus.FINISHED if ev.kind == EventKind.RUN_FINISHED else RunStatus.STOPPED
    run.ended_at = ev.time


def _paused(run: RunState, ev: Event) -> None:
    run.paused = ev.kind == EventKind.DISPATCH_PAUSED
    if ev.kind == EventKind.DISPATCH_RESUMED:
        run.breaker_open = False
        run.breaker_reason = ""
        run.breaker_window.clear()  # resuming is a fresh start for the breaker
        run.held_agents.clear()


def _held(run: RunState, ev: Event) -> None:
    pl = ev.get(p.AgentHeld)
    run.held_agents[pl.agent] = pl.reason


def _breaker(run: RunState, ev: Event) -> None:
    run.breaker_open = True
    run.breaker_reason = ev.get(p.BreakerOpened).reason


def _usage_limited(run: RunState, ev: Event) -> None:
    pl = ev.get(p.UsageLimited)
    old = run.usage_limits.get(pl.account)
    if old is None or old.until < pl.until:
        run.usage_limits[pl.account] = UsageLimit(until=pl.until, limit_type=pl.limit_type)


def _usage_lifted(run: RunState, ev: Event) -> None:
    pl = ev.get(p.UsageLimitLifted)
    cur = run.usage_limits.get(pl.account)
    if cur is not None and cur.until <= pl.until:
        del run.usage_limits[pl.account]


def _flag(attr: str, value: bool) -> RunFolder:
    def fold(run: RunState, ev: Event) -> None:
        setattr(run, attr, value)

    return fold


def _task_added(run: RunState, ev: Event) -> None:
    pl = ev.get(p.TaskAdded)
    spec = pl.spec
    run.tasks[spec.id] = TaskView(spec=spec, attempt=pl.attempt_base, attempt_base=pl.attempt_base,
                                  held=pl.held)
    if spec.parent and spec.parent in run.tasks:
        run.tasks[spec.parent].children.append(spec.id)


def _quarantined(run: RunState, ev: Event) -> None:
    pl = ev.get(p.TextQuarantined)
    t = run.tasks.get(ev.task or "")
    if t is not None and pl.source in p.WORK_SOURCES and ev.attempt is not None:
        t.held_work[pl.qid] = ev.attempt  # its merge waits for the operator (mergequeue)
    h = run.quarantine.get(pl.qid)
    if h is not None:
        h.count += 1
        return
    run.quarantine[pl.qid] = Held(qid=pl.qid, digest=pl.digest, task=ev.task, attempt=ev.attempt,
                                  source=pl.source, reasons=list(pl.reasons),
                                  excerpt=pl.excerpt, first_seq=ev.seq)


def _decided(run: RunState, ev: Event) -> None:
    pl = ev.payload
    if not isinstance(pl, (p.TextApproved, p.TextRejected)):
        return
    h = run.quarantine.get(pl.qid)
    if h is not None:
        h.state = "approved" if isinstance(pl, p.TextApproved) else "rejected"
    if isinstance(pl, p.TextApproved):
        for t in run.tasks.values():
            if t.held == pl.qid:
                t.held = ""  # its prompt is released: it may run (a rejected one is cancelled)


RUN_FOLDERS: dict[EventKind, RunFolder] = {
    EventKind.TEXT_QUARANTINED: _quarantined,
    EventKind.TEXT_APPROVED: _decided,
    EventKind.TEXT_REJECTED: _decided,
    EventKind.RUN_STARTED: _run_started,
    EventKind.RUN_RESUMED: _run_resumed,
    EventKind.SUPERVISOR_CRASHED: _crashed,
    EventKind.RUN_FINISHED: _run_ended,
    EventKind.RUN_STOPPED: _run_ended,
    EventKind.DISPATCH_PAUSED: _paused,
    EventKind.DISPATCH_RESUMED: _paused,
    EventKind.BREAKER_OPENED: _breaker,
    EventKind.USAGE_LIMITED: _usage_limited,
    EventKind.USAGE_LIMIT_LIFTED: _usage_lifted,
    EventKind.BUDGET_EXHAUSTED: _flag("budget_exhausted", True),
    EventKind.MEMORY_LOW: _flag("memory_low", True),
    EventKind.MEMORY_OK: _flag("memory_low", False),
    EventKind.DISK_FULL: _flag("disk_full", True),
    EventKind.DISK_OK: _flag("disk_full", False),
    EventKind.SANDBOX_CHECKED: _sandbox,
    EventKind.TASK_ADDED: _task_added,
    EventKind.AGENT_HELD: _held,
}


# -- task-level ------------------------------------------------------------------------------


def _spawned(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.AttemptSpawned)
    t.attempt = ev.attempt or t.attempt + 1
    t.window = pl.window
    t.start_commit = ""
    t.started_at = ev.time
    t.ended_at = None
    t.health = Health.OK
    t.reason = ""
    t.cause = None
    t.dead_why = None
    t.last_progress_at = None
    t.last_progress = ""
    t.progress_lines = 0
    t.progress_offset = 0
    t.signals_offset = 0
    t.setup_running = False
    t.setup_done_at = None
    t.outputs = None
    t.resolve = None
    t.merge_note = ""
    t.diff = None
    t.forecast = None
    t.summary = ""
    t.result_status = None
    t.result_at = None
    t.result_files = []
    t.result_dnr = False
    t.verify_tail = ""
    t.forecast_head = ""
    t.note = ""
    t.note_kind = None
    t.last_heard_at = None
    t.denied = []
    t.resume_session = None
    t.follow_up = ""
    t.force_context = False
    reset_readings(t)
    reset_steering(t)
    t.ran_on, t.account = pl.agent, pl.account
    t.interactive = pl.interactive
    run.attempts[f"{t.id}-{t.attempt}"] = AttemptRec(
        task=t.id, attempt=t.attempt, window=pl.window, worktree=pl.worktree, branch=pl.branch,
        agent=pl.agent, runner=pl.runner, spawned_at=ev.time, resolving=tuple(pl.resolving),
        account=pl.account)


def _attempt(run: RunState, ev: Event) -> AttemptRec | None:
    return run.attempts.get(f"{ev.task}-{ev.attempt}")


def _started(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.AttemptStarted)
    a = _attempt(run, ev)
    if a is not None:
        a.started = True
        a.start_commit = pl.start_commit
        a.pane_pid = pl.pane_pid
    if t.attempt == ev.attempt:
        t.start_commit = pl.start_commit
        # The agent's clock (silence, age) starts when its window opens, not when its worktree
        # began to be made: on a loaded box that can take seconds.
        t.started_at = ev.time


def _adopted(run: RunState, t: TaskView, ev: Event) -> None:
    a = _attempt(run, ev)
    if a is not None and ev.get(p.AttemptAdopted).alive:
        a.started = True


def _progress(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.Progress)
    t.last_progress_at = ev.time
    t.last_heard_at = ev.time
    if t.note and not t.denied:
        t.note = ""  # a progress line says more than a passing API retry
        t.note_kind = None
    t.last_progress = pl.status
    t.progress_lines = pl.n
    t.progress_offset = pl.offset
    if pl.outputs is not None:
        t.outputs = pl.outputs


def _health(run: RunState, t: TaskView, ev: Event) -> None:
    t.health = ev.get(p.HealthChanged).health


def _diff(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.Diff)
    t.diff = {"files": pl.files, "insertions": pl.insertions, "deletions": pl.deletions}


def _forecast(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.Forecast)
    t.forecast = {"target": pl.target, "files": list(pl.files),
                  "conflicts_with": list(pl.conflicts_with), "out_of_scope": list(pl.out_of_scope),
                  "reverts": [r.model_dump() for r in pl.reverts], "head": pl.head,
                  "target_commit": pl.target_commit}
    t.forecast_head = pl.head


def _results(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.Results)
    t.summary = pl.summary
    t.result_status = pl.status
    t.result_at = ev.time
    t.result_files = list(pl.files_modified)
    t.result_dnr = pl.do_not_revert


def _exited(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.AgentExited)
    a = _attempt(run, ev)
    if a is not None:
        a.exit = pl.how
        a.exit_record = pl
        if pl.session_id:
            a.session_id = pl.session_id
    if t.attempt == ev.attempt:
        t.ended_at = ev.time
        reset_steering(t)  # nothing it asked can be answered now
        asking_note(t)
        # What the result line listed as denied, as the cause's reason shows it: what a grant
        # gives (a denial the agent CLI printed no line for is only there).
        for rule in pl.outcome.denials if pl.outcome is not None else []:
            if rule not in t.denied:
                t.denied.append(rule)
    exit_usage(t, a, pl)


def _verify_done(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.payload
    if isinstance(pl, (p.VerifyPassed, p.VerifyFailed)):
        t.verify_tail = pl.tail


def _failed(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.AttemptFailed)
    if pl.counts_attempt:
        t.failures += 1
    if pl.counts_breaker:
        run.breaker_window.append(ev.time)
        del run.breaker_window[:-BREAKER_WINDOW_CAP]
    t.reason = pl.reason
    t.cause = pl.cause
    if t.ended_at is None:
        t.ended_at = ev.time
    if pl.health is not None:
        t.health = pl.health


def _requeued(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.TaskRequeued)
    t.resolve = pl.resolve.model_dump() if pl.resolve is not None else None
    t.not_before = pl.not_before
    t.retry_note = pl.note
    t.resume_session = pl.resume_session
    t.follow_up = pl.follow_up
    t.allow = sorted({*t.allow, *pl.allow})
    t.force_context = pl.force
    if pl.reason:
        t.reason = pl.reason
    t.dead_why = None


def _reason(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.payload
    if isinstance(pl, (p.TaskBlocked, p.TaskCancelled)):
        t.reason = pl.reason
    elif isinstance(pl, p.TaskDead):
        t.reason = pl.reason
        t.dead_why = pl.why
        if pl.cause is not None:
            t.cause = pl.cause
    else:
        t.reason = ""


def _leave_queue(run: RunState, task: str) -> None:
    run.merge_queue = [m for m in run.merge_queue if m.task != task]
    if run.merging is not None and run.merging.task == task:
        run.merging = None


def _merge_queued(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.MergeQueued)
    run.merge_queue.append(MergeItem(task=t.id, attempt=ev.attempt or t.attempt, auto=pl.auto,
                                     by=pl.by, command_id=pl.command_id))


def _merge_started(run: RunState, t: TaskView, ev: Event) -> None:
    for i, m in enumerate(run.merge_queue):
        if m.task == t.id:
            run.merging = run.merge_queue.pop(i)
            return


def _merged(run: RunState, t: TaskView, ev: Event) -> None:
    t.merged_at = ev.time
    t.health = Health.OK
    _leave_queue(run, t.id)


def _merge_refused(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.MergeRefused)
    t.merge_note = pl.reason
    t.conflicts = list(pl.conflicts)
    _leave_queue(run, t.id)


def _merge_over(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.payload
    if isinstance(pl, p.IntegrationFailed):
        t.verify_tail = pl.tail
    _leave_queue(run, t.id)


def _finished_task(run: RunState, t: TaskView, ev: Event) -> None:
    t.health = Health.OK  # a finished task has no liveness to report
    if ev.kind == EventKind.TASK_CANCELLED:
        t.reason = ev.get(p.TaskCancelled).reason
        _leave_queue(run, t.id)


def _session(run: RunState, t: TaskView, ev: Event) -> None:
    a = _attempt(run, ev)
    pl = ev.get(p.AgentSession)
    if a is not None:
        a.session_id = pl.session_id
    if t.attempt == ev.attempt:
        t.signals_offset = max(t.signals_offset, pl.offset)


def _heard(run: RunState, t: TaskView, ev: Event) -> None:
    """A sign of life from the agent CLI itself, and what it says."""
    if t.attempt != ev.attempt:
        return
    t.last_heard_at = ev.time
    if isinstance(ev.payload, p.Signal):
        t.signals_offset = max(t.signals_offset, ev.payload.offset)
    said: tuple[NoteKind | None, str] | None = signal_note(ev.payload)
    if t.interactive and isinstance(ev.payload, p.AgentHook):
        said = interactive_note(ev.payload, t)
    if isinstance(ev.payload, p.PermissionDenied):
        rule = ev.payload.rule or ev.payload.tool
        if rule not in t.denied:
            t.denied.append(rule)
    if said is not None:
        t.note_kind, t.note = said


def signal_note(pl: p.Payload) -> tuple[NoteKind, str] | None:
    """What a signal from the agent CLI says: its kind (for decisions) and the few words the
    health column shows (for people); None when it says nothing worth a note."""
    if isinstance(pl, p.ApiRetry):
        why = str(pl.status) if pl.status else pl.error or "error"
        return NoteKind.API_RETRY, f"API retry {pl.attempt}/{pl.max_retries} ({why})"
    if isinstance(pl, p.ApiErrorSeen):
        return NoteKind.API_ERROR, f"API error {pl.status or ''} ({pl.error or pl.api_error})" \
            .replace("  ", " ")
    if isinstance(pl, p.RateLimit):
        if pl.status == "allowed_warning" and pl.utilization is not None:
            return NoteKind.LIMIT_WARNING, (f"{pl.utilization:.0%} of the "
                                            f"{pl.limit_type.replace('_', ' ')} limit used")
        if pl.status == "rejected":
            return NoteKind.USAGE_LIMITED, f"usage-limited ({pl.limit_type.replace('_', ' ')})"
        return None
    if isinstance(pl, p.PermissionDenied):
        return NoteKind.PERMISSION_DENIED, f"needs permission: {pl.rule or pl.tool}"
    if isinstance(pl, p.AgentHook):
        if pl.event == "Notification":
            # notification_type is the hook's type code ("permission_prompt", "idle_prompt"),
            # not a message: Claude Code names its permission prompts this way.
            if "permission" in pl.notification_type:
                return NoteKind.WAITING_PERMISSION, "waiting for permission"
            return NoteKind.WAITING_INPUT, "waiting for input"
        if pl.event == "StopFailure":
            return NoteKind.STOPPED_ON_ERROR, f"stopped on {pl.error or 'an error'}" \
                .replace("_", " ")
        if pl.event == "Stop":
            return NoteKind.STOPPED, "stopped"
    return None


def _setup(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.SetupRan)
    if t.attempt != ev.attempt:
        return
    t.signals_offset = max(t.signals_offset, pl.offset)
    t.last_heard_at = ev.time
    t.setup_running = pl.phase == "start"
    if pl.phase == "done":
        t.setup_done_at = ev.time
    t.note_kind = {"start": NoteKind.SETUP_RUNNING, "done": None,
                   "failed": NoteKind.SETUP_FAILED}[pl.phase]
    t.note = {"start": "running the worktree setup", "done": "",
              "failed": f"worktree setup failed (exit {pl.code})"}[pl.phase]


def _fit(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.ContextFit)
    t.context = {"tokens": pl.tokens, "window": pl.window, "fraction": pl.fraction,
                 "counted": pl.counted, "level": pl.level}


def _review(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.ReviewRecorded)
    t.review = {"attempt": ev.attempt, "ok": pl.ok, "verdict": pl.verdict,
                "confidence": pl.confidence, "summary": pl.summary,
                "concerns": list(pl.concerns), "error": pl.error}
    t.cost_usd += pl.cost_usd


TASK_FOLDERS: dict[EventKind, TaskFolder] = {
    EventKind.CONTEXT_FIT: _fit,
    EventKind.REVIEW: _review,
    EventKind.AGENT_SESSION: _session,
    EventKind.API_RETRY: _heard,
    EventKind.API_ERROR: _heard,
    EventKind.RATE_LIMIT: _heard,
    EventKind.PERMISSION_DENIED: _heard,
    EventKind.AGENT_HOOK: _heard,
    EventKind.AGENT_ACTIVITY: _heard,
    EventKind.NET_REFUSED: _heard,
    EventKind.SETUP: _setup,
    EventKind.ATTEMPT_SPAWNED: _spawned,
    EventKind.ATTEMPT_STARTED: _started,
    EventKind.ATTEMPT_ADOPTED: _adopted,
    EventKind.PROGRESS: _progress,
    EventKind.HEALTH: _health,
    EventKind.DIFF: _diff,
    EventKind.FORECAST: _forecast,
    EventKind.RESULTS: _results,
    EventKind.AGENT_EXITED: _exited,
    EventKind.VERIFY_PASSED: _verify_done,
    EventKind.VERIFY_FAILED: _verify_done,
    EventKind.ATTEMPT_FAILED: _failed,
    EventKind.TASK_REQUEUED: _requeued,
    EventKind.TASK_BLOCKED: _reason,
    EventKind.TASK_UNBLOCKED: _reason,
    EventKind.TASK_DEAD: _reason,
    EventKind.TASK_CANCELLED: _finished_task,
    EventKind.MERGE_QUEUED: _merge_queued,
    EventKind.MERGE_STARTED: _merge_started,
    EventKind.TASK_MERGED: _merged,
    EventKind.MERGE_REFUSED: _merge_refused,
    EventKind.INTEGRATION_FAILED: _merge_over,
    EventKind.MERGE_LANDED: _merge_over,
    **READING_FOLDERS,
    **STEERING_FOLDERS,
    **USAGE_FOLDERS,
}


def _effective_status(run: RunState) -> None:
    if run.status in (RunStatus.FINISHED, RunStatus.STOPPED):
        return
    run.status = (RunStatus.BREAKER_OPEN if run.breaker_open else
                  RunStatus.PAUSED if run.paused else RunStatus.RUNNING)


def next_state(run: RunState, ev: Event) -> object | None:
    """The state ``ev`` would move its task to, or None when it changes no state."""
    if ev.task is None or ev.task not in run.tasks:
        return None
    return STATE_OF_EVENT.get(ev.kind)


def apply(run: RunState, ev: Event) -> RunState:
    """Fold one event into the run state, in place, and return it."""
    run.last_seq = ev.seq
    kind = ev.payload.KIND
    folder = RUN_FOLDERS.get(kind)
    if folder is not None:
        folder(run, ev)
        _effective_status(run)
    t = run.tasks.get(ev.task) if ev.task is not None else None
    if t is not None:
        dst = STATE_OF_EVENT.get(kind)
        if dst is not None:
            check_transition(t.id, t.state, dst)
            t.state = dst
        tfold = TASK_FOLDERS.get(kind)
        if tfold is not None:
            tfold(run, t, ev)
    fold_alerts(run, ev)
    _prune_alerts(run)
    return run


def _prune_alerts(run: RunState) -> None:
    if len(run.alerts) <= RESOLVED_ALERTS_CAP * 2:
        return
    resolved = [aid for aid, a in run.alerts.items() if a.resolved]
    for aid in resolved[: len(resolved) - RESOLVED_ALERTS_CAP]:
        del run.alerts[aid]


def project(events: Iterable[Event], run: int | None = None) -> RunState:
    """Replay events (optionally only those of one run) into a fresh RunState."""
    state = RunState()
    for ev in events:
        if run is not None and ev.run != run:
            continue
        apply(state, ev)
    return state
