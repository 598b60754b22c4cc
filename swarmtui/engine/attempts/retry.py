"""What happens after an attempt fails (pure): a failure cause in, a decision out.

The policy is stated per cause in ``model.CAUSE_POLICY``, in the terms supervisors use: whether
the failure counts against the task's intensity (``max_attempts``) and the fleet's breaker
(``breaker.max_failures`` within ``breaker.period``, like OTP's intensity and period), whether a
fresh attempt follows by itself, and whether it waits a doubling backoff first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from swarmtui.model import CAUSE_POLICY, Cause, DeadWhy, Retry


class Action(StrEnum):
    REQUEUE = "requeue"  # a fresh attempt after ``delay``
    DEAD = "dead"  # give up on the task
    WAIT = "wait"  # stay failed until the operator acts
    NOTHING = "nothing"  # the run is ending


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""
    why: DeadWhy | None = None


@dataclass(frozen=True)
class RetryLimits:
    max_attempts: int
    backoff: float
    backoff_max: float


def backoff_delay(limits: RetryLimits, failures: int) -> float:
    """Seconds before the next attempt after ``failures`` counted failures (doubling)."""
    if failures < 1:
        return 0.0
    return min(limits.backoff * 2.0 ** min(failures - 1, 62), limits.backoff_max)


def decide(cause: Cause, *, failures: int, limits: RetryLimits, reason: str, now: float,
           not_before: float | None = None) -> Decision:
    """The decision after a failure; ``failures`` already includes this one if it counts."""
    policy = CAUSE_POLICY[cause]
    if policy.retry == Retry.NEVER:
        return Decision(Action.NOTHING)
    if policy.retry == Retry.OPERATOR:
        if policy.dead_when_operator:
            return Decision(Action.DEAD, reason=f"{reason} (needs an operator: `swarmtui retry "
                            "ID --note ...` once it can go on)", why=DeadWhy.NEEDS_OPERATOR)
        return Decision(Action.WAIT)
    if policy.counts_attempt and failures >= limits.max_attempts:
        return Decision(Action.DEAD, reason=f"gave up after {failures} failed attempts; last: "
                        f"{reason}", why=DeadWhy.GAVE_UP)
    delay = backoff_delay(limits, max(failures, 1)) if policy.backoff else 0.0
    if not_before is not None:
        delay = max(delay, not_before - now)
    return Decision(Action.REQUEUE, delay=max(0.0, delay))


def breaker_trips(window: list[float], now: float, *, period: float,
                  max_failures: int) -> int | None:
    """The number of counted failures within ``period`` when that exceeds ``max_failures``."""
    recent = sum(1 for t in window if now - t <= period)
    return recent if recent > max_failures else None
