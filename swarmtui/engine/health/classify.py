"""Health classification of running agents: readiness, not just liveness (pure).

Inputs are timestamps the supervisor keeps per attempt; the output is a Health value plus the
evidence that goes into the event, so a reader can see why an agent was called stuck.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swarmtui.model import Health


@dataclass(frozen=True)
class HealthPolicy:
    interval: float  # heartbeat.progress_interval, seconds
    quiet_after: int
    stuck_after: int
    unproductive_after: int
    stale_result_after: int


@dataclass(frozen=True)
class Verdict:
    health: Health
    evidence: dict[str, Any]


def classify_running(
    policy: HealthPolicy,
    now: float,
    started_at: float,
    last_progress_at: float | None,
    last_productive_at: float | None,
) -> Verdict:
    """Quiet/stuck by silence since the last progress line (or the start, before the first);
    unproductive when lines keep coming but outputs, diff and log have not moved."""
    heard = last_progress_at if last_progress_at is not None else started_at
    silent = max(0.0, now - heard)
    intervals = silent / policy.interval
    ev: dict[str, Any] = {
        "silent_s": round(silent, 1),
        "intervals": round(intervals, 2),
        "last_progress_at": last_progress_at,
    }
    if intervals >= policy.stuck_after:
        return Verdict(Health.STUCK, ev)
    if intervals >= policy.quiet_after:
        return Verdict(Health.QUIET, ev)
    productive = last_productive_at if last_productive_at is not None else started_at
    idle = max(0.0, now - productive)
    if last_progress_at is not None and idle / policy.interval >= policy.unproductive_after:
        return Verdict(Health.UNPRODUCTIVE, {
            "idle_s": round(idle, 1), "intervals": round(idle / policy.interval, 2),
            "note": "progress lines but no new outputs, diff or log output"})
    return Verdict(Health.OK, ev)


def result_is_stale(policy: HealthPolicy, now: float, result_at: float | None) -> bool:
    """A passed result nobody has merged or acted on for ``stale_result_after`` intervals."""
    if result_at is None:
        return False
    return (now - result_at) / policy.interval >= policy.stale_result_after
