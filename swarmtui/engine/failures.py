"""Recording a failed attempt and acting on the retry decision and the breaker."""

from __future__ import annotations

from swarmtui import faults
from swarmtui.engine.context import Ctx
from swarmtui.engine.retry import Action, RetryLimits, breaker_trips, decide
from swarmtui.model import CAUSE_POLICY, Cause, Health, TaskState, TaskView
from swarmtui.model import payloads as p


def limits(ctx: Ctx, t: TaskView) -> RetryLimits:
    r = ctx.config.retry
    return RetryLimits(max_attempts=ctx.max_attempts(t), backoff=r.backoff,
                       backoff_max=r.backoff_max)


def fail(ctx: Ctx, t: TaskView, cause: Cause, reason: str, *, health: Health | None = None,
         not_before: float | None = None, resume_session: str | None = None,
         follow_up: str = "") -> None:
    """The current attempt of ``t`` failed with ``cause``: record it, then retry, give up or
    wait for the operator as the cause's policy says."""
    policy = CAUSE_POLICY[cause]
    failed = p.AttemptFailed(cause=cause, reason=reason, counts_attempt=policy.counts_attempt,
                             counts_breaker=policy.counts_breaker, health=health,
                             not_before=not_before)
    # The decision is made on the counts as they will be once the failure is folded, and both
    # are written in one transaction: a supervisor killed between the two would otherwise
    # leave the task failed with nothing to requeue it.
    now = ctx.now()
    failures = t.failures + (1 if policy.counts_attempt else 0)
    d = decide(cause, failures=failures, limits=limits(ctx, t), reason=reason, now=now,
               not_before=not_before)
    items: list[tuple[p.Payload, str | None, int | None]] = [(failed, t.id, t.attempt)]
    if d.action == Action.DEAD and d.why is not None:
        items.append((p.TaskDead(reason=d.reason, why=d.why, cause=cause), t.id, t.attempt))
    elif d.action == Action.REQUEUE:
        items.append((p.TaskRequeued(reason=reason, cause=cause, not_before=now + d.delay,
                                     delay_s=round(d.delay, 1), resume_session=resume_session,
                                     follow_up=follow_up), t.id, t.attempt))
    ctx.loop.emit_together(items)
    faults.point("attempt-failed")
    if policy.counts_breaker:
        check_breaker(ctx)


def check_breaker(ctx: Ctx) -> None:
    st = ctx.state
    if st.breaker_open:
        return
    b = ctx.config.breaker
    n = breaker_trips(st.breaker_window, ctx.now(), period=b.period, max_failures=b.max_failures)
    if n is not None:
        ctx.emit(p.BreakerOpened(
            reason=f"{n} failures within {b.period:.0f}s (breaker.max_failures = "
                   f"{b.max_failures}); spawning paused until `swarmtui resume`",
            failures=n, period_s=b.period))


def fail_if_current(ctx: Ctx, task: str, attempt: int, cause: Cause, reason: str, *,
                    health: Health | None = None, not_before: float | None = None) -> bool:
    """Fail the attempt only while it is the task's current, active one."""
    t = ctx.state.tasks.get(task)
    if t is None or t.attempt != attempt or t.state not in (TaskState.RUNNING,
                                                              TaskState.VERIFYING):
        return False
    fail(ctx, t, cause, reason, health=health, not_before=not_before)
    return True
