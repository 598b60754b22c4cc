"""Readiness beside liveness (pure): what a running attempt's context fill and readiness check
add to the watchdog's verdict.

Silence wins (a quiet or stuck agent is that first); then a failing readiness check (the work
is broken now), then a filling context (the agent is about to get worse), then the watchdog's
unproductive or ok. Scope drift is a note beside the health, never a health of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.engine.health.classify import Verdict
from swarmtui.model import Health, TaskView
from swarmtui.model.payloads.readings import ContextLevel
from swarmtui.model.readings import check_text

STEP_PCT = 2.0  # a context reading is recorded when the fill moved by this many points
SILENCE = frozenset({Health.QUIET, Health.STUCK})


@dataclass(frozen=True)
class ContextLimits:
    warn: float  # heartbeat.context_warn, a fraction of the window
    act: float  # heartbeat.context_act


def context_level(fraction: float, limits: ContextLimits) -> ContextLevel:
    if fraction >= limits.act:
        return "act"
    if fraction >= limits.warn:
        return "warn"
    return "ok"


def level_of(t: TaskView, limits: ContextLimits) -> ContextLevel | None:
    """The level of the task's last recorded reading (None: nothing recorded)."""
    if t.context_pct is None:
        return None
    return context_level(t.context_pct / 100.0, limits)


def worth_recording(t: TaskView, tokens: int, window: int, pct: float,
                    level: ContextLevel, limits: ContextLimits) -> bool:
    """Rate limit: the first reading, a new level or window, or a move of STEP_PCT points."""
    if t.context_pct is None or t.context_window != window:
        return True
    if level != level_of(t, limits):
        return True
    return abs(pct - t.context_pct) >= STEP_PCT and tokens != t.context_tokens


def overlay(v: Verdict, t: TaskView, limits: ContextLimits) -> Verdict:
    """The health of a running attempt, from the watchdog's verdict and the readings."""
    if v.health in SILENCE:
        return v
    failing = check_text(t)
    if failing and t.check is not None:
        return Verdict(Health.CHECK_FAILING, {"note": failing,
                                              "check": str(t.check.get("line") or "")[:300]})
    level = level_of(t, limits)
    if level in ("warn", "act") and t.context_pct is not None:
        return Verdict(Health.CONTEXT, {
            "note": f"context {t.context_pct:.0f}% ({t.context_tokens or 0:,} of "
                    f"{t.context_window or 0:,} tokens)",
            "context_pct": t.context_pct, "tokens": t.context_tokens,
            "window": t.context_window})
    return v
