"""Marks of what a git call would read, so the call can be skipped when nothing has moved.

A mark is a hash of the ``lstat`` of every entry under a folder (its mode, size, inode, and
mtime and ctime in ns) and of a few named files (a worktree's index and HEAD, the repository's
ref files). Any write to a file changes its ctime, which no one can set back, and creating,
removing or renaming an entry changes its folder's; so when two marks are equal, nothing under
the folder or in those files was written between them, and ``git diff`` or ``git for-each-ref``
would print what it printed last time.

Like git's own index (its "racily clean" entries), a mark is withheld (None) while any entry
is younger than ``RACY_S``: file times come from a clock that may lag the write by a tick, so a
second write in that tick could leave a time unchanged. None also when the walk meets more than
``limit`` entries (a huge tree: git is cheaper then) or cannot read a folder. None means "call
git". Nothing is followed: links are marked as links, their targets never read.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path

RACY_S = 2.0
GITDIR_CAP = 4096  # bytes of a worktree entry's ``gitdir`` file worth reading


class _TooMany(Exception):
    pass


class _Marks:
    """What a walk has seen so far, and the newest time among it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: list[tuple[object, ...]] = []
        self.newest = 0

    def add(self, name: str, st: os.stat_result | None) -> None:
        if st is None:
            self.seen.append((name,))
            return
        self.seen.append((name, st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns,
                          st.st_ctime_ns))
        self.newest = max(self.newest, st.st_mtime_ns, st.st_ctime_ns)
        if len(self.seen) > self.limit:
            raise _TooMany


def mark(folder: Path | None, files: Sequence[Path] = (), *, limit: int = 4000,
         skip_top: frozenset[str] = frozenset()) -> int | None:
    """The mark of ``folder`` (every entry below it but below the top-level names in
    ``skip_top``, whose own stat still counts) and ``files``; None as the module says."""
    marks = _Marks(limit)
    racy = time.time_ns() - int(RACY_S * 1e9)
    try:
        for f in files:
            try:
                marks.add(str(f), os.lstat(f))
            except FileNotFoundError:
                marks.add(str(f), None)
        if folder is not None:
            marks.add("", os.lstat(folder))
            _walk(str(folder), marks, skip_top, top=True)
    except (_TooMany, OSError):
        return None
    if marks.newest >= racy:
        return None
    return hash(tuple(marks.seen))


def _walk(folder: str, marks: _Marks, skip_top: frozenset[str], *, top: bool) -> None:
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        st = e.stat(follow_symlinks=False)
        marks.add(e.path, st)
        if stat.S_ISDIR(st.st_mode) and not (top and e.name in skip_top):
            _walk(e.path, marks, skip_top, top=False)


def worktree_files(common: Path, worktree: Path, branch: str) -> list[Path] | None:
    """The files outside a linked worktree that ``git diff`` and ``rev-parse HEAD`` in it read:
    its entry's HEAD and index, the branch's loose ref, ``packed-refs``, the exclude file and
    the config. None when the entry under ``common/worktrees`` is not this worktree's (git
    named it otherwise) or the refs are kept in a reftable (no mark then)."""
    admin = common / "worktrees" / worktree.name
    try:
        fd = os.open(admin / "gitdir", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            text = os.read(fd, GITDIR_CAP).decode("utf-8", "replace").strip()
        finally:
            os.close(fd)
    except OSError:
        return None
    if text != str(worktree.resolve() / ".git") or (common / "reftable").exists():
        return None
    return [admin / "HEAD", admin / "index", common / "refs" / "heads" / branch,
            common / "packed-refs", common / "info" / "exclude", common / "config"]


def refs_mark(common: Path, *, limit: int = 20000) -> int | None:
    """The mark of every ref of the repository: ``refs/`` walked, ``packed-refs`` and
    ``HEAD``. None for a reftable repository or more than ``limit`` loose refs."""
    if (common / "reftable").exists():
        return None
    return mark(common / "refs", [common / "packed-refs", common / "HEAD"], limit=limit)
