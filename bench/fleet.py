"""Fleet benchmark (issue 12): real runs of N light synthetic agents under the real supervisor.

For each N (default 10 50 100 200 500; ``--quick``: 10 50) it starts a real run: a temporary
repository, the run's own tmux server on a socket in its temporary folder, real worktrees and tmux
windows, and ``python -m swarmtui up TASKS --headless`` (through ``bench/fleet_sup.py``, which
only adds a record of the loop's tick lengths) with N agents ``bench/fleet_agent.py`` that
write a time-stamped progress line every ``--interval`` seconds. Phases, in one run:

* idle: agents write progress lines only;
* busy: 2000 log lines per second across the fleet on the agents' stdout (the wrapper shows
  them in the pane and tees them to output.log);
* baseline: agents idle again, and a separate process polls the fleet the way peer tools do
  (``tmux capture-pane -p`` plus a hash for every pane and ``git diff --stat`` in every
  worktree, every 500 ms).

Measured: event latency (the agent's time stamp in each progress line to the ``time`` of its
``progress`` event in the store), UI latency (that event to the row update in a headless
``swarmtui watch`` app in its own process, ``bench/fleet_watch.py``), CPU (share of one core)
and memory from /proc of the supervisor, every wrapper, swarmtui's tmux server and the watch
app, tmux and git commands the supervisor started (shim ``tmux``/``git`` scripts first on its
PATH log each call), tick lengths, time to spawn N attempts, ``status --json`` wall time, the
merge forecast on K branches (``bench/fleet_forecast.py``), and correctness (every progress
line has its event; no agent killed as stuck). Prints a table and the goals with pass/miss,
and saves JSON and markdown under bench/results/. Asserts nothing.

Run: python bench/fleet.py [--quick] [--n 10 50 100] [--idle 30] [--busy 30] [--baseline 20]

Check mode (issue 24's goal table at N = 10, 100 and 500; exits 1 and lists what falls short):
python bench/fleet.py --check, or python bench/fleet.py --check-file bench/results/X.json to
judge a saved run again without running it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_forecast
import fleet_goals
import fleet_profile
import fleet_report as rep
from fleet_analyze import analyze
from fleet_run import FleetRun, Params, warm_bytecode

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def snapshot_python(ref: str) -> tuple[str, str]:
    """A Python that imports swarmtui as committed at ``ref`` (for a stable measurement while
    the working tree is being edited): ``git archive`` of the package (read-only on the
    repository) into /tmp, and a venv whose only addition is a .pth line with that folder
    ahead of this venv's site-packages (for the dependencies). Returns (python, commit)."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    base = Path(f"/tmp/swt-bench-src-{sha[:12]}")
    py = base / "venv" / "bin" / "python"
    if not py.exists():
        src = base / "src"
        src.mkdir(parents=True, exist_ok=True)
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "swarmtui"],
                              capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=arch, check=True)
        base_py = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base_py, "-m", "venv", "--without-pip", str(base / "venv")],
                       check=True)
        site = next((base / "venv" / "lib").glob("python3*/site-packages"))
        deps = next(Path(p) for p in sys.path if p.endswith("site-packages"))
        (site / "swarmtui-bench-snapshot.pth").write_text(f"{src}\n{deps}\n")
    return str(py), sha


def machine() -> dict[str, Any]:
    def out(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    mem = 0
    cpu = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    repo = Path(__file__).resolve().parent.parent
    return {
        "nproc": out("nproc"), "cpu": cpu, "memory_gib": round(mem / 2**30, 1),
        "python": platform.python_version(), "tmux": out("tmux", "-V"),
        "git": out("git", "--version"), "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "swarmtui_commit": out("git", "-C", str(repo), "rev-parse", "--short", "HEAD"),
        "swarmtui_tree_dirty": bool(out("git", "-C", str(repo), "status", "--porcelain",
                                        "--untracked-files=no")),
    }


def one(n: int, prm: Params) -> dict[str, Any]:
    run = FleetRun(n, prm)
    t0 = time.monotonic()
    res: dict[str, Any] = {"n": n}
    try:
        run.run()
    except BaseException as e:  # report it, clean up, go on
        res["error"] = f"{type(e).__name__}: {e}"
        run.facts.setdefault("t_done", time.time())  # lines after this may go unread
        traceback.print_exc()
        if isinstance(e, KeyboardInterrupt):
            res["interrupted"] = True
    finally:
        res["cleanup"] = run.cleanup()
    try:
        res.update(analyze(run))
    except Exception as e:  # a failed run may leave too little
        res.setdefault("error", f"analysis failed: {type(e).__name__}: {e}")
        traceback.print_exc()
    if prm.profile:
        for phase in ("idle", "busy", "idle-watch", "busy-watch"):
            f = Path(prm.profile) / f"profile-n{n}-{phase}.txt"
            if f.exists():
                summary = fleet_profile.summarize(f)
                res.setdefault("profile", {})[phase] = summary
                who = "watch TUI" if phase.endswith("watch") else "supervisor"
                print(f"\n{who} profile, N={n}, {phase.split('-')[0]} ({f}):\n"
                      + fleet_profile.text(summary))
    res["wall_s"] = round(time.monotonic() - t0, 1)
    res["folder"] = str(run.root) if prm.keep else None
    run.remove()
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 50, 100, 200, 500])
    ap.add_argument("--quick", action="store_true", help="N = 10 and 50, shorter phases")
    ap.add_argument("--idle", type=float, default=30.0, help="idle phase, seconds")
    ap.add_argument("--busy", type=float, default=30.0, help="busy phase, seconds")
    ap.add_argument("--baseline", type=float, default=20.0, help="baseline phase, seconds")
    ap.add_argument("--interval", type=float, default=2.0,
                    help="seconds between one agent's progress lines")
    ap.add_argument("--busy-lines", type=float, default=2000.0,
                    help="log lines per second across the fleet in the busy phase")
    ap.add_argument("--logs-gb", type=float, default=1.0,
                    help="GB of logs on disk (prefilled output.log) at N >= --logs-at")
    ap.add_argument("--logs-at", type=int, default=500)
    ap.add_argument("--branches", type=int, default=50, help="K branches for the forecast")
    ap.add_argument("--no-watch", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="py-spy records the supervisor in the idle and busy phases (skews "
                         "the figures: use a separate run)")
    ap.add_argument("--keep", action="store_true", help="keep each run's temp folder")
    ap.add_argument("--check", action="store_true",
                    help="run N = 10 100 500 (unless --n) and judge issue 24's goal table: "
                         "exit 1 when a figure falls short")
    ap.add_argument("--check-file", metavar="JSON", default="",
                    help="judge a saved run (bench/results/fleet-*.json) against the goals")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--snapshot", metavar="REF", default="",
                    help="measure swarmtui as committed at REF (git archive into /tmp and a "
                         "private venv) instead of the working tree")
    args = ap.parse_args()
    if args.check_file:
        saved = json.loads(Path(args.check_file).read_text())
        text, met = fleet_goals.check_text(saved["results"])
        print(f"goals (issue 24), {args.check_file}:\n{text}")
        return 0 if met else 1
    if args.check and "--n" not in sys.argv[1:]:
        args.n = list(fleet_goals.CHECK_NS)
    if args.snapshot and not os.environ.get("SWT_BENCH_SOURCE"):
        py, sha = snapshot_python(args.snapshot)
        os.environ["SWT_BENCH_SOURCE"] = f"{args.snapshot} ({sha[:10]})"
        os.environ["SWT_BENCH_COMMAND"] = "python " + shlex.join(["bench/fleet.py",
                                                                  *sys.argv[1:]])
        os.execv(py, [py, str(Path(__file__).resolve()), *sys.argv[1:]])
    ns = [10, 50] if args.quick else args.n
    if args.quick:
        args.idle, args.busy, args.baseline = min(args.idle, 15), min(args.busy, 15), min(
            args.baseline, 10)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    command = os.environ.get("SWT_BENCH_COMMAND") or "python " + shlex.join(
        ["bench/fleet.py", *sys.argv[1:]])
    info = machine()
    import swarmtui

    info["swarmtui_source"] = os.environ.get("SWT_BENCH_SOURCE") or "working tree"
    info["swarmtui_path"] = str(Path(swarmtui.__file__).parent)
    print(f"fleet bench: N = {ns}; machine: {info['nproc']} cores, {info['memory_gib']} GiB, "
          f"python {info['python']}, {info['tmux']}, {info['git']}; swarmtui from "
          f"{info['swarmtui_source']} ({info['swarmtui_path']})")
    t_all = time.monotonic()
    warm_bytecode()
    results: list[dict[str, Any]] = []
    for n in ns:
        prm = Params(idle_s=args.idle, busy_s=args.busy, baseline_s=args.baseline,
                     interval=args.interval, busy_lines=args.busy_lines,
                     watch=not args.no_watch, baseline=not args.no_baseline, keep=args.keep,
                     prefill_bytes=int(args.logs_gb * 1e9 / n) if n >= args.logs_at else 0,
                     profile=str(out_dir) if args.profile else "")
        print(f"\n== N={n}: starting the run ...", flush=True)
        r = one(n, prm)
        results.append(r)
        print(f"== N={n}: done in {r['wall_s']} s" + (f"  ERROR {r['error']}"
                                                     if "error" in r else ""), flush=True)
        if r.get("interrupted"):
            break
    forecast = None
    if args.branches > 0:
        print(f"\n== forecast on {args.branches} branches ...", flush=True)
        forecast = fleet_forecast.measure(args.branches)
    total = round(time.monotonic() - t_all, 1)
    ok = [r for r in results if "phases" in r]
    rows = rep.table(ok)
    gl = rep.goals(ok, forecast)
    print("\n" + rep.text_table(rows))
    if forecast:
        print(f"\nforecast, {forecast['branches']} branches: first pass "
              f"{forecast['first_pass_s']} s, after one branch moved "
              f"{forecast['after_one_moved_s']} s, nothing moved {forecast['nothing_moved_s']} s")
    print("\ngoals (issue 12):\n" + rep.goals_text(gl))
    check, met = fleet_goals.check_text(ok)
    print("\ngoals (issue 24):\n" + check)
    print(f"\nwhole bench: {total} s")
    doc = {"command": command, "machine": info, "started": stamp, "bench_seconds": total,
           "params": dict(vars(args)), "results": results,
           "forecast": forecast, "goals": [{"goal": g, "measured": v, "result": r}
                                           for g, v, r in gl]}
    js = out_dir / f"fleet-{stamp}.json"
    js.write_text(json.dumps(doc, indent=1, default=str))
    md = out_dir / f"fleet-{stamp}.md"
    md.write_text(markdown(doc, rows, gl))
    for src, name in ((js, "fleet-latest.json"), (md, "fleet-latest.md")):
        (out_dir / name).write_text(src.read_text())
    print(f"saved {js} and {md}")
    return 1 if args.check and not met else 0


def markdown(doc: dict[str, Any], rows: list[list[str]], gl: list[tuple[str, str, str]]) -> str:
    m = doc["machine"]
    fc = doc.get("forecast")
    parts = [f"# Fleet benchmark, {doc['started']}", "",
             f"Reproduce: `{doc['command']}` (whole bench: {doc['bench_seconds']} s)", "",
             f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python "
             f"{m['python']}, {m['tmux']}, {m['git']}, Linux {m['kernel']}, load average at "
             f"start {' '.join(m['loadavg_at_start'])}; swarmtui measured from "
             f"{m['swarmtui_source']} (HEAD {m['swarmtui_commit']}"
             f"{', working tree with uncommitted changes' if m['swarmtui_tree_dirty'] else ''}"
             ").", "",
             rep.md_table(rows), ""]
    if fc:
        parts += [f"Forecast on {fc['branches']} branches ({fc['files']} files): first pass "
                  f"{fc['first_pass_s']} s ({fc['merge_tree_calls_first']} merge-trees), after "
                  f"one branch moved {fc['after_one_moved_s']} s, nothing moved "
                  f"{fc['nothing_moved_s']} s.", ""]
    parts += ["## Goals", "", rep.goals_md(gl), ""]
    parts += ["## Goals of issue 24 (`--check`)", "", fleet_goals.check_md(doc["results"]), ""]
    errs = [f"- N={r['n']}: {r['error']}" for r in doc["results"] if r.get("error")]
    if errs:
        parts += ["## Errors", "", *errs, ""]
    return "\n".join(parts)


if __name__ == "__main__":
    if os.environ.get("TMUX"):
        os.environ.pop("TMUX")
    sys.exit(main())
