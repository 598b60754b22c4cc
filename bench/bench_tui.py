"""TUI responsiveness with 100 agents running: how long a key press takes to show its effect.

A recorded run of 100 running agents (real store, real agent files), the app headless at
160x48, and a writer thread appending progress events for random agents the whole time (the
load a busy fleet puts on the feed). For each kind of key press it measures the time from the
key to the screen showing the effect, after the frame that shows it was rendered. Also: the
feed's cost per update, and how a burst of events is coalesced. Prints figures; asserts nothing.

Run: python bench/bench_tui.py [--agents 100] [--rate 200]
Before and after in one run: python bench/bench_tui.py --refs main . [--repeat 2] measures each
source tree (a git ref as committed, or ``.`` for this working tree) in its own process, in turn
(A B A B: the box's noise falls on both), and prints each kind of key's p95 side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.widgets import Input

from swarmtui import protocol as P
from swarmtui.config import config_from_dict
from swarmtui.engine.runtime.tmux import Tmux
from swarmtui.model import TaskSpec
from swarmtui.store import Store
from swarmtui.tui.app import SwarmApp
from swarmtui.tui.detail import LogView
from swarmtui.tui.dialogs import ConfirmScreen
from swarmtui.tui.feed import Feed
from swarmtui.windows import RunWindows


def build(repo: Path, agents: int) -> Store:
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    t0 = time.time() - 3600
    store.append_event("run_started", data={"run": 1, "repo": str(repo), "base": "0" * 40,
                                            "target": "main"}, run=1, at=t0)
    for i in range(agents):
        tid = f"agent{i:03d}"
        spec = TaskSpec(id=tid, title=f"Task number {i} of the fleet", prompt="p",
                        role="worker", agent="claude")
        store.append_event("task_added", tid, data={"spec": spec.to_dict()}, run=1, at=t0)
        store.append_event("attempt_spawned", tid, 1, {
            "window": f"{tid}-1", "worktree": str(P.worktree_dir(repo, tid, 1)),
            "branch": P.branch_name(tid, 1), "agent": "claude"}, run=1, at=t0 + i)
        store.append_event("attempt_started", tid, 1, {"start_commit": "0" * 40}, run=1,
                           at=t0 + i)
        d = P.agent_dir(repo, tid, 1)
        d.mkdir(parents=True)
        (d / P.OUTPUT_LOG).write_text("".join(f"output line {n} of {tid}\n" for n in range(400)))
        (d / P.PROGRESS_FILE).write_text(f"2026-01-01T00:00:00Z - started {tid}\n")
        for n in range(5):
            store.append_event("progress", tid, 1, {"status": f"step {n}", "n": n + 1}, run=1,
                               at=t0 + 60 * n)
    return store


class Writer(threading.Thread):
    """Appends progress events for random agents at ``rate`` per second (as agents would)."""

    def __init__(self, db: Path, agents: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.db, self.agents, self.rate = db, agents, rate
        self.stop = threading.Event()
        self.count = 0

    def run(self) -> None:
        store = Store(self.db)
        rnd = random.Random(1)
        while not self.stop.wait(1 / self.rate):
            i = rnd.randrange(self.agents)
            self.count += 1
            store.append_event("progress", f"agent{i:03d}", 1,
                               {"status": f"working, event {self.count}", "n": self.count},
                               run=1)
        store.close()


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
    return (f"median {statistics.median(xs) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"max {xs[-1] * 1000:6.1f} ms  (n={len(xs)})")


async def press(app: SwarmApp, *keys: str) -> None:
    """Deliver keys as the terminal driver would. (Pilot.press also waits until the whole
    process is idle, which a busy fleet never is: its waits would swamp the figures.)"""
    for key in keys:
        char = key if len(key) == 1 else {"slash": "/"}.get(key)
        app._driver.send_message(events.Key(key, char))  # type: ignore[union-attr]
        await asyncio.sleep(0)


async def timed(app: SwarmApp, keys: tuple[str, ...], done: Callable[[], bool],
                timeout: float = 30.0) -> float:
    """Seconds from the key to the frame that shows its effect: ``done()`` holds and the
    screen has painted every widget that changed."""
    t0 = time.perf_counter()
    await press(app, *keys)
    deadline = t0 + timeout
    while not done() or app.screen._dirty_widgets:  # painted (private: a benchmark's probe)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{keys} had no visible effect within {timeout}s")
        await asyncio.sleep(0.001)
    return time.perf_counter() - t0


async def measure(app: SwarmApp, agents: int) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        fleet = app.fleet
        t0 = time.perf_counter()
        while fleet.table.row_count < agents:
            await asyncio.sleep(0.005)
        print(f"startup: {agents} rows on screen after {time.perf_counter() - t0:.2f} s")
        await pilot.pause(0.5)
        table, detail = fleet.table, fleet.detail

        moves = []
        for _ in range(60):
            before = table.cursor_row
            key = "down" if before < agents - 1 else "up"
            target = before + (1 if key == "down" else -1)
            moves.append(await timed(app, (key,), lambda t=target: table.cursor_row == t and
                                     (detail.border_title or "").startswith(
                                         table.selected_task or "?")))
        print(f"cursor move (row + detail title):  {ms(moves)}")

        tabs = []
        for i in range(20):
            tab = ("2", "log") if i % 2 == 0 else ("1", "progress")
            tabs.append(await timed(app, (tab[0],), lambda t=tab[1]: detail.active_tab == t))
        print(f"detail tab switch (1/2):           {ms(tabs)}")

        await press(app, "2")
        log = fleet.query_one("#view-log", LogView)
        logs = []
        for _ in range(15):
            want = f"of agent{(table.cursor_row + 1) % agents:03d}"
            logs.append(await timed(app, ("down",), lambda w=want: any(
                w in line.text for line in log.lines[-2:])))
        print(f"log tail of the next agent shown:  {ms(logs)}  (25 ms of it is coalescing)",
              flush=True)

        confirms = []
        for _ in range(15):
            confirms.append(await timed(app, ("K",),
                                        lambda: isinstance(app.screen, ConfirmScreen)))
            await press(app, "n")
            while isinstance(app.screen, ConfirmScreen):
                await asyncio.sleep(0.001)
        print(f"kill key to confirmation:          {ms(confirms)}")

        opens, filters = [], []
        box = fleet.query_one("#filter", Input)
        for _ in range(10):
            opens.append(await timed(app, ("slash",), lambda: app.focused is box))
            filters.append(await timed(app, ("z",), lambda: table.row_count < agents))
            await press(app, "escape")
            while table.row_count < agents:
                await asyncio.sleep(0.001)
        print(f"filter box opened:                 {ms(opens)}")
        print(f"filter applied on a key:           {ms(filters)}")

        sorts = []
        for _ in range(14):
            mode = table.sort_mode
            sorts.append(await timed(app, ("s",), lambda m=mode: table.sort_mode != m))
        print(f"sort key:                          {ms(sorts)}")
        every = moves + tabs + confirms + opens + filters + sorts
        print(f"every key to screen (not the log): {ms(every)}")


def feed_figures(repo: Path, agents: int) -> None:
    cfg = config_from_dict({"slots": {"max_agents": agents + 1, "reserve": 0,
                                      "pools": {"worker": agents}}}, "bench")
    feed = Feed(repo, cfg, clock=time.time, read_only=True)
    t0 = time.perf_counter()
    first = feed.step()
    print(f"feed first load ({agents} tasks):     {(time.perf_counter() - t0) * 1000:6.1f} ms")
    assert first is not None
    steps = []
    for _ in range(20):
        feed.ready.set()
        # Force the once-a-second update and a build of every row (ages alone change no row).
        feed._built_now = feed._built = 0.0  # (_built: the name before ages moved to paint)
        feed._full_at = -1e9
        t0 = time.perf_counter()
        feed.step()
        steps.append(time.perf_counter() - t0)
    print(f"feed rebuild + diff of all rows:   {ms(steps)}")
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    feed.ready.clear()  # the UI is busy: the burst accumulates
    for i in range(2000):
        store.append_event("progress", f"agent{i % agents:03d}", 1,
                           {"status": f"burst {i}", "n": 100 + i}, run=1)
    posted = 0
    for _ in range(5):
        if feed.step() is not None:
            posted += 1
    feed.ready.set()
    t0 = time.perf_counter()
    upd = feed.step()
    dt = time.perf_counter() - t0
    assert upd is not None
    print(f"burst of 2000 events -> {posted + 1} update ({len(upd.rows)} changed rows), "
          f"built in {dt * 1000:.1f} ms")
    store.close()


KINDS = ("cursor move", "detail tab switch", "log tail", "kill key", "filter box opened",
         "filter applied", "sort key", "every key")


def compare(refs: list[str], agents: int, rate: float, repeat: int) -> None:
    """Each ref's run of this benchmark in its own process, in turn; p95 per kind of key."""
    import re
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fleet import snapshot_python

    pythons = {ref: (sys.executable if ref == "." else snapshot_python(ref)[0]) for ref in refs}
    p95: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for ref, py in pythons.items():
            proc = subprocess.run([py, __file__, "--agents", str(agents), "--rate", str(rate)],
                                  capture_output=True, text=True, env={
                                      **os.environ, "PYTHONPATH": ""})
            out = proc.stdout
            if proc.returncode:
                print(f"  {ref}: failed: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
            for line in out.splitlines():
                m = re.search(r"p95\s+([\d.]+) ms", line)
                kind = next((k for k in KINDS if line.startswith(k)), None)
                if m and kind:
                    p95.setdefault((ref, kind), []).append(float(m.group(1)))
            print(f"  {ref}: every key p95 {p95.get((ref, 'every key'), ['?'])[-1]} ms",
                  flush=True)
    print(f"\nkey to screen p95 (ms) at {agents} agents, {rate:g} events/s, median of {repeat}:")
    print(f"{'':20}" + "".join(f"{ref:>12}" for ref in refs))
    for kind in KINDS:
        cells = [statistics.median(p95[(ref, kind)]) if p95.get((ref, kind)) else None
                 for ref in refs]
        print(f"{kind:20}" + "".join(f"{c:12.1f}" if c is not None else f"{'-':>12}"
                                     for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--rate", type=float, default=200.0, help="background events per second")
    ap.add_argument("--refs", nargs="+", default=[],
                    help="compare source trees: git refs as committed, '.' is this tree")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    if args.refs:
        compare(args.refs, args.agents, args.rate, args.repeat)
        return
    with tempfile.TemporaryDirectory() as d:
        repo = Path(d) / "fleet"
        build(repo, args.agents).close()
        feed_figures(repo, args.agents)
        cfg = config_from_dict({"slots": {"max_agents": args.agents + 1, "reserve": 0,
                                          "pools": {"worker": args.agents}}}, "bench")
        writer = Writer(repo / P.SWARM_DIR / P.STATE_DB, args.agents, args.rate)
        writer.start()
        app = SwarmApp(repo, cfg, read_only=False, supervisor_alive=None,
                       windows=RunWindows(Tmux("bench", Path(d) / "none.sock")))
        t0 = time.perf_counter()
        print(f"with {args.agents} agents running and progress events arriving (asked for "
              f"{args.rate:.0f}/s; a real fleet of 100 sends about 2/s):")
        asyncio.run(measure(app, args.agents))
        dt = time.perf_counter() - t0
        writer.stop.set()
        writer.join()
        updates = app.feed.posted
        print(f"{writer.count} events in {dt:.1f} s ({writer.count / dt:.0f}/s, each fsynced) "
              f"reached the UI as {updates} updates "
              f"({writer.count / max(updates, 1):.1f} events per update)")


if __name__ == "__main__":
    main()
