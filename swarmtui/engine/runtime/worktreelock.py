"""One writer at a time in a repository's worktree bookkeeping (``.git/worktrees``).

Git does not guard it against concurrent writers: ``worktree add`` reads every other entry
and fails on one that another ``add`` has half written ("failed to read
.git/worktrees/X/commondir"), and ``worktree prune`` may remove an entry still being made.
The supervisor adds worktrees from several git threads at once, so its adds, removes and
prunes in one repository take this lock (a loaded machine widened the window enough to fail a
spawn).
"""

from __future__ import annotations

import threading
from pathlib import Path

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def worktree_admin(root: Path) -> threading.Lock:
    """The lock for ``root``'s worktree bookkeeping (one per repository, per process)."""
    key = str(Path(root).resolve())
    with _guard:
        return _locks.setdefault(key, threading.Lock())
