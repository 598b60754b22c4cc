"""File-change notifications for ``.swarm/agents`` via watchfiles (inotify on Linux).

The supervisor learns about progress, results and exit files from these notifications instead
of polling every agent's files each tick. A thread runs the blocking watcher and hands each
batch of changed paths to a callback. An agent can delete the watched folder (``rm -rf
.swarm/agents``), which silences inotify for good: the thread notices that the folder it
watches is gone or replaced, recreates it, watches again and says so (``on_rearm``); the
supervisor's slow stat sweep covers whatever happened in between. It re-creates only the watched
folder, never its parents: when ``.swarm`` itself is gone the run is gone, and the supervisor's
footing check stops it (a watcher that rebuilt the tree would resurrect a deleted repository).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

DEBOUNCE_MS = 40
STEP_MS = 15


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class DirWatcher:
    def __init__(self, root: Path, on_change: Callable[[set[str]], None], *,
                 on_rearm: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.on_change = on_change
        self.on_rearm = on_rearm or (lambda reason: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swarm-watch", daemon=True)
        self.error: BaseException | None = None
        self.rearms = 0

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._thread.start()

    def _ensure_root(self) -> bool:
        """The watched folder, re-created if an agent removed it; False when its parent is
        gone too (nothing is re-created then)."""
        if self.root.is_symlink():
            self.root.unlink()
        try:
            self.root.mkdir(exist_ok=True, mode=0o700)
        except FileNotFoundError:
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._ensure_root():
                    if self._stop.wait(1.0):
                        return
                    continue
                ident = _identity(self.root)
                reason = self._watch(ident)
            except BaseException as e:  # noqa: BLE001 - re-armed below, reported once
                self.error = e
                reason = f"watcher failed: {type(e).__name__}: {e}"
                if self._stop.wait(1.0):
                    return
            if self._stop.is_set():
                return
            self.rearms += 1
            self.on_rearm(reason)

    def _watch(self, ident: tuple[int, int] | None) -> str:
        # A batch is handed over once changes pause for ``step`` ms, or after ``debounce`` ms
        # of changes without a pause: agents printing all the time (every output.log write is
        # a change) must not hold a progress line back for longer than that.
        for changes in watchfiles.watch(
            self.root, stop_event=self._stop, debounce=DEBOUNCE_MS, step=STEP_MS,
            yield_on_timeout=True, rust_timeout=1000, recursive=True,
        ):
            if changes:
                self.on_change({p for _, p in changes})
            if _identity(self.root) != ident:
                return f"{self.root} was removed or replaced; watching it again"
        return "the watcher stopped"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
