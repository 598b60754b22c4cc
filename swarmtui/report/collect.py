"""Building a run's figures from its events (pure: events and config in, a ``Report`` out).

The walk keeps, per attempt, what the log says of it (spawn, exit, failure, pass, merge,
replacement); the task states and the run's identity come from the model's own projection
(``swarmtui.model.project``), so the report never disagrees with ``swarmtui status``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from swarmtui.config import Config
from swarmtui.model import (
    STATE_OF_EVENT,
    TERMINAL,
    Event,
    EventKind,
    RunState,
    TaskView,
    project,
)
from swarmtui.model import payloads as p
from swarmtui.model.usage import reported
from swarmtui.report.figures import (
    AttemptFigures,
    CauseClass,
    Merge,
    Outcome,
    Report,
    Reviews,
    SlotUse,
    Spend,
    TaskFigures,
    Usage,
    classify,
)
from swarmtui.report.lanes import assign_lanes
from swarmtui.textsafe import clean_text

SUMMARY_MAX = 500  # characters of an agent's summary kept per attempt


@dataclass
class _Attempt:
    task: str
    attempt: int
    agent: str
    start: float
    end: float | None = None
    outcome: Outcome = Outcome.UNFINISHED
    failure: p.AttemptFailed | None = None
    exit: p.AgentExited | None = None
    summary: str = ""
    merged_at: float | None = None
    replaced_by: str = ""  # "resolve" or "operator" when a passing attempt was replaced
    turns: dict[str, Usage] = field(default_factory=dict)  # turn_usage sums per model
    account: str | None = None  # the [[accounts]] entry it ran on


@dataclass
class _Walk:
    attempts: dict[tuple[str, int], _Attempt] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    reviews: list[tuple[str, p.ReviewRecorded]] = field(default_factory=list)
    state_changed_at: dict[str, float] = field(default_factory=dict)
    last_time: float = 0.0

    def add(self, ev: Event) -> None:
        self.last_time = max(self.last_time, ev.time)
        if ev.task is not None and ev.kind in STATE_OF_EVENT:
            self.state_changed_at[ev.task] = ev.time
        handler = _HANDLERS.get(ev.kind)
        if handler is not None and ev.task is not None:
            handler(self, ev, ev.task)

    def get(self, ev: Event, task: str) -> _Attempt | None:
        return self.attempts.get((task, ev.attempt or 0))


def _spawned(w: _Walk, ev: Event, task: str) -> None:
    pl = ev.get(p.AttemptSpawned)
    key = (task, ev.attempt or 0)
    w.attempts[key] = _Attempt(task=task, attempt=key[1], agent=pl.agent, start=ev.time,
                               account=pl.account)


def _exited(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None:
        a.end, a.exit = ev.time, ev.get(p.AgentExited)


def _turn(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None:
        pl = ev.get(p.TurnUsage)
        a.turns[pl.model] = a.turns.get(pl.model, Usage()) + Usage(
            pl.input, pl.output, pl.cache_read, pl.cache_write, pl.cost_usd)


def _failed(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None:
        pl = ev.get(p.AttemptFailed)
        a.failure, a.outcome = pl, classify(pl.cause)[0]


def _passed(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None:
        a.outcome, a.failure = Outcome.PASSED, None


def _merged(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    late = ev.kind == EventKind.MERGE_LANDED
    w.merges.append(Merge(task=task, attempt=ev.attempt or 0, time=ev.time, landed_late=late))
    if a is not None:
        a.outcome, a.failure, a.merged_at = Outcome.MERGED, None, ev.time


def _requeued(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None and a.outcome == Outcome.PASSED:
        a.outcome = Outcome.DISCARDED
        a.replaced_by = "resolve" if ev.get(p.TaskRequeued).resolve is not None else "operator"


def _results(w: _Walk, ev: Event, task: str) -> None:
    a = w.get(ev, task)
    if a is not None:
        a.summary = clean_text(ev.get(p.Results).summary)[:SUMMARY_MAX]


def _review(w: _Walk, ev: Event, task: str) -> None:
    w.reviews.append((task, ev.get(p.ReviewRecorded)))


_HANDLERS = {
    EventKind.ATTEMPT_SPAWNED: _spawned,
    EventKind.AGENT_EXITED: _exited,
    EventKind.ATTEMPT_FAILED: _failed,
    EventKind.VERIFY_PASSED: _passed,
    EventKind.TASK_MERGED: _merged,
    EventKind.MERGE_LANDED: _merged,
    EventKind.TASK_REQUEUED: _requeued,
    EventKind.RESULTS: _results,
    EventKind.REVIEW: _review,
    EventKind.TURN_USAGE: _turn,
}


# -- attempts --------------------------------------------------------------------------------


def _usage(pl: p.AgentExited | None) -> dict[str, Usage]:
    if pl is None:
        return {}
    return {name: Usage(u.input, u.output, u.cache_read, u.cache_write, u.cost_usd)
            for name, u in pl.models.items()}


def _tokens(pl: p.AgentExited | None, models: dict[str, Usage]) -> int:
    if pl is not None and pl.tokens is not None:
        return pl.tokens
    return sum(u.tokens for u in models.values())


def _finish(a: _Attempt, state: RunState, end: float, retry_after: str | None) -> AttemptFigures:
    view = state.tasks.get(a.task)
    role = view.spec.role if view is not None else ""
    cause = a.failure.cause if a.failure is not None else None
    cause_class: CauseClass | None = classify(cause)[1] if cause is not None else None
    models = _usage(a.exit)
    cost = a.exit.cost_usd if a.exit is not None else None
    estimated = a.exit is not None and (a.exit.cost_estimated or a.exit.usage_from_turns)
    if not reported(a.exit) and a.turns:
        # No result line (killed, relaunched, lost mid-turn): the turns it printed, priced.
        models = dict(a.turns)
        cost = sum(u.cost_usd for u in models.values()) or None
        estimated = True
    return AttemptFigures(
        task=a.task, attempt=a.attempt, role=role, agent=a.agent, start=a.start,
        end=a.end if a.end is not None else max(end, a.start), exited=a.end is not None,
        outcome=a.outcome, cause=cause, cause_class=cause_class,
        reason=clean_text(a.failure.reason) if a.failure is not None else "",
        exit_how=str(a.exit.how) if a.exit is not None else None,
        tokens=_tokens(a.exit if reported(a.exit) else None, models), cost_usd=cost or 0.0,
        priced=cost is not None, cost_estimated=estimated,
        models=models, summary=a.summary, retry_after=retry_after, merged_at=a.merged_at,
        account=a.account)


def _retry_reason(prev: _Attempt) -> str:
    """Why the attempt after ``prev`` exists: ``prev``'s cause, or how a pass was replaced."""
    if prev.failure is not None:
        return str(prev.failure.cause)
    if prev.outcome == Outcome.DISCARDED:
        return prev.replaced_by
    return "operator"


def _attempt_figures(w: _Walk, state: RunState, end: float) -> list[AttemptFigures]:
    out: list[AttemptFigures] = []
    by_task: dict[str, list[_Attempt]] = {}
    for a in w.attempts.values():
        by_task.setdefault(a.task, []).append(a)
    for group in by_task.values():
        group.sort(key=lambda a: a.attempt)
        prev: _Attempt | None = None
        for a in group:
            out.append(_finish(a, state, end, _retry_reason(prev) if prev else None))
            prev = a
    out.sort(key=lambda a: (a.start, a.task, a.attempt))
    lanes = assign_lanes([(a.id, a.start, a.end) for a in out])
    lane_of = {aid: i for i, lane in enumerate(lanes) for aid in lane}
    return [replace(a, lane=lane_of[a.id]) for a in out]


# -- tasks -----------------------------------------------------------------------------------


def _task_end(t: TaskView, w: _Walk, end: float) -> float | None:
    """When the task reached the state it ends in: merged, or its last change of state for
    a task that is done; the report's end for one still under way."""
    if t.merged_at is not None:
        return t.merged_at
    if t.state in TERMINAL:
        return w.state_changed_at.get(t.id)
    return end


def _task_figures(state: RunState, attempts: list[AttemptFigures], w: _Walk, end: float
                  ) -> list[TaskFigures]:
    review_cost: dict[str, float] = {}
    for task, r in w.reviews:
        review_cost[task] = review_cost.get(task, 0.0) + r.cost_usd
    out = []
    for t in state.tasks.values():
        mine = tuple(a for a in attempts if a.task == t.id)
        result = [a.attempt for a in mine if a.outcome in (Outcome.MERGED, Outcome.PASSED)]
        out.append(TaskFigures(
            id=t.id, title=t.spec.title, role=t.spec.role, agent=t.spec.agent,
            state=str(t.state), attempts=mine,
            first_spawn_at=min((a.start for a in mine), default=None),
            end_at=_task_end(t, w, end) if mine else None,
            cost_usd=sum(a.cost_usd for a in mine), review_cost_usd=review_cost.get(t.id, 0.0),
            tokens=sum(a.tokens for a in mine), result_attempt=result[-1] if result else None))
    return out


# -- the run ---------------------------------------------------------------------------------


def _spend(attempts: Iterable[AttemptFigures]) -> Spend:
    s = Spend()
    for a in attempts:
        s = Spend(s.cost_usd + a.cost_usd, s.tokens + a.tokens, s.attempts + 1,
                  s.agent_s + a.duration_s)
    return s


def _slots(attempts: list[AttemptFigures], wall: float, config: Config) -> SlotUse:
    # At equal times an exit frees its slot before a spawn takes one (kill before spawn).
    edges = sorted([(a.start, 1) for a in attempts] + [(a.end, -1) for a in attempts],
                   key=lambda e: (e[0], e[1]))
    used = peak = 0
    peak_at: float | None = None
    busy = 0.0
    since = 0.0
    for t, step in edges:
        if used > 0:
            busy += t - since
        since = t
        used += step
        if used > peak:
            peak, peak_at = used, t
    slot_s = sum(a.duration_s for a in attempts)
    return SlotUse(peak=peak, peak_at=peak_at, mean=slot_s / wall if wall > 0 else 0.0,
                   mean_busy=slot_s / busy if busy > 0 else 0.0, busy_s=busy,
                   max_agents=config.slots.max_agents, reserve=config.slots.reserve)


def _count(keys: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in keys:
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


def _reviews(w: _Walk) -> Reviews:
    rs = [r for _, r in w.reviews]
    return Reviews(count=len(rs), cost_usd=sum(r.cost_usd for r in rs),
                   tokens_in=sum(r.tokens_in for r in rs),
                   tokens_out=sum(r.tokens_out for r in rs),
                   by_verdict=_count(str(r.verdict) for r in rs if r.ok and r.verdict),
                   errors=sum(1 for r in rs if not r.ok))


def _by_model(attempts: list[AttemptFigures]) -> dict[str, Usage]:
    out: dict[str, Usage] = {}
    for a in attempts:
        for name, u in a.models.items():
            out[name] = out.get(name, Usage()) + u
    return dict(sorted(out.items()))


def _unpriced(by_model: dict[str, Usage], config: Config) -> tuple[str, ...]:
    from swarmtui.engine.adapters.prices import price_for

    return tuple(name for name, u in by_model.items()
                 if u.tokens and not u.cost_usd and price_for(name, config.prices) is None)


def _run_span(events: list[Event], w: _Walk, now: float | None) -> tuple[float, float, bool]:
    """(start, end, live): from run_started to the last run_finished / run_stopped not
    followed by a run_resumed; a run still going ends at ``now`` (or its last event)."""
    start = events[0].time if events else 0.0
    ended: float | None = None
    for ev in events:
        if ev.kind == EventKind.RUN_STARTED:
            start = ev.time
        elif ev.kind in (EventKind.RUN_FINISHED, EventKind.RUN_STOPPED):
            ended = ev.time
        elif ev.kind == EventKind.RUN_RESUMED:
            ended = None
    later = now if now is not None else w.last_time
    if ended is not None:
        # Work after the run finished (a task added later, a resolver, an operator's retry)
        # belongs to the run: the span reaches its last attempt, and one still open makes the
        # run live again for the report.
        after = [a for a in w.attempts.values() if a.start >= ended or
                 (a.end is not None and a.end > ended)]
        if any(a.end is None for a in after):
            return start, max(w.last_time, later), True
        return start, max([ended, *(a.end or a.start for a in after)]), False
    return start, max(w.last_time, later), True


def _lane_ids(attempts: list[AttemptFigures]) -> tuple[tuple[str, ...], ...]:
    n = max((a.lane + 1 for a in attempts), default=0)
    return tuple(tuple(a.id for a in attempts if a.lane == i) for i in range(n))


def _by_role(attempts: list[AttemptFigures]) -> dict[str, Spend]:
    roles = sorted({a.role for a in attempts})
    return {r: _spend(a for a in attempts if a.role == r) for r in roles}


def _by_account(attempts: list[AttemptFigures]) -> dict[str, Spend]:
    """Spend per [[accounts]] entry, of the attempts that ran on one."""
    names = sorted({a.account for a in attempts if a.account})
    return {n: _spend(a for a in attempts if a.account == n) for n in names}


def _cli_of(config: Config, agent: str) -> str:
    a = config.agents.get(agent)
    return a.adapter if a is not None else "generic"


def _by_cli(attempts: list[AttemptFigures], config: Config) -> dict[str, Spend]:
    """Spend per agent CLI (the adapter of each attempt's agent; ``generic`` for any other)."""
    clis = sorted({a.cli or _cli_of(config, a.agent) for a in attempts})
    return {c: _spend(a for a in attempts if (a.cli or _cli_of(config, a.agent)) == c)
            for c in clis}


def _causes(attempts: list[AttemptFigures]) -> tuple[dict[str, int], dict[str, int]]:
    """(failures by cause, retries by what ended the attempt before)."""
    failures = _count(str(a.cause) for a in attempts if a.cause is not None)
    retries = _count(a.retry_after for a in attempts if a.retry_after)
    return failures, retries


def build_report(events: Iterable[Event], config: Config, *, now: float | None = None,
                 run: int | None = None) -> Report:
    """The figures of one run from its events (those of ``run`` only, when given).

    ``config`` is the run's own config (slots and prices). ``now`` is where a run that is still
    going ends for the report (default: its last event)."""
    evs = sorted((e for e in events if run is None or e.run == run), key=lambda e: e.seq)
    state = project(evs)
    w = _Walk()
    for ev in evs:
        w.add(ev)
    start, end, live = _run_span(evs, w, now)
    attempts = [replace(a, cli=_cli_of(config, a.agent))
                for a in _attempt_figures(w, state, end)]
    tasks = _task_figures(state, attempts, w, end)
    wasted = [a for a in attempts if a.wasted]
    by_model = _by_model(attempts)
    failures, retries = _causes(attempts)
    return Report(
        run=state.run or (evs[0].run if evs else 0), repo=state.repo, target=state.target,
        status=str(state.status), started_at=start, ended_at=end, live=live,
        tasks=tuple(tasks), attempts=tuple(attempts), merges=tuple(w.merges),
        lanes=_lane_ids(attempts), agent_cost_usd=sum(a.cost_usd for a in attempts),
        tokens=sum(a.tokens for a in attempts), waste=_spend(wasted),
        waste_ids=tuple(a.id for a in wasted), by_role=_by_role(attempts), by_model=by_model,
        by_account=_by_account(attempts), by_cli=_by_cli(attempts, config),
        failures_by_cause=failures, retries_by_cause=retries,
        slots=_slots(attempts, max(0.0, end - start), config),
        agent_s=sum(a.duration_s for a in attempts), reviews=_reviews(w),
        unpriced_models=_unpriced(by_model, config), states=_count(t.state for t in tasks))
