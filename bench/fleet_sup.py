"""``python bench/fleet_sup.py STATS_FILE -- <swarmtui arguments>``: ``python -m swarmtui`` with
the loop's tick lengths written out.

The supervisor's ``Loop`` keeps the last ticks' durations in memory only (``tick_seconds``), so
this launcher wraps ``Loop.tick``, each step registered with ``Loop.every_tick`` and
``Loop.dispatch`` (timing each with ``perf_counter``), and a daemon thread writes every tick
(start time, duration), the steps of ticks over 50 ms, per-step and per-message-type times,
and for every ``FilesChanged`` when the watcher posted it and when the loop handled it, to
``STATS_FILE`` once a second (temporary file and rename). Nothing else changes: it
then runs swarmtui's own command line in this process, so ``up --headless`` here is the
supervisor a user runs.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SLOW_HANDLER_S = 0.05  # handler runs longer than this are listed one by one
SOURCE = ""  # where swarmtui was imported from
# What the watcher posts: one message per batch (older code), or one gathering the batches
# that arrive while it waits in the queue (``engine/run/gather.py``).
WATCHER_BATCHES = ("FilesChanged", "FilesPending")


class Stats:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.ticks: list[tuple[float, float]] = []  # (wall time at start, seconds)
        self.handlers: dict[str, list[float]] = {}  # type -> [count, total s, max s]
        self.slow: list[tuple[float, str, float]] = []  # (wall time, type, seconds)
        self.steps: dict[str, list[float]] = {}  # tick step -> [count, total s, max s]
        self.slow_ticks: list[tuple[float, float, list[tuple[str, float]]]] = []
        self._tick_steps: list[tuple[str, float]] = []  # the current tick's steps (loop thread)
        self.posted: dict[int, float] = {}  # id(FilesChanged message) -> wall time posted
        # every FilesChanged: (posted, handler start, handler end, paths) in wall time
        self.batches: list[tuple[float, float, float, int]] = []

    def tick(self, start: float, dt: float) -> None:
        with self.lock:
            self.ticks.append((start, dt))
            if dt > SLOW_HANDLER_S and len(self.slow_ticks) < 1000:
                top = sorted(self._tick_steps, key=lambda x: -x[1])[:4]
                self.slow_ticks.append((start, dt, top))
        self._tick_steps = []

    def step(self, name: str, dt: float) -> None:
        self._tick_steps.append((name, dt))
        with self.lock:
            h = self.steps.setdefault(name, [0, 0.0, 0.0])
            h[0] += 1
            h[1] += dt
            h[2] = max(h[2], dt)

    def handled(self, kind: str, start: float, dt: float) -> None:
        with self.lock:
            h = self.handlers.setdefault(kind, [0, 0.0, 0.0])
            h[0] += 1
            h[1] += dt
            h[2] = max(h[2], dt)
            if dt > SLOW_HANDLER_S and len(self.slow) < 5000:
                self.slow.append((start, kind, dt))

    def dump(self) -> None:
        with self.lock:
            data: dict[str, Any] = {"pid": os.getpid(), "swarmtui": SOURCE,
                                    "ticks": list(self.ticks),
                                    "handlers": {k: list(v) for k, v in self.handlers.items()},
                                    "slow": list(self.slow),
                                    "steps": {k: list(v) for k, v in self.steps.items()},
                                    "slow_ticks": list(self.slow_ticks),
                                    "files_changed": list(self.batches)}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)


def instrument(stats: Stats) -> None:
    global SOURCE
    import swarmtui
    from swarmtui.engine.run import loop as loop_mod

    SOURCE = str(Path(swarmtui.__file__).parent)
    cls = loop_mod.Loop
    orig_tick: Callable[[Any], None] = cls.tick
    orig_dispatch: Callable[[Any, Any], None] = cls.dispatch
    orig_every_tick: Callable[..., None] = cls.every_tick

    def every_tick(self: Any, step: Callable[[float], None], **kw: Any) -> None:
        # ``kw``: the loop's own options (``first``, ``busy_ok``), passed on as given.
        name = getattr(step, "__qualname__", repr(step))

        def timed(now: float) -> None:
            t0 = time.perf_counter()
            try:
                step(now)
            finally:
                stats.step(name, time.perf_counter() - t0)

        orig_every_tick(self, timed, **kw)

    def tick(self: Any) -> None:
        wall = time.time()
        t0 = time.perf_counter()
        try:
            orig_tick(self)
        finally:
            stats.tick(wall, time.perf_counter() - t0)

    orig_post: Callable[[Any, Any], None] = cls.post

    def post(self: Any, msg: Any) -> None:
        if type(msg).__name__ in WATCHER_BATCHES:
            stats.posted[id(msg)] = time.time()
        orig_post(self, msg)

    def dispatch(self: Any, msg: Any) -> None:
        wall = time.time()
        t0 = time.perf_counter()
        try:
            orig_dispatch(self, msg)
        finally:
            dt = time.perf_counter() - t0
            stats.handled(type(msg).__name__, wall, dt)
            posted = stats.posted.pop(id(msg), None)
            if posted is not None and len(stats.batches) < 500_000:
                paths = getattr(msg, "paths", None)
                stats.batches.append((posted, wall, wall + dt, len(paths or ())))

    cls.tick = tick  # type: ignore[method-assign]
    cls.dispatch = dispatch  # type: ignore[method-assign]
    cls.every_tick = every_tick  # type: ignore[method-assign]
    cls.post = post  # type: ignore[method-assign]


def run_with_stats(script: str, make: Callable[[Path], Any], instrument: Callable[[Any], None],
                   every: float) -> int:
    """``python bench/SCRIPT STATS_FILE -- <swarmtui arguments>``: swarmtui in this process,
    instrumented, its stats written every ``every`` seconds and once more at the end (also
    bench/spawn_sup.py's entry point)."""
    if len(sys.argv) < 3 or sys.argv[2] != "--":
        print(f"usage: python bench/{script} STATS_FILE -- <swarmtui arguments>",
              file=sys.stderr)
        return 2
    stats = make(Path(sys.argv[1]))
    instrument(stats)
    stop = threading.Event()

    def writer() -> None:
        while not stop.wait(every):
            stats.dump()

    threading.Thread(target=writer, name="bench-stats", daemon=True).start()
    from swarmtui.cli import main as swarmtui_main

    try:
        return swarmtui_main(sys.argv[3:])
    finally:
        stop.set()
        stats.dump()


def main() -> int:
    return run_with_stats("fleet_sup.py", Stats, instrument, 1.0)


if __name__ == "__main__":
    sys.exit(main())
