"""Alerts where the operator is: ``notify.command`` and a push (``notify.urls``, through
``swarmtui.notify``) for each new alert, and swarmtui's tmux status line (run state, slots,
open alerts and the newest), visible from every agent window.

Which events raise or clear alerts is decided in ``model.alerts`` (they are projected state);
this part only does the side effects, from worker threads.
"""

from __future__ import annotations

import logging
import os
import time

from swarmtui.engine.accounts.choose import held_until
from swarmtui.engine.messages import StatusSet
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime import proc
from swarmtui.model import Event
from swarmtui.model.labels import RUN_LABEL
from swarmtui.notify.push import Pusher
from swarmtui.textsafe import term_safe

log = logging.getLogger(__name__)


class Alerts:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._line = ""
        self._setting = False
        self.push: Pusher | None = None
        if ports.config.notify.urls:
            self.push = Pusher(ports.config.notify, ports.repo)
            push = self.push
            ports.workers.closers.append(lambda: push.close(ports.config.notify.timeout))

    def store_busy(self, busy: bool) -> None:
        """While another process holds the store, the status line says so (the loop waits and
        ticks no status); once it is free the next tick puts the run's line back."""
        self._line = ""
        if not busy:
            return
        since = time.strftime("%H:%M:%S", time.localtime(self.ports.now()))
        line = (f"store busy since {since}: another process holds .swarm/state.db; "
                "the supervisor waits and catches up")
        runner = self.ports.runner
        self.ports.workers.tmux.submit(runner.set_status, line)

    def heard(self, ev: Event) -> None:
        a = self.ports.state.alerts.get(ev.seq)
        if a is None:
            return  # not a new alert (routine, or a repeat that collapsed into one)
        if self.push is not None:
            self.push.offer(a)
        argv = list(self.ports.config.notify.command)
        if not argv:
            return
        env = {**os.environ, "SWARM_ALERT_KIND": str(ev.kind), "SWARM_ALERT_TASK": ev.task or "",
               "SWARM_ALERT_TEXT": a.text, "SWARM_ALERT_LEVEL": str(a.level),
               "SWARM_REPO": str(self.ports.repo)}

        proc.run_in_background(argv, env, timeout=60, what="notify.command")

    def status_line(self, now: float) -> str:
        st = self.ports.state
        limited = held_until(st, self.ports.config, now)
        state = (f"usage-limited until {time.strftime('%H:%M', time.localtime(limited))}"
                 if limited and limited > now and not (st.paused or st.breaker_open)
                 else RUN_LABEL[st.status])
        pending = st.pending_alerts()
        line = (f"{state} | slots {st.slots_used()}/{self.ports.config.slots.max_agents} | "
                f"{len(pending)} alert{'s' if len(pending) != 1 else ''}")
        if pending:
            line += f" | {pending[-1].text[:60]}"
        return term_safe(line)

    def status(self, now: float) -> None:
        line = self.status_line(now)
        if line == self._line or self._setting:
            return
        self._setting = True
        runner = self.ports.runner

        def job() -> StatusSet:
            runner.set_status(line)
            return StatusSet(line)

        self.ports.submit(self.ports.workers.tmux, job, lambda e: StatusSet(""))

    def status_set(self, msg: StatusSet) -> None:
        self._setting = False
        if msg.line:
            self._line = msg.line
