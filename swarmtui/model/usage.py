"""Folding tokens and cost: every turn as it is printed, the exit record's figures when they
come (pure).

A task's ``cost_usd``, ``tokens`` and ``models`` count each turn of each attempt as the agent
CLI prints it (``turn_usage``, priced from the table), so the budget sees an attempt's spend
while it runs and after it was killed, relaunched or lost mid-turn. When the attempt's exit
record carries usage of its own (the agent CLI's result line, or the wrapper's sum of the
turns), that replaces the attempt's turn sum: reported figures win, and nothing counts twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from swarmtui.model import payloads as p
from swarmtui.model.event import Event
from swarmtui.model.kinds import EventKind
from swarmtui.model.state import AttemptRec, RunState, TaskView

KEYS = ("input", "output", "cache_read", "cache_write", "cost_usd")


def reported(pl: p.AgentExited | None) -> bool:
    """Whether an exit record carries tokens or cost of its own."""
    return pl is not None and (pl.tokens is not None or pl.cost_usd is not None
                               or bool(pl.models))


def _finite(v: float | None) -> float:
    return v if v is not None and math.isfinite(v) and v >= 0 else 0.0


def _add(t: TaskView, model: str, figures: dict[str, float], sign: int) -> None:
    acc = t.models.setdefault(model, {"input": 0, "output": 0, "cache_read": 0,
                                      "cache_write": 0, "cost_usd": 0.0})
    for key in KEYS:
        acc[key] += sign * figures.get(key, 0)


def _turn(run: RunState, t: TaskView, ev: Event) -> None:
    pl = ev.get(p.TurnUsage)
    if t.attempt == ev.attempt:
        t.last_heard_at = ev.time  # an answer arrived: the agent CLI is alive
        t.signals_offset = max(t.signals_offset, pl.offset)
    a = run.attempts.get(f"{ev.task}-{ev.attempt}")
    if a is None or reported(a.exit_record):
        return  # its exit record's own figures count instead
    figures: dict[str, float] = {"input": pl.input, "output": pl.output,
                                 "cache_read": pl.cache_read, "cache_write": pl.cache_write,
                                 "cost_usd": _finite(pl.cost_usd)}
    acc = a.turn_models.setdefault(pl.model, dict.fromkeys(KEYS, 0))
    for key in KEYS:
        acc[key] += figures[key]
    t.cost_usd += figures["cost_usd"]
    t.tokens += pl.tokens
    _add(t, pl.model, figures, 1)


def attempt_cost(a: AttemptRec) -> float:
    """What one attempt cost: its exit record's figure when it reported one, else its turns."""
    if reported(a.exit_record):
        return _finite(a.exit_record.cost_usd)  # as the task counts it (exit_usage)
    return sum(float(f.get("cost_usd", 0.0)) for f in a.turn_models.values())


def exit_usage(t: TaskView, a: AttemptRec | None, pl: p.AgentExited) -> None:
    """Count an exit record's usage on its task, in place of its attempt's turns."""
    if not reported(pl):
        return  # killed or lost before any result: the turns counted so far are the figures
    if a is not None and a.turn_models:
        for model, figures in a.turn_models.items():
            t.cost_usd -= figures["cost_usd"]
            t.tokens -= int(figures["input"] + figures["output"] + figures["cache_read"]
                            + figures["cache_write"])
            _add(t, model, figures, -1)
        a.turn_models = {}
    t.cost_usd = max(0.0, t.cost_usd + _finite(pl.cost_usd))
    t.tokens += pl.tokens or 0
    for model, u in pl.models.items():
        _add(t, model, {"input": u.input, "output": u.output, "cache_read": u.cache_read,
                        "cache_write": u.cache_write, "cost_usd": _finite(u.cost_usd)}, 1)


USAGE_FOLDERS: dict[EventKind, Callable[[RunState, TaskView, Event], None]] = {
    EventKind.TURN_USAGE: _turn,
}
