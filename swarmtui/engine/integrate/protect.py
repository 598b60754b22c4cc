"""Protected paths: what no task's branch may change (the run's own files above all).

An agent works in a worktree under ``.swarm/`` of the very repository it changes: a branch that
commits ``.swarm/state.db`` would, once merged into a checked-out target, replace the run's
event log. ``merge.protected`` (default ``.swarm/``) plus the run's own task and config files,
when they live in the repository, are refused by verification (before the verify command
runs) and by every merge.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from swarmtui.engine.scope import normalise

NAMED = 10  # paths named in a sentence; the payload keeps the rest (bounded below)
KEPT = 200


def protected_globs(repo: Path, configured: Iterable[str], own_files: Iterable[str]) -> tuple[
        str, ...]:
    """``configured`` globs plus each of the run's ``own_files`` (absolute paths, as the CLI
    records them) that lies inside ``repo``, as a repository-relative path: a file elsewhere
    cannot be changed by a branch."""
    globs = list(configured)
    root = os.path.realpath(repo)
    for f in own_files:
        if not f or not os.path.isabs(f):
            continue
        rel = os.path.relpath(os.path.realpath(f), root)
        if rel != "." and rel != ".." and not rel.startswith(".." + os.sep):
            globs.append(Path(rel).as_posix())
    return tuple(dict.fromkeys(globs))


def touched(paths: Iterable[str], globs: Sequence[str]) -> list[str]:
    """The paths that a protected glob matches (fnmatch's ``*`` also crosses ``/``), at most
    ``KEPT`` of them."""
    pats = [normalise(g) for g in globs]
    hits = [f for f in paths if any(fnmatchcase(f, p) for p in pats)]
    return hits[:KEPT]


def named(paths: Sequence[str], total: int | None = None) -> str:
    """``a, b, c (+7 more)``: a bounded list for one sentence."""
    n = len(paths) if total is None else total
    text = ", ".join(paths[:NAMED])
    return text + (f" (+{n - NAMED} more)" if n > NAMED else "")


def protected_sentence(branch: str, paths: Sequence[str]) -> str:
    return (f"{branch} changes protected paths ({named(paths)}); nothing of it is merged. "
            "Those paths belong to the run or are listed in merge.protected: remove them from "
            "the branch, or change merge.protected, then retry")
