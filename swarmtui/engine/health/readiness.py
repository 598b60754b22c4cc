"""A task's readiness check: its ``check`` command, run now and then while the agent works.

Liveness says the agent is there; readiness says its work holds up. A task may declare a cheap
``check`` (a build, a type check, a quick test) that runs in the attempt's worktree every
``heartbeat.check_every`` progress intervals, in a verify worker, never on the loop: its own
process group, killed at ``heartbeat.check_timeout``, at most ``OUTPUT_CAP`` bytes of its output
kept. Each run is a ``check_ran`` event; while the last one failed the attempt's health is
``check_failing`` ("check failing: <its last line>"). Checks stop once the agent wrote its
results: from there ``verify`` decides.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.intents import CheckReadiness
from swarmtui.engine.messages import CheckDone
from swarmtui.engine.ports import Ports, redactor_for
from swarmtui.engine.runtime.shell import CheckOutcome, run_check
from swarmtui.model import TaskState
from swarmtui.model import payloads as p
from swarmtui.model.payloads.readings import CHECK_LINE_CAP, CHECK_TAIL_CAP
from swarmtui.textsafe import clean_text


def last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return " ".join(line.split())[:CHECK_LINE_CAP]
    return ""


@dataclass
class _Due:
    next_at: float
    running: bool = False


class Readiness:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        hb = ports.config.heartbeat
        self.every = hb.check_every * hb.progress_interval
        self.timeout = hb.check_timeout
        self._due: dict[str, _Due] = {}  # by agent id
        self.redact = redactor_for(ports)

    def step(self, it: CheckReadiness) -> None:
        """Asked by the watchdog for each running attempt whose agent has started."""
        t, began, now = it.task, it.began, it.now
        command = t.spec.check
        if not command or t.result_at is not None:
            return
        aid = P.agent_id(t.id, t.attempt)
        due = self._due.get(aid)
        if due is None:
            # Staggered like the productivity sample: a fleet spawned at once is not checked
            # in one burst; the first run comes within the first period.
            frac = (zlib.crc32(aid.encode()) % 1000) / 1000
            due = self._due[aid] = _Due(next_at=began + self.every * (0.5 + frac / 2))
        if due.running or now < due.next_at:
            return
        due.running = True
        due.next_at = now + self.every
        rec = self.ports.state.attempts.get(aid)
        worktree = Path(rec.worktree) if rec is not None else self.ports.runner.worktree(
            t.id, t.attempt)
        task, attempt, timeout = t.id, t.attempt, self.timeout

        def work() -> CheckDone:
            return CheckDone(task, attempt, run_check(command, worktree, timeout=timeout))

        self.ports.submit(self.ports.workers.verify, work, lambda e: CheckDone(
            task, attempt, CheckOutcome(ok=False, code=None, seconds=0.0, output="",
                                        error=f"could not run: {type(e).__name__}: {e}"[:200])))

    def done(self, msg: CheckDone) -> None:
        ports = self.ports
        aid = P.agent_id(msg.task, msg.attempt)
        due = self._due.get(aid)
        if due is not None:
            due.running = False
        t = ports.state.tasks.get(msg.task)
        if t is None or t.attempt != msg.attempt or t.state != TaskState.RUNNING:
            self._due.pop(aid, None)
            return
        out = msg.outcome
        if not isinstance(out, CheckOutcome):
            return
        # The output comes from the worktree, which the agent writes: redact and clean it.
        text = self.redact(clean_text(out.output))
        ports.emit(p.CheckRan(ok=out.ok, code=out.code, seconds=round(out.seconds, 2),
                            timed_out=out.timed_out, line=last_line(text),
                            tail=text[-CHECK_TAIL_CAP:], error=out.error[:200]),
                 msg.task, msg.attempt)
