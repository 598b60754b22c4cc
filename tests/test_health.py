"""Tests for engine.health.classify.classify: quiet/stuck/unproductive boundaries and stale
results."""

from __future__ import annotations

import pytest

from swarmtui.engine.health.classify import (
    HealthPolicy,
    Verdict,
    classify_running,
    result_is_stale,
)
from swarmtui.model import Health

POLICY = HealthPolicy(interval=60.0, quiet_after=2, stuck_after=3, unproductive_after=4,
                      stale_result_after=3)
T0 = 1_700_000_000.0


def classify(now: float, last_progress: float | None = None,
             productive: float | None = None, started: float = T0) -> Verdict:
    return classify_running(POLICY, now, started, last_progress, productive)


@pytest.mark.parametrize(("silent", "expected"), [
    (0.0, Health.OK),
    (60.0, Health.OK),
    (119.9, Health.OK),
    (120.0, Health.QUIET),  # exactly quiet_after intervals
    (179.9, Health.QUIET),
    (180.0, Health.STUCK),  # exactly stuck_after intervals
    (10_000.0, Health.STUCK),
])
def test_silence_boundaries_since_last_progress(silent: float, expected: Health) -> None:
    """Silence since the last line decides ok/quiet/stuck, with >= at each threshold."""
    last = T0 + 500.0
    v = classify(last + silent, last_progress=last, productive=last)
    assert v.health == expected
    assert v.evidence["silent_s"] == round(silent, 1)
    assert v.evidence["intervals"] == round(silent / 60.0, 2)
    assert v.evidence["last_progress_at"] == last


@pytest.mark.parametrize(("since_start", "expected"), [
    (119.0, Health.OK), (120.0, Health.QUIET), (180.0, Health.STUCK)])
def test_before_first_progress_uses_started_at(since_start: float, expected: Health) -> None:
    """Before the first progress line, silence counts from the start of the attempt."""
    v = classify(T0 + since_start)
    assert v.health == expected
    assert v.evidence["silent_s"] == since_start
    assert v.evidence["last_progress_at"] is None


def test_no_progress_yet_is_never_unproductive() -> None:
    """Without any progress line the verdict is about silence, not productivity."""
    v = classify(T0 + 60.0, productive=None)
    assert v.health == Health.OK


def test_unproductive_when_lines_come_but_nothing_moves() -> None:
    """Recent progress lines with no productive change for unproductive_after intervals."""
    now = T0 + 1000.0
    v = classify(now, last_progress=now - 30.0, productive=now - 240.0)
    assert v.health == Health.UNPRODUCTIVE
    assert v.evidence["idle_s"] == 240.0
    assert v.evidence["intervals"] == 4.0
    assert "note" in v.evidence
    # Just under the threshold is still ok.
    assert classify(now, last_progress=now - 30.0, productive=now - 239.0).health == Health.OK


def test_unproductive_counts_from_start_without_productive_time() -> None:
    """With lines but no productive moment yet, idleness counts from the start."""
    v = classify(T0 + 300.0, last_progress=T0 + 290.0, productive=None)
    assert v.health == Health.UNPRODUCTIVE
    assert v.evidence["idle_s"] == 300.0
    assert classify(T0 + 200.0, last_progress=T0 + 190.0).health == Health.OK


def test_silence_wins_over_unproductive() -> None:
    """A silent agent is quiet/stuck even if it was also unproductive."""
    now = T0 + 10_000.0
    assert classify(now, last_progress=now - 130.0, productive=T0).health == Health.QUIET
    assert classify(now, last_progress=now - 200.0, productive=T0).health == Health.STUCK


def test_clock_going_backwards_is_not_negative() -> None:
    """A progress time after now (clock skew) reads as zero silence, not a negative one."""
    v = classify(T0, last_progress=T0 + 50.0, productive=T0 + 50.0)
    assert v.health == Health.OK
    assert v.evidence["silent_s"] == 0.0


@pytest.mark.parametrize(("age", "stale"), [(0.0, False), (179.9, False), (180.0, True),
                                            (1e6, True)])
def test_result_is_stale(age: float, stale: bool) -> None:
    """A result is stale from stale_result_after intervals on."""
    assert result_is_stale(POLICY, T0 + age, T0) is stale


def test_no_result_is_never_stale() -> None:
    """Without a result time there is nothing to go stale."""
    assert result_is_stale(POLICY, T0 + 1e9, None) is False
