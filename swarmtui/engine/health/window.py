"""Context health on the loop: the agent's context fill as events, and the relaunch.

The Claude adapter (``adapters/claude_context.py``, in the wrapper) writes a ``context`` signal
at every turn boundary: the tokens of the latest turn of the main conversation, its model, and
the model's window once the CLI has said it. Here that becomes a ``context_fill`` event when
the fill moved by a few points or its level changed, against the window the agent reported,
else the window an earlier attempt of the run reported for the same model, else
``[context] window``.

With ``heartbeat.context_action = "relaunch"``, a reading at or above ``context_act`` (it is
taken at a turn boundary: every tool of that turn has returned, the next API call is in flight)
ends the attempt and fails it with ``context_full``: not counted against ``max_attempts`` or the
breaker, retried at once, in the same worktree, in a fresh session whose prompt carries a handoff
(``attempts/carryover.py``), at most ``heartbeat.context_relaunches`` times per task. An agent
that already wrote its results is left to finish.
"""

from __future__ import annotations

from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.health.vitals import ContextLimits, context_level, worth_recording
from swarmtui.engine.intents import Ask, ContextSignal, EndAttempt, FailAttempt, IsEnding
from swarmtui.engine.ports import Ports
from swarmtui.model import Cause, Event, EventKind, Health, TaskState
from swarmtui.model import payloads as p
from swarmtui.model.payloads.readings import WindowFrom
from swarmtui.textsafe import clean_text

MAX_TOKENS = 100_000_000
MAX_WINDOW = 100_000_000


class ContextWatch:
    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        hb = ports.config.heartbeat
        self.limits = ContextLimits(warn=hb.context_warn, act=hb.context_act)
        # Windows earlier attempts of the run reported, by model (rebuilt from the log).
        self.windows: dict[str, int] = {}
        for rec in ports.state.attempts.values():
            self._learn(rec.exit_record)
        self._due: dict[str, int] = {}  # task -> attempt that reached context_act

    def heard(self, ev: Event) -> None:
        if ev.kind == EventKind.AGENT_EXITED:
            self._learn(ev.payload)

    def _learn(self, exit_record: Any) -> None:
        if not isinstance(exit_record, p.AgentExited):
            return
        for model, u in exit_record.models.items():
            if u.context_window:
                self.windows[model] = min(u.context_window, MAX_WINDOW)

    def window_for(self, model: str, reported: int | None) -> tuple[int, WindowFrom]:
        if reported:
            return reported, "agent"
        if model in self.windows:
            return self.windows[model], "run"
        return self.ports.config.context.window, "config"

    # -- a signal, from the reader (on the loop) --------------------------------------------

    def signal(self, it: ContextSignal) -> None:
        """One ``context`` signal line of the attempt (the file is the agent's: distrust it)."""
        task, attempt, obj, offset = it.task, it.attempt, it.obj, it.offset
        tokens = _int(obj.get("tokens"), MAX_TOKENS)
        if tokens is None:
            return
        # A model name: printable characters only (the file is in the agent's folder).
        model = "".join(ch for ch in clean_text(str(obj.get("model") or ""))[:300]
                        if ch.isprintable())[:100]
        reported = _int(obj.get("window"), MAX_WINDOW) or None
        turn = _int(obj.get("turn"), 10**9) or 0
        t = self.ports.state.tasks.get(task)
        if t is None or t.attempt != attempt or t.state != TaskState.RUNNING:
            return
        window, source = self.window_for(model, reported)
        fraction = tokens / window
        pct = round(100.0 * fraction, 1)
        level = context_level(fraction, self.limits)
        if not worth_recording(t, tokens, window, pct, level, self.limits):
            return
        self.ports.emit(p.ContextFill(tokens=tokens, window=window, pct=pct, level=level,
                                    model=model, window_from=source, turn=turn, offset=offset),
                      task, attempt)
        if level == "act" and self.ports.config.heartbeat.context_action == "relaunch":
            # Acted on in this tick's step, once the reader has read everything the agent
            # wrote with it (results written at the same moment win).
            self._due[task] = attempt

    def step(self, now: float) -> None:
        due, self._due = self._due, {}
        for task, attempt in due.items():
            self._maybe_relaunch(task, attempt)

    def _maybe_relaunch(self, task: str, attempt: int) -> None:
        ports = self.ports
        hb = ports.config.heartbeat
        t = ports.state.tasks.get(task)
        aid = P.agent_id(task, attempt)
        rec = ports.state.attempts.get(aid)
        if (t is None or t.attempt != attempt or t.state != TaskState.RUNNING
                or rec is None or rec.exit is not None  # it ended already: its exit decides
                or t.result_at is not None or self.ask(IsEnding(task, attempt))
                or t.context_relaunches >= hb.context_relaunches):
            return
        pct, tokens, window = t.context_pct or 0.0, t.context_tokens or 0, t.context_window or 0
        n = t.context_relaunches + 1
        ports.emit(p.ContextRelaunch(pct=pct, tokens=tokens, window=window, act_at=hb.context_act,
                                   n=n, limit=hb.context_relaunches), task, attempt)
        self.ask(EndAttempt(task, attempt))
        self.ask(FailAttempt(task, attempt, Cause.CONTEXT_FULL,
                             f"context {pct:.0f}% full ({tokens:,} of {window:,} tokens) at a "
                             f"turn boundary: relaunched in a fresh session with a handoff "
                             f"({n} of {hb.context_relaunches})", health=Health.CONTEXT))


def _int(v: Any, cap: int) -> int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v < 0:
        return None  # not a count (NaN, negative, a string, ...)
    return cap if v >= cap else int(v)
