"""`swarmtui status --json` wall time at N tasks, before and after, in one run.

For each N a repository holds a run of N tasks (``bench/status_fleet.py``: the events a
supervisor writes, through the real store API). Each variant runs ``python -m swarmtui status
--json`` as a fresh process, round-robin over the variants so the box's noise falls on all of
them alike, and the median wall and CPU times are printed:

- ``before``: the code at ``--before`` (default ``main``), answering from the log;
- ``before file``: the same code, answering from a live status file (as ``file`` below);
- ``log``: the code at ``--after`` (default ``HEAD``) with no supervisor (from the log);
- ``file``: the same code with a live status file: this process holds the run lock, as a
  supervisor does, and writes the file with the supervisor's own ``statuswriter.document``;
- ``file+pyc``: the same with the code's bytecode compiled beforehand (``compileall``, as a
  wheel install does), for boxes where ``PYTHONDONTWRITEBYTECODE`` is set.

Also printed: what the supervisor's loop pays to build the view at N (the rest of a write runs
on a worker). Each answer from the file is checked against the log's.

``--live N`` adds a run with a real supervisor (``swarmtui up --headless`` of the after code, on
a tmux server of its own) and N agents that each report progress every ``--pace`` seconds: the
log moves all the time, so most calls find the file behind and wait for the supervisor's next
write. It prints how many calls the file answered, and the times of both codes.

Asserts nothing; tests never time anything.
``--before-python PY`` runs the before variants with another interpreter (e.g. the python of a
venv installed as before this change: setuptools' import finder, ``/work/main/.venv/bin/python``).

Run: ``.venv/bin/python bench/status.py [--n 10 100 500] [--runs 9] [--live 50 --pace 0.5]``.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def snapshot(ref: str, into: Path) -> Path:
    """The package as committed at ``ref``, unpacked under ``into``."""
    into.mkdir(parents=True)
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "swarmtui"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


PYTHONS: dict[str, str] = {}  # a variant run by another interpreter (``--before-python``)


def one(code: Path, repo: Path, name: str = "") -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one `status --json` run with the package at ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([PYTHONS.get(name, sys.executable), "-m", "swarmtui", "status",
                           "--json", "--repo", str(repo)], env=env, cwd=code,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"status failed: {done.stderr}")
    return wall, cpu, done.stdout


def timeless(text: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(text)
    for row in obj["tasks"]:
        row.pop("last_progress_age_s")
        row.pop("runtime_s")
    obj["run"].pop("supervisor")
    obj["run"].pop("state")  # "orphaned" without the lock, "running" with it
    return obj


def measure(n: int, codes: dict[str, Path], runs: int, work: Path) -> dict[str, Any]:
    from status_fleet import build

    from swarmtui import protocol as P
    from swarmtui.engine.run import supervisor  # noqa: F401 - the modules a supervisor has
    from swarmtui.engine.run.runconfig import config_of_run
    from swarmtui.engine.run.statusview import view
    from swarmtui.engine.run.statuswriter import code_identity, document
    from swarmtui.runlock import RunLock
    from swarmtui.statusfile import write
    from swarmtui.store import Store

    repo, config = build(work / f"n{n}", n)
    with Store(repo / P.SWARM_DIR / P.STATE_DB) as store:
        state = store.replay()
    config = config_of_run(state.settings, config)
    loop_ms = []
    for _ in range(5):
        t0 = time.perf_counter()
        view(state, config, time.time())
        loop_ms.append((time.perf_counter() - t0) * 1000)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in
                                                    ("before", "before file", "log", "file",
                                                     "file+pyc")}
    outs: dict[str, str] = {}
    lock = RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
    code = code_identity()
    for _ in range(runs):
        for name in times:
            live = "file" in name
            if live:  # the file names the copy of the code that reads it
                assert lock.acquire()
                root = (codes[name] / "swarmtui").resolve()
                mine = {**code, "root": str(root), "files": [  # that copy's own modules
                    [rel, (root / rel).stat().st_size, (root / rel).stat().st_mtime_ns]
                    for rel, _, _ in code["files"]]}
                write(repo / P.SWARM_DIR, *document(state, config, time.time(), code=mine,
                                                    vouched=[]))
            try:
                wall, cpu, out = one(codes[name], repo, name)
            finally:
                lock.release()
            times[name].append((wall, cpu))
            outs[name] = out
    same = (timeless(outs["file"]) == timeless(outs["log"]) == timeless(outs["before"])
            == timeless(outs["before file"]))
    size = (repo / P.SWARM_DIR / "status.json").stat().st_size
    return {"n": n, "same": same, "file_kb": round(size / 1024), "view_ms":
            round(statistics.median(loop_ms), 1),
            **{k: (round(statistics.median(w for w, _ in v) * 1000),
                   round(statistics.median(c for _, c in v) * 1000)) for k, v in times.items()}}


AGENT = ("import os, time\np = os.environ['SWARM_PROGRESS_FILE']\nwhile True:\n"
         "    with open(p, 'a') as f:\n"
         "        f.write(time.strftime('%Y-%m-%dT%H:%M:%SZ') + ' - tick\\n')\n"
         "    time.sleep({pace})\n")
ASK = ("import sys\nfrom swarmtui.cli import main\nrc = main(sys.argv[1:])\n"
       "print('pydantic' in sys.modules, file=sys.stderr)\n")


def live(n: int, pace: float, runs: int, codes: dict[str, Path], work: Path) -> str:
    """A real supervisor with ``n`` agents reporting every ``pace`` s: `status --json` times."""
    from status_fleet import make_repo

    repo, _ = make_repo(work / "live")
    sock = f"/tmp/swt-bench-{os.getpid()}.sock"
    env = {**os.environ, "PYTHONPATH": str(codes["file"]), "SWARMTUI_TMUX_SOCKET": sock}
    cfg = work / "live.toml"
    argv = json.dumps([sys.executable, "-c", AGENT.format(pace=pace)])
    cfg.write_text(f'[slots]\nmax_agents = {n}\nreserve = 0\nmin_free_memory = "0"\n'
                   f'[slots.pools]\nworker = {n}\n[run]\ndefault_agent = "a"\n'
                   f'[agents.a]\ncommand = {argv}\n')
    tasks = work / "live-tasks.toml"
    tasks.write_text("".join(f'[[task]]\nid = "t{i}"\nprompt = "tick"\n' for i in range(n)))
    up = subprocess.Popen([sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless",
                           "--repo", str(repo), "--config", str(cfg)], env=env, cwd=codes["file"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            out = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--json", "--repo",
                                  str(repo)], env=env, cwd=codes["file"], capture_output=True,
                                 text=True).stdout
            if out and sum(r["last_progress"] == "tick" for r in json.loads(out)["tasks"]) == n:
                break
            if time.monotonic() > deadline or up.poll() is not None:
                raise SystemExit("the live run did not get all its agents reporting")
            time.sleep(1)
        got: dict[str, list[tuple[float, float]]] = {"before": [], "file": []}
        answered = 0
        for _ in range(runs):
            for name in got:
                b = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", ASK, "status", "--json", "--repo",
                                       str(repo)], env={**env, "PYTHONPATH": str(codes[name])},
                                      cwd=codes[name], capture_output=True, text=True)
                wall = time.perf_counter() - t0
                a = resource.getrusage(resource.RUSAGE_CHILDREN)
                got[name].append((wall, a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime))
                if name == "file" and done.stderr.split()[-1:] == ["False"]:
                    answered += 1
        med = {k: (round(statistics.median(w for w, _ in v) * 1000),
                   round(statistics.median(c for _, c in v) * 1000)) for k, v in got.items()}
        return (f"live: {n} agents, a progress line each every {pace} s: before (log) "
                f"{med['before'][0]} / {med['before'][1]} ms, after {med['file'][0]} / "
                f"{med['file'][1]} ms (wall / CPU, median of {runs}); the file answered "
                f"{answered} of {runs}")
    finally:
        subprocess.run([sys.executable, "-m", "swarmtui", "down", "--repo", str(repo)], env=env,
                       cwd=codes["file"], capture_output=True, timeout=120)
        if up.poll() is None:
            up.kill()
        up.wait(30)
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 100, 500])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--before", default="main")
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--live", type=int, default=0, metavar="N")
    ap.add_argument("--pace", type=float, default=0.5)
    ap.add_argument("--before-python", default=sys.executable,
                    help="the interpreter of the before variants (a venv installed the old way)")
    a = ap.parse_args()
    PYTHONS["before"] = PYTHONS["before file"] = a.before_python
    with tempfile.TemporaryDirectory(prefix="swarmtui-status-") as d:
        work = Path(d)
        before = snapshot(a.before, work / "before")
        after = snapshot(a.after, work / "after")
        compiled = snapshot(a.after, work / "compiled")
        compileall.compile_dir(compiled / "swarmtui", quiet=1)
        sys.path[:0] = [str(after), str(Path(__file__).resolve().parent)]
        for mod in [m for m in sys.modules if m == "swarmtui" or m.startswith("swarmtui.")]:
            del sys.modules[mod]
        codes = {"before": before, "before file": before, "log": after, "file": after,
                 "file+pyc": compiled}
        rows = [measure(n, codes, a.runs, work) for n in a.n]
        print(f"status --json, median of {a.runs} runs (wall ms / CPU ms); "
              f"before={a.before} after={a.after}; PYTHONDONTWRITEBYTECODE="
              f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
        print("| N | before (log) | before, status file | after, no supervisor (log) | "
              "after, status file | after, status file, compiled | ratio before/file | "
              "view on the loop (ms) | file (KB) | same answer |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            ratio = r["before"][0] / max(1, r["file"][0])
            bf = r["before file"]
            print(f"| {r['n']} | {r['before'][0]} / {r['before'][1]} | {bf[0]} / {bf[1]} | "
                  f"{r['log'][0]} / "
                  f"{r['log'][1]} | {r['file'][0]} / {r['file'][1]} | {r['file+pyc'][0]} / "
                  f"{r['file+pyc'][1]} | {ratio:.1f}x | {r['view_ms']} | {r['file_kb']} | "
                  f"{'yes' if r['same'] else 'NO'} |")
        if a.live:
            print(live(a.live, a.pace, a.runs, codes, work))


if __name__ == "__main__":
    main()
