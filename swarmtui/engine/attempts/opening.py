"""Opening prepared attempts' windows in batches, on the tmux worker.

Each window used to cost a tmux client process of its own (two, with the session check) on the
one tmux thread; at a hundred spawns that queue was seconds long. Windows asked for while the
worker is busy wait here and open together: one ``Runner.start_many`` call (the local runner
sends them as one tmux command sequence), one ``WindowsOpened`` message back to the loop,
whose ``attempt_started`` events are then one store transaction.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from swarmtui.engine.messages import Started, WindowsOpened
from swarmtui.engine.ports import Ports
from swarmtui.engine.runners.base import RunnerError, ServerGone, start_windows

log = logging.getLogger(__name__)

# windows per batch: bounds one tmux call and the loop's handling of one message
BATCH_MAX = 100


class Opener:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, str, Path, Path]] = []  # (aid, window, adir, worktree)
        self._queued = False  # a drain job is submitted and has not taken the list yet

    def open(self, aid: str, window: str, adir: Path, worktree: Path) -> None:
        """From the loop: open this window soon (with whatever else is waiting then)."""
        with self._lock:
            self._waiting.append((aid, window, adir, worktree))
            if self._queued:
                return
            self._queued = True
        self.ports.submit(self.ports.workers.tmux, self._drain, self._lost)

    def _drain(self) -> WindowsOpened:
        """In the tmux worker: open what waits (up to BATCH_MAX; the rest in the next job)."""
        with self._lock:
            batch, self._waiting = self._waiting[:BATCH_MAX], self._waiting[BATCH_MAX:]
            self._queued = bool(self._waiting)
            again = self._queued
        if again:
            self.ports.submit(self.ports.workers.tmux, self._drain, self._lost)
        try:
            got = start_windows(self.ports.runner, [(w, a, wt) for _, w, a, wt in batch])
        except Exception as e:  # noqa: BLE001 - it raises nothing, but no window goes unheard
            got = [RunnerError(str(e)) for _ in batch]
        items: list[Started] = []
        for (aid, _, _, _), r in zip(batch, got, strict=True):
            if isinstance(r, ServerGone):
                items.append(Started(aid, error=f"server gone: {r}", server_gone=True))
            elif isinstance(r, Exception):
                items.append(Started(aid, error=str(r)))
            else:
                items.append(Started(aid, pane_pid=r))
        return WindowsOpened(tuple(items))

    def _lost(self, e: BaseException) -> None:
        log.error("opening windows: %s", e)  # _drain reports its windows whatever happens
