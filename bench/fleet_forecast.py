"""The merge forecast on K branches, driven directly: ``Forecaster`` from
``swarmtui/engine/integrate/forecast.py`` on a throwaway repository.

The repository has ``files`` tracked files on ``main`` and K branches ``swarm/tNNN-1``, each
one commit ahead of ``main`` changing a file of its own and, for every ``conflict_every``-th
branch, a line of a shared file (so some pairs conflict, as real fleets do). Timed, each the
way ``ForecastDriver`` runs a pass (branch heads and target tip in one call each, then
``Forecaster.forecast``):

* the first pass (empty caches: K merge-trees against the target and K(K-1)/2 between pairs);
* a pass after one branch moved (a new commit on one branch: the caches hold the rest);
* a pass after nothing moved (what every forecast tick costs when the fleet is idle).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from swarmtui.engine.integrate.forecast import Candidate, Forecaster
from swarmtui.engine.runtime.git import Git

ENV_ARGS = ["-c", "user.name=bench", "-c", "user.email=bench@swarmtui.invalid",
            "-c", "commit.gpgsign=false"]


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *ENV_ARGS, *args], cwd=repo, check=True, text=True,
                          input=stdin, capture_output=True).stdout


def build(repo: Path, k: int, *, files: int = 200, conflict_every: int = 10) -> None:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    src = repo / "src"
    src.mkdir()
    for i in range(files):
        (src / f"mod{i:03d}.py").write_text("".join(f"def f{i}_{j}():\n    return {j}\n"
                                                    for j in range(20)))
    (repo / "shared.txt").write_text("".join(f"line {j}\n" for j in range(50)))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    for b in range(k):
        _git(repo, "checkout", "-q", "-b", f"swarm/t{b:03d}-1", "main")
        (src / f"mod{b % files:03d}.py").write_text(
            (src / f"mod{b % files:03d}.py").read_text() + f"# branch {b}\n")
        (repo / f"new_{b:03d}.txt").write_text(f"work of branch {b}\n")
        if conflict_every and b % conflict_every == 0:
            lines = (repo / "shared.txt").read_text().splitlines(keepends=True)
            lines[10] = f"line 10 as branch {b} wants it\n"
            (repo / "shared.txt").write_text("".join(lines))
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"branch {b}")
    _git(repo, "checkout", "-q", "main")


def one_pass(git: Git, fc: Forecaster, k: int) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    heads = git.heads("refs/heads/swarm/")
    git.rev("main")
    cands = [Candidate(task=f"t{b:03d}", branch=f"swarm/t{b:03d}-1",
                       head=heads[f"swarm/t{b:03d}-1"], files=()) for b in range(k)]
    out = fc.forecast("main", cands, [])
    return time.perf_counter() - t0, out


def measure(k: int, *, files: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="swt-bench-forecast-") as d:
        repo = Path(d) / "repo"
        t0 = time.perf_counter()
        build(repo, k, files=files)
        built = time.perf_counter() - t0
        git = Git(repo)
        fc = Forecaster(git)
        first, out = one_pass(git, fc, k)
        conflicts = sum(1 for v in out.values() if v.get("conflicts_with"))
        # One branch moves: a new commit on branch 1 (made in a worktree of its own).
        wt = Path(d) / "wt"
        _git(repo, "worktree", "add", "-q", str(wt), "swarm/t001-1")
        (wt / "new_001.txt").write_text("more work of branch 1\n")
        _git(wt, "commit", "-q", "-am", "branch 1 moves")
        moved, _ = one_pass(git, fc, k)
        still, _ = one_pass(git, fc, k)
        return {"branches": k, "files": files, "build_s": round(built, 2),
                "first_pass_s": round(first, 3), "after_one_moved_s": round(moved, 3),
                "nothing_moved_s": round(still, 3), "tasks_with_pair_conflicts": conflicts,
                "merge_tree_calls_first": k + k * (k - 1) // 2,
                "merge_tree_calls_after_move": 1 + (k - 1)}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 50), indent=2))
