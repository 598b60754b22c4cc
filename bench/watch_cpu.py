"""The watch app's CPU with a fleet that only reports progress: before and after, in one run.

For each N it records a run of N running agents (``build_fleet``: a real store and agent files,
the agents started in the last minute as in ``bench/fleet.py``'s run; ``--aged``: those of
``bench_tui.build``, started an hour ago, whose RUN column ticks once a minute). Then, for each
source tree asked for (``--refs``: git refs measured as committed, or ``.`` for this working
tree), it starts ``swarmtui watch``'s app headless at 160x48 in its own process and a writer
process that appends one progress event per agent every 2 s (the idle phase of
``bench/fleet.py``: the synthetic agents' progress line every 2 s). After a settling time it
reads the app's CPU time from /proc over ``--seconds``. Sources alternate (A B A B ...) so that
the box's noise falls on both; the table gives the median of the repeats as % of one core.
Prints figures; asserts nothing.

Run: python bench/watch_cpu.py --refs main . --n 100 500 [--seconds 20] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from fleet import snapshot_python  # noqa: E402

from swarmtui import protocol as P  # noqa: E402
from swarmtui.model import TaskSpec  # noqa: E402
from swarmtui.store import Store  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
INTERVAL = 2.0  # seconds between two progress lines of one agent (fleet_agent's default)


def cpu_seconds(pid: int) -> float:
    """User plus system time of ``pid`` so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def build_fleet(repo: Path, n: int) -> Store:
    """A run as ``bench/fleet.py`` leaves it when its idle phase starts: N agents started in
    the last minute (RUN and AGE both count seconds, so each second changes them on every row
    shown, as in the fleet), each with a few progress lines. (``bench_tui.build``'s agents
    started an hour ago: RUN changes once a minute there, and the app has less to paint.)"""
    from bench_tui import build

    store = build(repo, 0)
    t0 = time.time() - 60
    for i in range(n):
        tid = f"agent{i:03d}"
        spec = TaskSpec(id=tid, title=f"Task number {i} of the fleet", prompt="p",
                        role="worker", agent="synth")
        store.append_event("task_added", tid, data={"spec": spec.to_dict()}, run=1, at=t0)
        at = t0 + 20 * i / n
        store.append_event("attempt_spawned", tid, 1, {
            "window": f"{tid}-1", "worktree": str(P.worktree_dir(repo, tid, 1)),
            "branch": P.branch_name(tid, 1), "agent": "synth"}, run=1, at=at)
        store.append_event("attempt_started", tid, 1, {"start_commit": "0" * 40}, run=1, at=at)
        d = P.agent_dir(repo, tid, 1)
        d.mkdir(parents=True)
        (d / P.OUTPUT_LOG).write_text("".join(f"output line {k} of {tid}\n" for k in range(40)))
        (d / P.PROGRESS_FILE).write_text(f"2026-01-01T00:00:00Z - started {tid}\n")
        for k in range(3):
            store.append_event("progress", tid, 1, {"status": f"tick {k}", "n": k + 1},
                               run=1, at=at + 2 * k)
    return store


def app_main(repo: str, agents: str, ready: str) -> None:
    """In the child: the watch app on ``repo``, headless, until killed."""
    import asyncio

    from swarmtui.config import config_from_dict
    from swarmtui.engine.runtime.tmux import Tmux
    from swarmtui.tui.app import SwarmApp
    from swarmtui.windows import RunWindows

    n = int(agents)
    cfg = config_from_dict({"slots": {"max_agents": n + 1, "reserve": 0,
                                      "pools": {"worker": n}}}, "bench")
    root = Path(repo)
    app = SwarmApp(root, cfg, read_only=True, supervisor_alive=None,
                   windows=RunWindows(Tmux("bench", root.parent / "none.sock")))

    async def run() -> None:
        async with app.run_test(size=(160, 48)):
            while app.fleet.table.row_count < n:
                await asyncio.sleep(0.05)
            Path(ready).write_text("ready\n")
            while True:
                await asyncio.sleep(3600)

    asyncio.run(run())


def writer_main(repo: str, agents: str) -> None:
    """In the child: one progress event per agent every ``INTERVAL`` seconds, spread evenly."""
    from swarmtui import protocol as P
    from swarmtui.store import Store

    n = int(agents)
    store = Store(Path(repo) / P.SWARM_DIR / P.STATE_DB)
    step = INTERVAL / n
    count, t = 0, time.monotonic()
    while True:
        i = count % n
        count += 1
        store.append_event("progress", f"agent{i:03d}", 1,
                           {"status": f"tick {count // n}", "n": 10 + count // n}, run=1)
        t += step
        time.sleep(max(0.0, t - time.monotonic()))


def measure(py: str, repo: Path, n: int, settle: float, seconds: float) -> float:
    """% of one core the app used over ``seconds`` while the writer ran."""
    ready = repo.parent / "ready"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": ""}
    app = subprocess.Popen([py, __file__, "app", str(repo), str(n), str(ready)], env=env,
                           stdout=subprocess.DEVNULL)
    writer = subprocess.Popen([sys.executable, __file__, "writer", str(repo), str(n)])
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            if time.monotonic() > deadline or app.poll() is not None:
                raise RuntimeError("the app did not show its rows")
            time.sleep(0.1)
        time.sleep(settle)
        c0, t0, s0 = cpu_seconds(app.pid), time.monotonic(), last_seq(repo)
        time.sleep(seconds)
        c1, t1, s1 = cpu_seconds(app.pid), time.monotonic(), last_seq(repo)
    finally:
        for p in (writer, app):
            p.kill()
            p.wait()
    # On a loaded box the writer (one fsync per event) can fall behind: say what it reached.
    print(f"    (the writer appended {(s1 - s0) / (t1 - t0):.0f} events/s; asked for "
          f"{n / INTERVAL:.0f})", flush=True)
    return 100 * (c1 - c0) / (t1 - t0)


def last_seq(repo: Path) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{repo / P.SWARM_DIR / P.STATE_DB}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    finally:
        db.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "app":
        app_main(*sys.argv[2:5])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        writer_main(*sys.argv[2:4])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--refs", nargs="+", default=["."],
                    help="git refs to measure as committed; '.' is this working tree")
    ap.add_argument("--n", nargs="+", type=int, default=[100, 500])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--aged", action="store_true",
                    help="agents started an hour ago (bench_tui's run: RUN ticks once a "
                         "minute) instead of the fleet's just-started ones")
    args = ap.parse_args()
    from bench_tui import build

    pythons = {ref: (sys.executable if ref == "." else snapshot_python(ref)[0])
               for ref in args.refs}
    figures: dict[tuple[str, int], list[float]] = {}
    for n in args.n:
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d) / "fleet"
            (build if args.aged else build_fleet)(repo, n).close()
            for _ in range(args.repeat):
                for ref, py in pythons.items():
                    pct = measure(py, repo, n, args.settle, args.seconds)
                    figures.setdefault((ref, n), []).append(pct)
                    print(f"  N={n} {ref}: {pct:.1f}% of a core", flush=True)
    print(f"\nwatch app CPU, % of one core, idle fleet (a progress line per agent every "
          f"{INTERVAL:g} s), median of {args.repeat} x {args.seconds:g} s:")
    print("N     " + "".join(f"{ref:>14}" for ref in args.refs))
    for n in args.n:
        print(f"{n:<6}" + "".join(f"{statistics.median(figures[(ref, n)]):13.1f}%"
                                  for ref in args.refs))


if __name__ == "__main__":
    main()
