"""What the supervisor's loop and git workers pay per unit of work, in CPU seconds, in process.

``python bench/sup_costs.py [--n 100 500] [--src DIR]`` prints, for the swarmtui it imports
(this tree, or ``--src``: e.g. ``git archive main | tar -x -C DIR``), measured one after the
other on this machine:

- a progress line through the reader (``AttemptReader.changed``: the safe read, the flood rule,
  the store's transaction with ``synchronous=FULL``, the fold and the listeners), per line, with
  the watcher's batches holding 1, 3, 10 and 50 lines;
- the status view (``statusview.view``) and a whole status file write at N running tasks;
- a productivity sample of an unchanged worktree: the three git processes (CPU of this process
  and of its children), and the worktree's mark (``runtime/treemark.py``) when this tree has it.

Every part is real but the runner and the clock (``tests/standins.py``: the real parts, the
real store and loop, a recording runner, a fake clock). Figures are CPU time
(``time.process_time`` and the children's rusage), so a loaded box changes them less than wall
time; compare two trees in one sitting, one after the other.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def engine(n: int, folder: Path) -> Any:
    from swarmtui.config import config_from_dict
    from swarmtui.engine.run.runconfig import settings_for
    from swarmtui.model import TaskSpec
    from swarmtui.model import payloads as p
    from tests.standins import Engine, FakeClock

    cfg = config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "max_agents": n, "pools": {"worker": n}},
        "heartbeat": {"quiet_after": 100, "stuck_after": 101, "auto_kill": False}}, "bench")
    e = Engine(folder, cfg, clock=FakeClock(5_000.0))
    e.loop.emit(p.RunResumed(settings=settings_for(cfg, "")))
    for i in range(n):
        e.add(TaskSpec(id=f"t{i:04d}", title="t", prompt="p", role="worker", agent="claude"))
    for _ in range(1 + (n - 1) // 100 + 2):  # at most 100 spawns a tick
        e.advance(1)
    e.store._db.execute("PRAGMA synchronous = FULL")  # as the supervisor writes
    return e, cfg


def per_line(e: Any, folder: Path, batch: int, rounds: int = 4) -> float:
    from swarmtui import protocol as P
    from swarmtui.engine.messages import FilesChanged

    agents = folder / ".swarm" / P.AGENTS_DIR
    aids = sorted(a.id for a in e.state.attempts.values())
    seq0, cpu0 = e.state.last_seq, time.process_time()
    for r in range(rounds):
        paths: list[str] = []
        for aid in aids:
            with open(agents / aid / P.PROGRESS_FILE, "a") as f:
                f.write(f"2026-12-08T00:00:00Z - step {r}\n")
            paths.append(str(agents / aid / P.PROGRESS_FILE))
            if len(paths) == batch:
                e.parts.reader.changed(FilesChanged(frozenset(paths)))
                paths = []
        if paths:
            e.parts.reader.changed(FilesChanged(frozenset(paths)))
        e.loop.drain()
    return (time.process_time() - cpu0) / max(1, e.state.last_seq - seq0)


def status_costs(e: Any, cfg: Any, runs: int = 10) -> tuple[float, float]:
    from swarmtui.engine.run.statusview import view

    cpu0 = time.process_time()
    for _ in range(runs):
        view(e.state, cfg, e.clock.now)
    v = (time.process_time() - cpu0) / runs
    cpu0 = time.process_time()
    for _ in range(runs):
        e.parts.status.write(e.clock.now)  # the view, then the text and the file (inline)
    return v, (time.process_time() - cpu0) / runs


def sample_costs(folder: Path, runs: int = 20) -> tuple[float, float, float | None]:
    from swarmtui.engine.runtime.git import Git

    repo, wt = folder / "repo", folder / "wt"
    repo.mkdir()
    g = ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@b.invalid"]
    subprocess.run([*g, "init", "-q", "-b", "main"], check=True)
    (repo / "src").mkdir()
    for i in range(50):
        (repo / "src" / f"m{i}.py").write_text(f"X = {i}\n")
    subprocess.run([*g, "add", "-A"], check=True)
    subprocess.run([*g, "commit", "-q", "-m", "init"], check=True)
    subprocess.run([*g, "worktree", "add", "-q", "-b", "swarm/t-1", str(wt), "main"],
                   check=True)
    git = Git(repo)
    git.diff_stat(wt, "main")  # GitPython's import (70 ms) is not a sample's
    cpu0, ch0 = time.process_time(), children_cpu()
    for _ in range(runs):
        git.diff_stat(wt, "main")
        git.head_of(wt)
    own, kids = (time.process_time() - cpu0) / runs, (children_cpu() - ch0) / runs
    try:
        from swarmtui.engine.runtime import treemark
    except ImportError:
        return own, kids, None
    files = treemark.worktree_files(repo / ".git", wt, "swarm/t-1") or []
    cpu0 = time.process_time()
    for _ in range(runs):
        treemark.mark(wt, files, skip_top=frozenset({".git"}))
    return own, kids, (time.process_time() - cpu0) / runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--src", help="import swarmtui from this tree instead of this checkout")
    args = ap.parse_args()
    src = Path(args.src).resolve() if args.src else ROOT
    sys.path[:0] = [str(src), str(ROOT)]  # swarmtui from src; tests.standins from src first
    import swarmtui

    print(f"python bench/sup_costs.py {' '.join(sys.argv[1:])}  (swarmtui from "
          f"{Path(swarmtui.__file__).parent}; load {os.getloadavg()[0]:.1f})")
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix="swt-costs-") as d:
            e, cfg = engine(n, Path(d))
            lines = {b: per_line(e, Path(d), b) for b in (1, 3, 10, 50)}
            v, w = status_costs(e, cfg)
            e.store.close()
        print(f"N={n}: a progress line, CPU ms by batch size: " + ", ".join(
            f"{b}: {x * 1e3:.3f}" for b, x in lines.items()))
        print(f"N={n}: status view {v * 1e3:.1f} ms CPU; view, text and file {w * 1e3:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="swt-costs-") as d:
        own, kids, mark = sample_costs(Path(d))
    print(f"a productivity sample with git: {own * 1e3:.2f} ms CPU here + {kids * 1e3:.2f} ms "
          "in git" + ("" if mark is None else f"; the worktree's mark: {mark * 1e3:.2f} ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
