"""Recording a failed attempt and acting on the retry decision and the breaker."""

from __future__ import annotations

from swarmtui import faults
from swarmtui.config import Config
from swarmtui.engine.attempts.retry import Action, RetryLimits, breaker_trips, decide
from swarmtui.engine.ports import Ports
from swarmtui.model import CAUSE_POLICY, Cause, Health, TaskState, TaskView
from swarmtui.model import payloads as p


def max_attempts(config: Config, t: TaskView) -> int:
    return t.spec.max_attempts or config.retry.max_attempts


def limits(ports: Ports, t: TaskView) -> RetryLimits:
    r = ports.config.retry
    return RetryLimits(max_attempts=max_attempts(ports.config, t), backoff=r.backoff,
                       backoff_max=r.backoff_max)


def fail(ports: Ports, t: TaskView, cause: Cause, reason: str, *, health: Health | None = None,
         not_before: float | None = None, resume_session: str | None = None,
         follow_up: str = "") -> None:
    """The current attempt of ``t`` failed with ``cause``: record it, then retry, give up or
    wait for the operator as the cause's policy says. The failure and what follows it are one
    transaction: a supervisor killed in between leaves neither (the failure is found again
    after the restart), never a failed task that nothing retries."""
    with ports.transaction():
        _fail(ports, t, cause, reason, health=health, not_before=not_before,
              resume_session=resume_session, follow_up=follow_up)
    faults.point("attempt-failed")  # all of it durable


def _fail(ports: Ports, t: TaskView, cause: Cause, reason: str, *, health: Health | None,
          not_before: float | None, resume_session: str | None, follow_up: str) -> None:
    policy = CAUSE_POLICY[cause]
    ports.emit(p.AttemptFailed(cause=cause, reason=reason, counts_attempt=policy.counts_attempt,
                             counts_breaker=policy.counts_breaker, health=health,
                             not_before=not_before), t.id, t.attempt)
    faults.point("failure-recorded")  # between the failure and its retry decision
    t = ports.task(t.id)
    now = ports.now()
    d = decide(cause, failures=t.failures, limits=limits(ports, t), reason=reason, now=now,
               not_before=not_before)
    if d.action == Action.DEAD and d.why is not None:
        ports.emit(p.TaskDead(reason=d.reason, why=d.why, cause=cause), t.id, t.attempt)
    elif d.action == Action.REQUEUE:
        ports.emit(p.TaskRequeued(reason=reason, cause=cause, not_before=now + d.delay,
                                delay_s=round(d.delay, 1), resume_session=resume_session,
                                follow_up=follow_up), t.id, t.attempt)
    if policy.counts_breaker:
        check_breaker(ports)


def check_breaker(ports: Ports) -> None:
    st = ports.state
    if st.breaker_open:
        return
    b = ports.config.breaker
    n = breaker_trips(st.breaker_window, ports.now(), period=b.period, max_failures=b.max_failures)
    if n is not None:
        ports.emit(p.BreakerOpened(
            reason=f"{n} failures within {b.period:.0f}s (breaker.max_failures = "
                   f"{b.max_failures}); spawning paused until `swarmtui resume`",
            failures=n, period_s=b.period))


def fail_if_current(ports: Ports, task: str, attempt: int, cause: Cause, reason: str, *,
                    health: Health | None = None, not_before: float | None = None) -> bool:
    """Fail the attempt only while it is the task's current, active one."""
    t = ports.state.tasks.get(task)
    if t is None or t.attempt != attempt or t.state not in (TaskState.RUNNING,
                                                              TaskState.VERIFYING):
        return False
    fail(ports, t, cause, reason, health=health, not_before=not_before)
    return True
