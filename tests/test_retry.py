"""The retry policy (pure): a failure cause in, a decision out; no decision reads text."""

from __future__ import annotations

import pytest

from swarmtui.engine.attempts.retry import Action, RetryLimits, backoff_delay, breaker_trips, decide
from swarmtui.model import CAUSE_POLICY, Cause, DeadWhy

LIMITS = RetryLimits(max_attempts=3, backoff=10.0, backoff_max=60.0)


def test_every_cause_has_a_policy_with_a_label() -> None:
    assert set(CAUSE_POLICY) == set(Cause)
    assert all(p.label for p in CAUSE_POLICY.values())


@pytest.mark.parametrize("cause", [Cause.CRASHED, Cause.STUCK, Cause.VERIFY_FAILED,
                                   Cause.REPORTED_FAILED, Cause.INTEGRATION_FAILED])
def test_the_agents_own_failures_back_off_and_give_up(cause: Cause) -> None:
    d1 = decide(cause, failures=1, limits=LIMITS, reason="r", now=0.0)
    d2 = decide(cause, failures=2, limits=LIMITS, reason="r", now=0.0)
    assert (d1.action, d1.delay) == (Action.REQUEUE, 10.0)
    assert (d2.action, d2.delay) == (Action.REQUEUE, 20.0)
    d3 = decide(cause, failures=3, limits=LIMITS, reason="r", now=0.0)
    assert d3.action == Action.DEAD and d3.why == DeadWhy.GAVE_UP and "3 failed" in d3.reason


@pytest.mark.parametrize("cause", [Cause.LOST, Cause.ORPHANED, Cause.USAGE_LIMITED])
def test_losses_that_are_not_the_tasks_fault_never_exhaust_it(cause: Cause) -> None:
    policy = CAUSE_POLICY[cause]
    assert not policy.counts_attempt
    d = decide(cause, failures=99, limits=LIMITS, reason="r", now=0.0)
    assert d.action == Action.REQUEUE and d.delay == 0.0


def test_a_usage_limit_waits_for_its_reset() -> None:
    d = decide(Cause.USAGE_LIMITED, failures=0, limits=LIMITS, reason="r", now=100.0,
               not_before=400.0)
    assert d.action == Action.REQUEUE and d.delay == 300.0


def test_kills_and_permissions_wait_for_the_operator_blockers_go_dead() -> None:
    for cause in (Cause.KILLED, Cause.NEEDS_PERMISSION, Cause.API_AUTH):
        assert decide(cause, failures=0, limits=LIMITS, reason="r", now=0).action == Action.WAIT
    d = decide(Cause.REPORTED_BLOCKED, failures=1, limits=LIMITS, reason="r", now=0)
    assert d.action == Action.DEAD and d.why == DeadWhy.NEEDS_OPERATOR
    for cause in (Cause.STOPPED, Cause.CANCELLED, Cause.RETRIED):
        assert decide(cause, failures=0, limits=LIMITS, reason="r", now=0).action == (
            Action.NOTHING)


def test_overloaded_api_is_retried_uncounted_but_bounded_by_the_breaker() -> None:
    p = CAUSE_POLICY[Cause.API_OVERLOADED]
    assert not p.counts_attempt and p.counts_breaker and p.backoff


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_delay(LIMITS, n) for n in range(6)] == [0.0, 10, 20, 40, 60, 60]
    assert backoff_delay(LIMITS, 10_000) == 60.0


def test_the_breaker_counts_only_failures_within_its_period() -> None:
    window = [0.0, 50.0, 90.0, 95.0]
    assert breaker_trips(window, 100.0, period=60.0, max_failures=2) == 3
    assert breaker_trips(window, 100.0, period=60.0, max_failures=3) is None
    assert breaker_trips(window, 200.0, period=60.0, max_failures=0) is None
