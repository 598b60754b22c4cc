"""File-change notifications for ``.swarm/agents`` via watchfiles (inotify on Linux).

The supervisor learns about progress, results and exit files from these notifications instead of
polling every agent's files each tick. A thread runs the blocking watcher and hands each batch of
changed paths to a callback (the supervisor puts them on its queue).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles


class DirWatcher:
    def __init__(self, root: Path, on_change: Callable[[set[Path]], None]) -> None:
        self.root = Path(root)
        self.on_change = on_change
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swarm-watch", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # step=50ms: a batch is handed over once changes pause for 50ms; debounce caps how
            # long a continuous stream of writes can delay delivery.
            for changes in watchfiles.watch(
                self.root, stop_event=self._stop, debounce=300, step=50,
                yield_on_timeout=True, rust_timeout=500, recursive=True,
            ):
                self._ready.set()
                if changes:
                    self.on_change({Path(p) for _, p in changes})
        except BaseException as e:  # noqa: BLE001 - reported to the supervisor, not swallowed
            self.error = e

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
