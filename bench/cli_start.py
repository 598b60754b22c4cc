"""CPU per call of common `swarmtui` commands, before and after, in one run.

Every CLI call the tests and people start pays Python's start, the venv's `site`, imports and
only then the command's work. For each variant this runs each command as a fresh process,
round-robin over the variants so the box's noise falls on all alike, and prints the median CPU
(user + system, the process and its children: git included) per call:

- ``before``: ``git archive`` of ``--before`` (default ``main``) run by ``--before-python``
  (default: this venv's python; give the python of a venv installed the old way, e.g.
  ``/work/main/.venv/bin/python``, to count the old editable install's import finder too);
- ``after``: ``--after`` (default ``HEAD``) run by this venv's python.

Both copies are imported from their folder by ``PYTHONPATH``, without bytecode (as this box's
``PYTHONDONTWRITEBYTECODE`` leaves an editable install), or compiled first with ``--compiled``.
The repository is a run of ``--tasks`` tasks with no supervisor (``bench/status_fleet.py``), so
`kill` replays the log and stops at "no supervisor is running", `events` prints the log, and
`status` answers from the log. ``--up N`` adds N runs each of ``up --headless`` of one task whose
agent reports and writes its results at once (a tmux server of its own per run): the CPU of
the `up` process and its children (the supervisor, git; not the wrapper and agent, which tmux
starts), start to exit. Asserts nothing; tests never time anything.

Run: ``.venv/bin/python bench/cli_start.py [--runs 9] [--before-python PY] [--compiled]
[--up 3]``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from status import snapshot
from status_fleet import build

COMMANDS = (["-c", "pass"], ["--help"], ["kill", "t0001"], ["events"], ["status", "--json"],
            ["ledger"])


def cpu_ms(py: str, code: Path, argv: list[str], repo: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [py, *argv] if argv[0] == "-c" else [py, "-m", "swarmtui", *argv, *(
        ["--repo", str(repo)] if argv[0] != "--help" else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


AGENT = ('echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) - done [outputs: 1]" >> "$SWARM_PROGRESS_FILE"; '
         'printf \'{"status":"done","summary":"ok","files_modified":[]}\' > '
         '"$SWARM_RESULTS_FILE"')


def up_cpu_ms(py: str, code: Path, work: Path) -> float:
    """CPU of one `up --headless` of one quick task, in a fresh repository."""
    from status_fleet import make_repo

    work.mkdir(parents=True)
    repo, _ = make_repo(work)
    cfg = work / "c.toml"
    cfg.write_text('[slots]\nmax_agents = 1\nreserve = 0\nmin_free_memory = "0"\n'
                   '[heartbeat]\ntick = "100ms"\n[run]\ndefault_agent = "a"\n'
                   f'[agents.a]\ncommand = {json.dumps(["sh", "-c", AGENT])}\n')
    tasks = work / "t.toml"
    tasks.write_text('[[task]]\nid = "t1"\nprompt = "go"\n')
    sock = str(work / "tmux.sock")
    env = {**os.environ, "PYTHONPATH": str(code), "SWARMTUI_TMUX_SOCKET": sock}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run([py, "-m", "swarmtui", "up", str(tasks), "--headless", "--repo",
                               str(repo), "--config", str(cfg)], env=env, cwd=code,
                              capture_output=True, text=True, timeout=300, check=False)
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"up --headless failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--before", default="main")
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--before-python", default=sys.executable)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--compiled", action="store_true")
    ap.add_argument("--up", type=int, default=0, metavar="N")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarmtui-cli-") as d:
        work = Path(d)
        codes = {"before": snapshot(a.before, work / "before"),
                 "after": snapshot(a.after, work / "after")}
        if a.compiled:
            for code in codes.values():
                compileall.compile_dir(code / "swarmtui", quiet=1)
        pys = {"before": a.before_python, "after": sys.executable}
        repo, _ = build(work / "run", a.tasks)
        got: dict[tuple[str, str], list[float]] = {}
        for i in range(a.up):
            for name in codes:
                got.setdefault(("up --headless", name), []).append(
                    up_cpu_ms(pys[name], codes[name], work / f"up-{name}-{i}"))
        for _ in range(a.runs):
            for argv in COMMANDS:
                for name in codes:
                    got.setdefault((" ".join(argv), name), []).append(
                        cpu_ms(pys[name], codes[name], argv, repo))
        print(f"CPU ms per call, median of {a.runs}: before={a.before} ({a.before_python}) "
              f"after={a.after} ({sys.executable}); bytecode "
              f"{'compiled' if a.compiled else 'not compiled'}; {a.tasks} tasks")
        print("| command | before | after | after / before |")
        print("|---|---|---|---|")
        for argv in [*COMMANDS, *([["up --headless"]] if a.up else [])]:
            key = " ".join(argv)
            b, f = (statistics.median(got[key, n]) for n in ("before", "after"))
            shown = "python -c pass" if argv[0] == "-c" else f"swarmtui {key}"
            print(f"| `{shown}` | {b:.0f} | {f:.0f} | {f / b:.2f} |")


if __name__ == "__main__":
    main()
