"""Worktrees added and removed from several threads at once in one real repository (the
supervisor's git threads do this while spawning): none fails on another's half-written entry
in ``.git/worktrees``, and none is pruned while being made."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from swarmtui.engine.runtime import git as gitmod
from swarmtui.engine.runtime.git import Git, GitError

THREADS, EACH = 6, 4


def _hammer(repo: Path) -> list[str]:
    g = Git(repo)
    base = g.head_commit()
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        start.wait()
        for i in range(EACH):
            path = repo / ".swarm" / "worktrees" / f"t{t}-{i}"
            try:
                g.add_worktree(path, f"swarm/t{t}-{i}", base)
                if i % 2:
                    g.remove_worktree(path)
            except GitError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def test_worktrees_made_and_removed_at_once_all_succeed(git_repo: Path) -> None:
    for _ in range(3):
        errors = _hammer(git_repo)
        assert errors == []
        kept = {p.name for p in (git_repo / ".swarm" / "worktrees").iterdir()}
        assert len(kept) == THREADS * EACH // 2
        for name in kept:
            Git(git_repo).remove_worktree(git_repo / ".swarm" / "worktrees" / name)
        for t in range(THREADS):
            for i in range(EACH):
                gitmod.run_git(git_repo, "branch", "-q", "-D", f"swarm/t{t}-{i}", ok=(0, 1))


def test_the_check_fails_without_the_lock(git_repo: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without one writer at a time git itself trips over the others (so the test above can
    fail): some add or remove in a few rounds breaks."""

    class NoLock:
        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(gitmod, "worktree_admin", lambda root: NoLock())
    failed: list[str] = []
    for _ in range(40):
        failed += _hammer(git_repo)
        if failed:
            break
        for p in (git_repo / ".swarm" / "worktrees").iterdir():
            Git(git_repo).remove_worktree(p)
        gitmod.run_git(git_repo, "worktree", "prune")
        for t in range(THREADS):
            for i in range(EACH):
                gitmod.run_git(git_repo, "branch", "-q", "-D", f"swarm/t{t}-{i}", ok=(0, 1))
    assert failed, "forty rounds of unguarded worktree changes all succeeded"
