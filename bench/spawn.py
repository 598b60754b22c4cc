"""Spawning N attempts: launch to all running, with where the time goes.

``python bench/spawn.py --n 10 100 [--before REF|DIR] [--after REF] [--rounds 1] [--keep]``

For each N (and each source tree: this checkout, or the commit ``--after`` names; and with
``--before`` an older commit, or a folder holding an older tree, e.g. ``git archive main | tar
-x -C DIR``), a temporary repository gets N synthetic tasks
(``bench/fleet_run.py`` builds them), ``swarmtui up --headless`` starts under
``bench/spawn_sup.py`` (which times the parts of a spawn) on a tmux socket of its own, and the
bench waits for N ``attempt_started`` events. It prints, per run: the spawn figure (the
``run_started`` event to the last ``attempt_started``, as ``bench/fleet.py`` counts it), the
supervisor's CPU seconds with its waited-for children (git) and the tmux server's, when the
last wrapper wrote its pid file, and the timed parts: calls, wall and CPU seconds, longest call.
Runs of both trees alternate, so a ratio compares like with like on a shared box.

A commit runs under a Python of its own that imports it (``bench/fleet.py``'s
``snapshot_python``), supervisor and wrappers alike; a folder is put on the supervisor's
``PYTHONPATH`` only, so its wrappers import whatever this venv installs (an editable install:
this checkout), and only the supervisor's share of the figures is the older tree's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import snapshot_python
from fleet_run import BENCH, PY, FleetRun, Params
from fleet_stats import count_kind

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int, children: bool) -> float | None:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    own = int(f[11]) + int(f[12])
    return (own + (int(f[13]) + int(f[14]) if children else 0)) / TICK


def one(n: int, tree: tuple[str, str, str | None], keep: bool) -> dict[str, Any]:
    label, py, source = tree
    run = FleetRun(n, Params(watch=False, baseline=False, keep=keep, interval=5.0))
    run.socket = f"/tmp/swt-spawn-{os.getpid()}-{n}.sock"
    run.env["SWARMTUI_TMUX_SOCKET"] = run.socket
    if source is not None:
        run.env["PYTHONPATH"] = source
    stats = run.root / "spawn-stats.json"
    res: dict[str, Any] = {"n": n, "tree": label}
    try:
        run.build()
        subprocess.run([py, "-c", "import swarmtui.cli, swarmtui.engine.run.supervisor, "
                        "swarmtui.engine.wrap"], env=run.env, check=True, cwd="/")
        argv = [py, str(BENCH / "spawn_sup.py"), str(stats), "--", "up",
                str(run.root / "tasks.toml"), "--headless", "--repo", str(run.repo),
                "--config", str(run.root / "config.toml")]
        with open(run.root / "sup.log", "wb") as log:
            run.sup = subprocess.Popen(argv, cwd=run.repo, env=run.env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        run.wait_for("the store", run.db.exists, 60)
        run.wait_for(f"{n} attempt_started events",
                     lambda: count_kind(run.db, "attempt_started")[0] >= n, 120 + 1.0 * n)
        res["sup_cpu_s"] = cpu_s(run.sup.pid, children=True)  # up to the last attempt_started
        run.refresh_pids()
        res["tmux_cpu_s"] = cpu_s(run.tmux_pid, children=False) if run.tmux_pid else None
        t_run = count_kind(run.db, "run_started")[1]
        t_all = count_kind(run.db, "attempt_started")[1]
        res["spawn_s"] = round(t_all - t_run, 2) if t_run and t_all else None
        pids = (run.repo / ".swarm" / "agents").glob
        try:  # "running": its wrapper is up (it writes wrap.pid once it runs)
            run.wait_for("every wrapper", lambda: len(list(pids("*/wrap.pid"))) >= n, 60 + n)
        except TimeoutError:
            pass
        wrappers = [p.stat().st_mtime for p in pids("*/wrap.pid")]
        for key, name in (("wrappers_cpu_s", "wrap.pid"), ("agents_cpu_s", "agent.pgid")):
            got = [cpu_s(int(p.read_text()), children=False) for p in pids(f"*/{name}")]
            res[key] = round(sum(c for c in got if c is not None), 2)  # those still running
        if t_run and wrappers:
            res["last_wrapper_s"] = round(max(wrappers) - t_run, 2)
            res["wrappers_up"] = len(wrappers)
        time.sleep(0.6)  # one more dump of the timed parts
        try:
            res["parts"] = json.loads(stats.read_text())["figures"]
        except (OSError, ValueError, KeyError):
            res["parts"] = {}
        res["load"] = os.getloadavg()[0]
    finally:
        res["cleanup"] = run.cleanup()
        run.remove()
    return res


def show(r: dict[str, Any]) -> None:
    print(f"\n== {r['tree']} N={r['n']}: spawn {r.get('spawn_s')} s, supervisor+git CPU "
          f"{r.get('sup_cpu_s')} s, tmux server CPU {r.get('tmux_cpu_s')} s, wrappers CPU "
          f"{r.get('wrappers_cpu_s')} s, agents CPU {r.get('agents_cpu_s')} s, last wrapper "
          f"up at {r.get('last_wrapper_s')} s, load {r.get('load', 0):.1f}")
    for what, (calls, wall, cpu, longest) in r.get("parts", {}).items():
        print(f"   {what:44} {int(calls):5d} calls  wall {wall:7.2f} s  cpu {cpu:6.2f} s  "
              f"longest {longest * 1000:7.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 100])
    ap.add_argument("--before", help="an older commit (or source folder) to compare with")
    ap.add_argument("--after", help="the commit to measure (default: this checkout as it is)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folders")
    ap.add_argument("--json", type=Path, help="write every run's figures here")
    a = ap.parse_args()
    trees: list[tuple[str, str, str | None]] = [
        ("after", snapshot_python(a.after)[0], None) if a.after else
        ("after", PY, str(BENCH.parent))]
    if a.before:
        trees.insert(0, ("before", PY, str(Path(a.before).resolve()))
                     if Path(a.before).is_dir() else
                     ("before", snapshot_python(a.before)[0], None))
    results: list[dict[str, Any]] = []
    for n in a.n:
        for _ in range(a.rounds):
            for tree in trees:
                r = one(n, tree, a.keep)
                show(r)
                results.append(r)
    print("\nspawn N attempts, launch to all running (s):")
    for n in a.n:
        got = {label: [r["spawn_s"] for r in results if r["n"] == n and r["tree"] == label
                       and r.get("spawn_s") is not None] for label, _, _ in trees}
        line = "  ".join(f"{label} {min(v):.2f} (of {len(v)})" for label, v in got.items() if v)
        if a.before and got.get("before") and got.get("after"):
            line += f"  after/before {min(got['after']) / min(got['before']):.2f}"
        print(f"  N={n}: {line}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
