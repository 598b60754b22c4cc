"""Tests for swarmtui.engine.integrate.gc.collect on real repositories: which attempts'
worktrees and branches go, which are kept (and why), and what --force changes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.integrate.gc import GcReport, collect
from swarmtui.engine.integrate.merge import INTEGRATION_WORKTREE
from swarmtui.model import TaskSpec
from swarmtui.store import Store
from tests.conftest import git


@pytest.fixture
def store(git_repo: Path) -> Iterator[Store]:
    s = Store(git_repo / P.SWARM_DIR / P.STATE_DB)
    yield s
    s.close()


def spec(tid: str) -> dict[str, object]:
    return TaskSpec(id=tid, title=tid, prompt=f"do {tid}", role="worker", agent="fake").to_dict()


def start_run(store: Store, run: int, target: str = "main") -> None:
    store.append_event("run_started", data={"run": run, "repo": "/r", "base": "main",
                                            "target": target}, run=run)


def add_task(store: Store, run: int, tid: str, attempt_base: int = 0) -> None:
    store.append_event("task_added", tid, data={"spec": spec(tid), "attempt_base": attempt_base},
                       run=run)


def spawn(store: Store, run: int, tid: str, attempt: int) -> None:
    repo = store.path.parent.parent  # <repo>/.swarm/state.db
    wt = P.worktree_dir(repo, tid, attempt)
    store.append_event("attempt_spawned", tid, attempt,
                       {"window": f"@{attempt}", "worktree": str(wt),
                        "branch": P.branch_name(tid, attempt), "agent": "fake"}, run=run)


def pass_(store: Store, run: int, tid: str, attempt: int) -> None:
    store.append_event("verify_started", tid, attempt, run=run)
    store.append_event("verify_passed", tid, attempt, {"tail": "ok"}, run=run)


def merge_event(store: Store, run: int, tid: str, attempt: int, commit: str) -> None:
    store.append_event("task_merged", tid, attempt,
                       {"branch": P.branch_name(tid, attempt), "target": "main",
                        "commit": commit}, run=run)


def cancel(store: Store, run: int, tid: str, attempt: int) -> None:
    store.append_event("task_cancelled", tid, attempt, {"reason": "operator"}, run=run)


def make_attempt(repo: Path, tid: str, attempt: int, *, commits: Sequence[str] = (),
                 start: str = "main") -> Path:
    """A real worktree on swarm/<tid>-<attempt> with one commit per subject in ``commits``."""
    wt = P.worktree_dir(repo, tid, attempt)
    git(repo, "worktree", "add", "-q", "-b", P.branch_name(tid, attempt), str(wt), start)
    for i, subject in enumerate(commits):
        (wt / f"{tid}-{attempt}-{i}.txt").write_text(f"{subject}\n")
        git(wt, "add", "-A")
        git(wt, "commit", "-q", "-m", subject)
    return wt


def branches(repo: Path) -> set[str]:
    return set(git(repo, "branch", "--format=%(refname:short)").split())


def registered_worktrees(repo: Path) -> set[Path]:
    out = git(repo, "worktree", "list", "--porcelain")
    return {Path(line[len("worktree "):]) for line in out.splitlines()
            if line.startswith("worktree ")}


def gone(repo: Path, tid: str, attempt: int) -> bool:
    wt = P.worktree_dir(repo, tid, attempt)
    return (not wt.exists() and wt not in registered_worktrees(repo)
            and P.branch_name(tid, attempt) not in branches(repo))


def present(repo: Path, tid: str, attempt: int) -> bool:
    wt = P.worktree_dir(repo, tid, attempt)
    return (wt.is_dir() and wt in registered_worktrees(repo)
            and P.branch_name(tid, attempt) in branches(repo))


@pytest.fixture
def fleet(git_repo: Path, store: Store) -> Path:
    """One run on main with tasks in every interesting state, each with a real worktree.

    merged   merged by a real --no-ff merge (its commits are on main)
    squashed squash-merged: its commit is not an ancestor of main, but task_merged says merged
    retried  attempt 1 failed with a commit never merged, attempt 2 merged
    wip      cancelled, branch holds two unmerged commits
    dirty    cancelled, no commits but an uncommitted edit and an untracked file
    idle     cancelled, nothing new at all
    passed   passed, not merged yet (unmerged commit)
    running  running (unmerged commit)
    """
    repo = git_repo
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text(".swarm/\n")
    start_run(store, 1)
    for t in ("merged", "squashed", "retried", "wip", "dirty", "idle", "passed", "running"):
        add_task(store, 1, t)

    make_attempt(repo, "merged", 1, commits=["merged work"])
    git(repo, "merge", "-q", "--no-ff", "-m", "merge merged", "swarm/merged-1")
    spawn(store, 1, "merged", 1)
    pass_(store, 1, "merged", 1)
    merge_event(store, 1, "merged", 1, git(repo, "rev-parse", "HEAD").strip())

    make_attempt(repo, "squashed", 1, commits=["squash me"])
    git(repo, "merge", "-q", "--squash", "swarm/squashed-1")
    git(repo, "commit", "-q", "-m", "squashed")
    spawn(store, 1, "squashed", 1)
    pass_(store, 1, "squashed", 1)
    merge_event(store, 1, "squashed", 1, git(repo, "rev-parse", "HEAD").strip())

    make_attempt(repo, "retried", 1, commits=["first try"])
    spawn(store, 1, "retried", 1)
    store.append_event("attempt_failed", "retried", 1,
                       {"cause": "crashed", "reason": "crashed", "counts_attempt": True,
                        "counts_breaker": True}, run=1)
    store.append_event("task_requeued", "retried", 1, {"note": "again"}, run=1)
    make_attempt(repo, "retried", 2, commits=["second try"])
    git(repo, "merge", "-q", "--no-ff", "-m", "merge retried", "swarm/retried-2")
    spawn(store, 1, "retried", 2)
    pass_(store, 1, "retried", 2)
    merge_event(store, 1, "retried", 2, git(repo, "rev-parse", "HEAD").strip())

    make_attempt(repo, "wip", 1, commits=["half done", "more half done"])
    spawn(store, 1, "wip", 1)
    cancel(store, 1, "wip", 1)

    wt = make_attempt(repo, "dirty", 1)
    (wt / "shared.txt").write_text("edited but never committed\n")
    (wt / "scratch.txt").write_text("untracked\n")
    spawn(store, 1, "dirty", 1)
    cancel(store, 1, "dirty", 1)

    make_attempt(repo, "idle", 1)
    spawn(store, 1, "idle", 1)
    cancel(store, 1, "idle", 1)

    make_attempt(repo, "passed", 1, commits=["passing work"])
    spawn(store, 1, "passed", 1)
    pass_(store, 1, "passed", 1)

    make_attempt(repo, "running", 1, commits=["in progress"])
    spawn(store, 1, "running", 1)
    return repo


def test_gc_removes_merged_and_clean_attempts_and_keeps_work_that_would_be_lost(
        fleet: Path, store: Store) -> None:
    """Without --force: merged (incl. squash-merged) and empty attempts go; unmerged commits and
    uncommitted changes are kept with the subjects / file names that would be lost."""
    repo = fleet
    main_before = git(repo, "rev-parse", "main")
    report = collect(repo, store, target=None, force=False)

    assert sorted(report.removed) == ["idle-1", "merged-1", "retried-2", "squashed-1"]
    for tid, n in (("merged", 1), ("squashed", 1), ("retried", 2), ("idle", 1)):
        assert gone(repo, tid, n), f"{tid}-{n} should be gone"

    assert set(report.kept) == {"retried-1", "wip-1", "dirty-1"}
    assert report.kept["retried-1"] == [_commit_line(repo, "swarm/retried-1", "first try")]
    assert sorted(report.kept["wip-1"]) == sorted([
        _commit_line(repo, "swarm/wip-1", "half done"),
        _commit_line(repo, "swarm/wip-1", "more half done"),
    ])
    assert sorted(report.kept["dirty-1"]) == ["uncommitted: scratch.txt",
                                              "uncommitted: shared.txt"]
    for tid, n in (("retried", 1), ("wip", 1), ("dirty", 1), ("passed", 1), ("running", 1)):
        assert present(repo, tid, n), f"{tid}-{n} should still be there"
    dirty = P.worktree_dir(repo, "dirty", 1)
    assert (dirty / "shared.txt").read_text() == "edited but never committed\n"
    assert (dirty / "scratch.txt").read_text() == "untracked\n"
    assert git(repo, "rev-parse", "main") == main_before

    lines = report.lines()
    assert "removed merged-1" in lines
    assert "kept wip-1: --force would lose:" in lines
    assert lines[-1] == "re-run with --force to remove the kept attempts too"


def _commit_line(repo: Path, rev: str, subject: str) -> str:
    """The 'unmerged commit: <short sha> <subject>' line for the commit with ``subject``."""
    out = git(repo, "log", "--format=%h %s", rev)
    match = [ln for ln in out.splitlines() if ln.split(" ", 1)[1] == subject]
    assert match, f"no commit {subject!r} on {rev}"
    return f"unmerged commit: {match[0]}"


def test_gc_force_removes_kept_attempts_but_never_passed_or_running_ones(
        fleet: Path, store: Store) -> None:
    """--force removes what was kept; passed and running tasks' attempts stay regardless."""
    repo = fleet
    first = collect(repo, store, target=None, force=False)
    assert first.kept
    report = collect(repo, store, target=None, force=True)
    assert sorted(report.removed) == ["dirty-1", "retried-1", "wip-1"]
    assert report.kept == {}
    for tid, n in (("retried", 1), ("wip", 1), ("dirty", 1)):
        assert gone(repo, tid, n)
    assert present(repo, "passed", 1) and present(repo, "running", 1)
    assert (P.worktree_dir(repo, "running", 1) / "running-1-0.txt").exists()


def test_gc_is_idempotent_and_says_nothing_to_collect(fleet: Path, store: Store) -> None:
    """A second forced gc finds nothing; the report says so."""
    collect(fleet, store, target=None, force=True)
    again = collect(fleet, store, target=None, force=True)
    assert again.removed == [] and again.kept == {}
    assert again.lines() == ["nothing to collect"]
    assert again.to_json_obj() == {"removed": [], "kept": {}}


def test_gc_removes_the_integration_leftover(git_repo: Path, store: Store) -> None:
    """A `_integration` worktree left by an interrupted merge check is removed."""
    start_run(store, 1)
    leftover = P.swarm_dir(git_repo) / P.WORKTREES_DIR / INTEGRATION_WORKTREE
    git(git_repo, "worktree", "add", "-q", "--detach", str(leftover), "main")
    assert leftover in registered_worktrees(git_repo)
    report = collect(git_repo, store, target=None, force=False)
    assert report.removed == [INTEGRATION_WORKTREE]
    assert not leftover.exists()
    assert leftover not in registered_worktrees(git_repo)


def test_gc_covers_every_run_and_leaves_a_later_runs_running_attempt(
        git_repo: Path, store: Store) -> None:
    """A task cancelled in run 1 and running again in run 2 (attempt numbers continue): run 1's
    attempt is collected, run 2's is not touched."""
    repo = git_repo
    start_run(store, 1)
    add_task(store, 1, "t")
    make_attempt(repo, "t", 1)
    spawn(store, 1, "t", 1)
    cancel(store, 1, "t", 1)
    start_run(store, 2)
    add_task(store, 2, "t", attempt_base=1)
    make_attempt(repo, "t", 2, commits=["new run work"])
    spawn(store, 2, "t", 2)

    report = collect(repo, store, target=None, force=True)
    assert report.removed == ["t-1"]
    assert gone(repo, "t", 1)
    assert present(repo, "t", 2)


def test_gc_explicit_target_decides_what_counts_as_merged(git_repo: Path, store: Store) -> None:
    """With target='release', commits on main but not on release count as unmerged."""
    repo = git_repo
    git(repo, "branch", "release", "main")
    start_run(store, 1)
    add_task(store, 1, "w")
    make_attempt(repo, "w", 1, commits=["only on main"])
    git(repo, "merge", "-q", "--ff-only", "swarm/w-1")
    spawn(store, 1, "w", 1)
    cancel(store, 1, "w", 1)

    kept = collect(repo, store, target="release", force=False)
    assert set(kept.kept) == {"w-1"} and present(repo, "w", 1)
    removed = collect(repo, store, target="main", force=False)
    assert removed.removed == ["w-1"] and gone(repo, "w", 1)


def test_gc_removes_branch_whose_worktree_directory_is_already_gone(
        git_repo: Path, store: Store) -> None:
    """A merged attempt whose worktree was deleted by hand still has its branch removed."""
    repo = git_repo
    start_run(store, 1)
    add_task(store, 1, "m")
    wt = make_attempt(repo, "m", 1, commits=["m work"])
    git(repo, "worktree", "remove", str(wt))
    git(repo, "merge", "-q", "--no-ff", "-m", "merge m", "swarm/m-1")
    spawn(store, 1, "m", 1)
    pass_(store, 1, "m", 1)
    merge_event(store, 1, "m", 1, git(repo, "rev-parse", "HEAD").strip())
    report = collect(repo, store, target=None, force=False)
    assert report.removed == ["m-1"]
    assert gone(repo, "m", 1)


def test_gc_keeps_unmerged_commits_when_the_target_branch_is_missing(
        git_repo: Path, store: Store) -> None:
    """If the run's target no longer exists, nothing proves the commits reached it: keep."""
    repo = git_repo
    start_run(store, 1, target="release")  # never created (or deleted since)
    add_task(store, 1, "w")
    make_attempt(repo, "w", 1, commits=["precious"])
    spawn(store, 1, "w", 1)
    cancel(store, 1, "w", 1)
    report = collect(repo, store, target=None, force=False)
    assert "w-1" in report.kept
    assert present(repo, "w", 1)


def test_report_lines_format() -> None:
    """The plain-text report lists removed and kept attempts with what would be lost."""
    r = GcReport(removed=["a-1"], kept={"b-2": ["uncommitted: x"]})
    assert r.lines() == ["removed a-1", "kept b-2: --force would lose:", "    uncommitted: x",
                         "re-run with --force to remove the kept attempts too"]
    assert GcReport(removed=["a-1"]).lines() == ["removed a-1"]
