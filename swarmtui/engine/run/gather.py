"""Gathering the watcher's batches while the loop is busy: one ``FilesPending`` queued at a time.

The watcher hands over a batch every 15 to 40 ms while agents write. When a tick or a handler
holds the loop longer, each batch used to wait in the queue as its own message, to be read in
its own handler run with its own transaction (one fsync each), and the same ``output.log``
and ``progress.md`` paths came again in every one. Now a batch that finds the last one still
queued joins it: the loop takes every path that arrived up to the moment it handles the message,
so what waited is read no later than before, and once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from swarmtui.engine.messages import FilesPending


class Gather:
    def __init__(self, post: Callable[[FilesPending], None]) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._open: FilesPending | None = None  # queued and not yet taken by the loop

    def add(self, paths: set[str]) -> None:
        """The watcher's thread: ``paths`` join the queued message, or go in a new one."""
        with self._lock:
            if self._open is not None:
                self._open.paths.update(paths)
                return
            self._open = msg = FilesPending(set(paths))
        self._post(msg)

    def take(self, msg: FilesPending) -> frozenset[str]:
        """The loop's thread: every path of ``msg``; later batches start a new message."""
        with self._lock:
            if self._open is msg:
                self._open = None
            return frozenset(msg.paths)
