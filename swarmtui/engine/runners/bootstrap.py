"""Copying untracked files (``[worktree] copy``) from the repository into a new worktree.

A worktree is a clean checkout: the ``.env``, local settings or generated config a project needs
to run at all are not in it. The operator names them (paths or globs relative to the
repository); each new worktree gets a copy before its setup command and its agent run. What git
tracks is never overwritten (the branch's version wins), nothing outside the repository is read,
and symbolic links are copied as links, not followed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.config.agentcfg import copy_pattern_problem

MAX_ENTRIES = 10_000  # files copied per worktree: a glob that matches the world stops here


@dataclass
class Copied:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # patterns that matched nothing
    skipped: list[str] = field(default_factory=list)  # present in the worktree (tracked)


def copy_untracked(repo: Path, worktree: Path, patterns: Sequence[str]) -> Copied:
    out = Copied()
    for pattern in patterns:
        if copy_pattern_problem(pattern) is not None:
            out.missing.append(pattern)
            continue
        matches = sorted(repo.glob(pattern)) if _is_glob(pattern) else [repo / pattern]
        found = False
        for src in matches:
            if not (src.is_symlink() or src.exists()):
                continue
            rel = src.relative_to(repo)
            if rel.parts and rel.parts[0] in (".git", P.SWARM_DIR):
                continue
            found = True
            for one in _walk(src):
                if len(out.files) >= MAX_ENTRIES:
                    return out
                name = one.relative_to(repo).as_posix()
                dst = worktree / name
                if dst.exists() or dst.is_symlink():
                    out.skipped.append(name)
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                if one.is_symlink():
                    os.symlink(os.readlink(one), dst)
                else:
                    shutil.copy2(one, dst, follow_symlinks=False)
                out.files.append(name)
        if not found:
            out.missing.append(pattern)
    return out


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _walk(src: Path) -> list[Path]:
    """``src`` itself, or every file and link below it (links to folders are not entered)."""
    if src.is_symlink() or not src.is_dir():
        return [src] if (src.is_symlink() or src.is_file()) else []
    found: list[Path] = []
    for root, dirs, files in os.walk(src, followlinks=False):
        base = Path(root)
        for d in list(dirs):
            if (base / d).is_symlink():
                found.append(base / d)
                dirs.remove(d)
        found.extend(base / f for f in files if (base / f).is_symlink() or (base / f).is_file())
        if len(found) > MAX_ENTRIES:
            break
    return sorted(found)
