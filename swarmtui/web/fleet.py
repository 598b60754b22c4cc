"""What the web view shows of a run, as JSON (pure): the run's line, its open alerts and one
row per task. Agent text is bounded here and only ever placed as text by the page."""

from __future__ import annotations

from typing import Any

from swarmtui.model.labels import HEALTH_LABEL, RUN_LABEL, STATE_LABEL
from swarmtui.model.state import RunState
from swarmtui.model.steering import input_lines

TEXT_MAX = 300
ALERTS_MAX = 50


def _cut(text: str, n: int = TEXT_MAX) -> str:
    s = " ".join(text.split())
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def fleet_json(state: RunState, *, max_agents: int, supervisor_live: bool,
               allow_actions: bool) -> dict[str, Any]:
    alerts = state.pending_alerts()[-ALERTS_MAX:]
    return {
        "run": state.run,
        "status": RUN_LABEL[state.status],
        "supervisor": "running" if supervisor_live else "not running",
        "paused": state.paused,
        "breaker_open": state.breaker_open,
        "slots": f"{state.slots_used()}/{max_agents}",
        "seq": state.last_seq,
        "actions": allow_actions,
        "alerts": [{"id": a.id, "task": a.task or "", "level": str(a.level),
                    "text": _cut(a.text), "count": a.count} for a in reversed(alerts)],
        "tasks": [{"id": t.spec.id, "title": _cut(t.spec.title, 80),
                   "state": STATE_LABEL[t.state], "state_key": str(t.state),
                   "attempt": t.attempt, "health": HEALTH_LABEL[t.health],
                   "health_key": str(t.health),
                   "note": _cut(t.reason or t.last_progress or t.summary),
                   # What a live agent waits on: the page offers allow and deny for each.
                   "asks": [{"n": a.n, "tool": _cut(a.tool, 60), "rule": _cut(a.rule, 160),
                             "input": _cut(" · ".join(input_lines(a.input)))}
                            for a in t.asks]}
                  for t in state.tasks.values()],
    }
