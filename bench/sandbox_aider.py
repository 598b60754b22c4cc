"""What the box costs Aider (a Python program in a virtual environment of its own): making the
box (its folders, the copy of Aider's state, git's identity asked once), and starting the real
Aider (``aider --version``: its interpreter, its imports from the venv mounted read-only)
boxed against unboxed, alternating so the machine's noise falls on both; wall time and the CPU
seconds of the child processes; and the largest resident set of the process tree either way.

    .venv/bin/python bench/sandbox_aider.py [N]     (needs tests/aider_cli.py's Aider)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sandbox import git, one_commit_repo
from swarmtui import protocol as P
from swarmtui.engine.sandbox.box import Box
from tests.aider_cli import aider_env, find_aider

TIME = ["/usr/bin/time", "-f", "TIMED %U %S %M"]  # in /usr: there in the box too


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds (from Popen), and the CPU seconds and peak RSS (KiB) of Aider itself as
    GNU time, its parent, saw them: inside the box for a boxed run (bubblewrap's pid
    namespace keeps the tree's usage from the wrapper's ``wait4``)."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("TIMED ")]
    if done.returncode != 0 or not line:
        raise SystemExit(f"{argv[-2:]} exited {done.returncode}: {done.stderr[-500:]}")
    _, user, system, rss = line[-1].split()
    return wall, float(user) + float(system), int(rss)


def med(xs: list[float], scale: float = 1.0, unit: str = "s") -> str:
    return f"{statistics.median(xs) * scale:.2f} {unit}"


def main(n: int) -> None:
    found = find_aider()
    if found.path is None:
        raise SystemExit(found.reason)
    root = Path(tempfile.mkdtemp(prefix="sbx-aider-"))
    repo = one_commit_repo(root)
    env = aider_env(root / "home", "http://127.0.0.1:9", model="gpt-5.5")
    argv = [str(found.path), "--version"]
    plain: list[tuple[float, float, int]] = []
    boxed: list[tuple[float, float, int]] = []
    setup: list[float] = []
    for i in range(n):
        task = f"t{i}"
        wt, adir = P.worktree_dir(repo, task, 1), P.agent_dir(repo, task, 1)
        adir.mkdir(parents=True)
        git(repo, "worktree", "add", "-q", "-b", P.branch_name(task, 1), str(wt))
        t0 = time.perf_counter()
        box = Box.open(adir, {"sandbox": {"mode": "bwrap", "repo": str(repo), "task": task,
                                          "worktree": str(wt), "branch": P.branch_name(task, 1)}})
        bargv, benv = box.command(list(argv), dict(env), "aider", str(wt))
        setup.append(time.perf_counter() - t0)
        cut = len(bargv) - len(argv)  # GNU time goes in front of Aider, inside the box
        bargv = [*bargv[:cut], *TIME, *bargv[cut:]]
        first, second = ((bargv, benv, boxed), ([*TIME, *argv], env, plain))[
            :: 1 if i % 2 else -1]
        for a, e, into in (first, second):
            into.append(run(a, e, wt))
        box.close()
    print(f"aider --version, {n} runs each, alternating (median): unboxed "
          f"{med([w for w, _, _ in plain])} wall, {med([c for _, c, _ in plain])} CPU, "
          f"{statistics.median(m for _, _, m in plain) / 1024:.0f} MiB peak RSS; boxed "
          f"{med([w for w, _, _ in boxed])} wall, {med([c for _, c, _ in boxed])} CPU, "
          f"{statistics.median(m for _, _, m in boxed) / 1024:.0f} MiB peak RSS; making the "
          f"box {med(setup, 1000, 'ms')}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
