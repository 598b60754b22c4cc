"""Making an attempt's worktree with as little as possible in the repository's serial section.

``git worktree add -b B PATH START`` runs four git processes one after another (the command,
``git branch``, ``symbolic-ref`` and ``reset --hard``), all while the repository's
``worktree_admin`` lock is held, because git does not guard ``.git/worktrees`` against
concurrent writers. Only one of those steps writes that shared bookkeeping, so it is split:

1. ``git branch --no-track B START``: a new ref under its own ref lock, safe to run alongside
   others (git reads no worktree entry for a branch that does not exist yet; ``--no-track``
   keeps it from writing ``.git/config``, which concurrent writers would contend for);
2. the entry in ``.git/worktrees`` and the ``.git`` file in PATH, as ``git worktree add
   --no-checkout PATH B`` makes them, under the lock (the caller holds it): written directly,
   so no process has to get a core while every other spawn waits (see ``add_entry``);
3. ``git checkout -f`` in PATH: fills the worktree's own index and files (and runs a
   ``post-checkout`` hook as ``worktree add`` would), touching nothing another worktree reads.

A failure after step 1 removes what was made, so a failed spawn leaves neither branch nor entry.
The commit the branch was made at is read from its ref file (``branch_commit``), not asked of
git: one process less per spawn, and exactly the commit the attempt starts from.
"""

from __future__ import annotations

import os
import re
import shutil
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
    """Step 2 (under the repository's worktree lock): the entry as ``git worktree add
    --no-checkout`` writes it (gitrepository-layout(5): ``worktrees/<id>/{gitdir,commondir,
    HEAD}``, ``locked`` while it is incomplete, and PATH/.git), by file writes: two git
    processes less in the serial section, which on a loaded box cost most of a spawn. Anything
    unusual (a name git would change, an existing entry or path) goes through git itself."""
    common = common_dir(root)
    admin = common / "worktrees" / path.name if common is not None else None
    if (admin is None or not _PLAIN.fullmatch(path.name) or path.name.endswith((".lock", "."))
            or os.path.lexists(path) or os.path.lexists(admin)):
        run_git(root, "worktree", "add", "--quiet", "--no-checkout", str(path), branch)
        return
    path.mkdir()
    admin.mkdir(parents=True)
    try:
        _write(admin / "locked", "initializing\n")  # prune leaves a locked entry alone
        _write(admin / "gitdir", f"{path.resolve() / '.git'}\n")
        _write(admin / "commondir", "../..\n")
        _write(admin / "HEAD", f"ref: refs/heads/{branch}\n")
        _write(path / ".git", f"gitdir: {admin.resolve()}\n")
        (admin / "locked").unlink()
    except OSError as e:
        shutil.rmtree(admin, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
        raise GitError(f"worktree entry {admin}: {e}") from None


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")  # a name git keeps as it is
_common: dict[Path, Path | None] = {}


def common_dir(root: Path) -> Path | None:
    """The repository's common git directory (asked once per repository)."""
    if root not in _common:
        try:
            out = run_git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")[1]
            _common[root] = Path(out.strip()) if out.strip() else None
        except GitError:
            _common[root] = None
    return _common[root]


def _write(p: Path, text: str) -> None:
    with open(p, "x", encoding="utf-8") as f:
        f.write(text)


_HEX = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # a SHA-1 or SHA-256 object name


def branch_commit(root: Path, branch: str) -> str:
    """The commit ``branch`` points at: its loose ref file, which ``git branch`` has just
    written (the files backend writes a new ref loose); git itself for anything else (a packed
    or reftable ref, a name that is not a plain path)."""
    common = common_dir(root)
    if common is not None and ".." not in branch.split("/") and not branch.startswith("/"):
        try:  # a few bytes of a regular file, no link followed, never a FIFO's wait
            fd = os.open(common / "refs" / "heads" / branch,
                         os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                text = os.read(fd, 200).decode("ascii").strip()
            finally:
                os.close(fd)
        except (OSError, UnicodeError):
            text = ""
        if _HEX.fullmatch(text):
            return text
    return run_git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}",
                   ok=(0, 1, 128))[1].strip()


def check_out(path: Path) -> None:
    """Step 3: the worktree's files from its HEAD."""
    run_git(path, "checkout", "--force", "--quiet")


def add(root: Path, path: Path, branch: str, start: str,
        admin: Callable[[], AbstractContextManager[object]]) -> str:
    """Create ``path`` on a new ``branch`` from ``start``; ``admin()`` is the repository's
    worktree lock. Returns the commit the branch was made at."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new_branch(root, branch, start)
    entry = False
    try:
        commit = branch_commit(root, branch)
        with admin():
            add_entry(root, path, branch)
        entry = True
        check_out(path)
        return commit
    except GitError:
        if entry:
            with admin():
                run_git(root, "worktree", "remove", "--force", str(path), ok=(0, 128))
                run_git(root, "worktree", "prune")
        run_git(root, "branch", "-D", branch, ok=(0, 1))
        raise
