"""Making an attempt's worktree with as little as possible in the repository's serial section.

``git worktree add -b B PATH START`` runs four git processes one after another (the command,
``git branch``, ``symbolic-ref`` and ``reset --hard``), all while the repository's
``worktree_admin`` lock is held, because git does not guard ``.git/worktrees`` against
concurrent writers. Only one of those steps writes that shared bookkeeping, so it is split:

1. ``git branch --no-track B START``: a new ref under its own ref lock, safe to run alongside
   others (git reads no worktree entry for a branch that does not exist yet; ``--no-track``
   keeps it from writing ``.git/config``, which concurrent writers would contend for);
2. ``git worktree add --no-checkout PATH B``: the entry in ``.git/worktrees`` and the ``.git``
   file in PATH, under the lock (the caller holds it);
3. ``git checkout -f`` in PATH: fills the worktree's own index and files (and runs a
   ``post-checkout`` hook as ``worktree add`` would), touching nothing another worktree reads.

A failure after step 1 removes what was made, so a failed spawn leaves neither branch nor entry.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from swarmtui.engine.runtime.gitcmd import GitError, run_git


def new_branch(root: Path, branch: str, start: str) -> None:
    """Step 1; an existing branch of that name is an error (it may hold unmerged work)."""
    code, _, err = run_git(root, "branch", "--no-track", branch, start, ok=(0, 128))
    if code:
        exists = run_git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}",
                         ok=(0, 1, 128))[0] == 0
        if exists:
            raise GitError(f"branch {branch} already exists; not resetting it (it may hold "
                           "unmerged work)")
        raise GitError(f"git branch {branch} {start} in {root}: {err.strip()}")


def add_entry(root: Path, path: Path, branch: str) -> None:
    """Step 2 (under the repository's worktree lock)."""
    run_git(root, "worktree", "add", "--quiet", "--no-checkout", str(path), branch)


def check_out(path: Path) -> None:
    """Step 3: the worktree's files from its HEAD."""
    run_git(path, "checkout", "--force", "--quiet")


def add(root: Path, path: Path, branch: str, start: str,
        admin: Callable[[], AbstractContextManager[object]]) -> None:
    """Create ``path`` on a new ``branch`` from ``start``; ``admin()`` is the repository's
    worktree lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new_branch(root, branch, start)
    entry = False
    try:
        with admin():
            add_entry(root, path, branch)
        entry = True
        check_out(path)
    except GitError:
        if entry:
            with admin():
                run_git(root, "worktree", "remove", "--force", str(path), ok=(0, 128))
                run_git(root, "worktree", "prune")
        run_git(root, "branch", "-D", branch, ok=(0, 1))
        raise
