"""``python bench/spawn_sup.py STATS_FILE -- <swarmtui arguments>``: ``python -m swarmtui`` with
the parts of a spawn timed, for ``bench/spawn.py``.

Each named function (where the imported swarmtui has it: the bench also runs older versions)
is wrapped to add up its calls, wall seconds, the calling thread's CPU seconds and its longest
call; the figures go to ``STATS_FILE`` (temporary file and rename) twice a second and at exit.
Nothing else changes: swarmtui's own command line then runs in this process.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# what -> "module:Class.method" (the first one found of each)
TIMED: dict[str, tuple[str, ...]] = {
    "dispatch step (loop)": ("swarmtui.engine.run.dispatch:Dispatcher.step",),
    "spawn on the loop (its events)": ("swarmtui.engine.attempts.spawn:Spawner.spawn",),
    "store transactions and appends": ("swarmtui.store:Store._write",),
    "prepare (git worker, all)": ("swarmtui.engine.attempts.spawn:Spawner._prepare",),
    "  of it: prompt": ("swarmtui.engine.attempts.spawn:render_prompt",),
    "  of it: context fit": ("swarmtui.engine.attempts.spawn:Spawner._fit",),
    "  of it: environment": ("swarmtui.engine.attempts.spawn:agent_environment",),
    "  of it: launch.json and env.json": ("swarmtui.engine.wrapper.launch:LaunchSpec.write",),
    "  of it: start commit (git rev-parse)": ("swarmtui.engine.runtime.git:Git.rev",),
    "worktree creation": ("swarmtui.engine.runtime.git:Git.add_worktree",),
    "  of it: branch (git branch)": ("swarmtui.engine.runtime.worktrees:new_branch",),
    "  of it: worktree bookkeeping (serialised)": (
        "swarmtui.engine.runtime.worktrees:add_entry",),
    "  of it: checkout (parallel)": ("swarmtui.engine.runtime.worktrees:check_out",),
    "tmux window creation": ("swarmtui.engine.runtime.tmux:Tmux.new_window",),
    "tmux windows, batched": ("swarmtui.engine.runtime.tmux:Tmux.new_windows",),
    "window start (tmux worker)": ("swarmtui.engine.attempts.opening:Opener._drain",
                                   "swarmtui.engine.runners.local:LocalRunner.start"),
    "prepared handler (loop)": ("swarmtui.engine.attempts.spawn:Spawner.prepared",),
    "started handler (loop)": ("swarmtui.engine.attempts.spawn:Spawner.started_many",
                               "swarmtui.engine.attempts.spawn:Spawner.started"),
}


class Stats:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.figures: dict[str, list[float]] = {}  # what -> [calls, wall s, cpu s, max wall s]

    def add(self, what: str, wall: float, cpu: float) -> None:
        with self.lock:
            f = self.figures.setdefault(what, [0, 0.0, 0.0, 0.0])
            f[0] += 1
            f[1] += wall
            f[2] += cpu
            f[3] = max(f[3], wall)

    def dump(self) -> None:
        with self.lock:
            data = {"pid": os.getpid(), "figures": {k: list(v) for k, v in
                                                    self.figures.items()}}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)


def _timed(stats: Stats, what: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*a: Any, **kw: Any) -> Any:
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*a, **kw)
        finally:
            stats.add(what, time.perf_counter() - w0, time.thread_time() - c0)

    return timed


def instrument(stats: Stats) -> None:
    for what, targets in TIMED.items():
        for target in targets:
            mod_name, _, attr = target.partition(":")
            try:
                mod = importlib.import_module(mod_name)
            except ImportError:
                continue
            owner: Any = mod
            *path, name = attr.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            fn = getattr(owner, name, None) if owner is not None else None
            if fn is None:
                continue
            setattr(owner, name, _timed(stats, what, fn))
            break


def main() -> int:
    from fleet_sup import run_with_stats  # bench/ is this script's folder on sys.path

    return run_with_stats("spawn_sup.py", Stats, instrument, 0.5)


if __name__ == "__main__":
    sys.exit(main())
