"""What the agent's sandbox costs: the time from the wrapper's Popen to the agent's first
instruction, and the memory the box adds per agent (bubblewrap's two processes, measured as
their proportional set size), boxed against unboxed, with a real git worktree.

    .venv/bin/python bench/sandbox.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.sandbox.box import Box


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo,
                   check=True, capture_output=True)


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("Pss:"))


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="sbx-bench-"))
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home")}
    plain: list[float] = []
    boxed: list[float] = []
    setup: list[float] = []
    mem: list[int] = []
    for i in range(n):
        task = f"t{i}"
        wt, adir = P.worktree_dir(repo, task, 1), P.agent_dir(repo, task, 1)
        adir.mkdir(parents=True)
        git(repo, "worktree", "add", "-q", "-b", P.branch_name(task, 1), str(wt))
        t0 = time.perf_counter()
        subprocess.run(["true"], env=env, cwd=wt, check=True)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        box = Box.open(adir, {"sandbox": {"mode": "bwrap", "repo": str(repo), "task": task,
                                          "worktree": str(wt), "branch": P.branch_name(task, 1)}})
        argv, benv = box.command(["true"], dict(env), "claude", str(wt))
        setup.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(argv, env=benv, check=True)
        boxed.append(time.perf_counter() - t0)
        # Memory: a box around a sleeping agent; bwrap's own processes are the cost.
        argv, benv = box.command(["sleep", "30"], dict(env), "claude", str(wt))
        proc = subprocess.Popen(argv, env=benv)
        time.sleep(0.3)  # bench only: let bwrap finish setting up
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
        mem.append(pss_kib(proc.pid) + sum(pss_kib(int(k)) for k in kids
                                           if Path(f"/proc/{k}/comm").read_text().strip()
                                           == "bwrap"))
        proc.kill()
        proc.wait()
        box.close()
    ms = lambda xs: f"{statistics.median(xs) * 1000:.1f} ms"  # noqa: E731
    print(f"{n} attempts: start `true` unboxed {ms(plain)}, boxed {ms(boxed)} "
          f"(+ {ms(setup)} making the box: folders, ref copy, channel); bubblewrap's "
          f"processes per agent: {statistics.median(mem) / 1024:.1f} MiB PSS")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
