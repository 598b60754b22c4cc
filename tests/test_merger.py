"""Tests for swarmtui.engine.integrate.merge.Merger on real repositories: merge and squash, the
checked-out and not-checked-out target, never losing uncommitted work, conflicts, the
integration gate, scope and do-not-revert refusals, added lines, and a missing git identity."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.integrate.merge import INTEGRATION_WORKTREE, MergeJob, MergeOutcome, Merger
from swarmtui.engine.integrate.protect import protected_globs, touched
from swarmtui.engine.runtime.git import Git
from tests.conftest import git

INTEGRATION = Path(P.SWARM_DIR) / P.WORKTREES_DIR / INTEGRATION_WORKTREE


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """The conftest repository with .swarm/ excluded, as the supervisor leaves it."""
    (git_repo / ".git" / "info").mkdir(exist_ok=True)
    (git_repo / ".git" / "info" / "exclude").write_text(".swarm/\n")
    return git_repo


def rev(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


def branch_with(repo: Path, branch: str, files: Mapping[str, str | None], *,
                start: str = "main", message: str = "work") -> str:
    """Commit ``files`` (None deletes) on a new ``branch`` from ``start``, using a scratch
    worktree outside the repository so the main worktree is never touched. Returns the head."""
    wt = repo.parent / f"wt-{branch.replace('/', '-')}"
    git(repo, "worktree", "add", "-q", "-b", branch, str(wt), start)
    for path, text in files.items():
        if text is None:
            git(wt, "rm", "-q", path)
        else:
            (wt / path).parent.mkdir(parents=True, exist_ok=True)
            (wt / path).write_text(text)
    git(wt, "add", "-A")
    written = [path for path, text in files.items() if text is not None]
    if written:
        git(wt, "add", "-f", "--", *written)  # ignored paths too: an agent can force them
    git(wt, "commit", "-q", "--allow-empty", "-m", message)
    head = rev(wt, "HEAD")
    git(repo, "worktree", "remove", "--force", str(wt))
    return head


def commit_on_main(repo: Path, files: Mapping[str, str], message: str = "main moves") -> str:
    """Advance main in the main worktree (where it is checked out)."""
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return rev(repo, "HEAD")


def merger(repo: Path, *, method: str = "merge", gate: str = "", revert: bool = True,
           allow_oos: bool = False) -> Merger:
    return Merger(repo, Git(repo), method=method, gate=gate, revert_on_failure=revert,
                  allow_out_of_scope=allow_oos, verify_timeout=30, tail_bytes=2000)


def job(branch: str = "swarm/t-1", *, task: str = "t", scope: Sequence[str] = (),
        auto: bool = False, summary: str = "adds the feature", target: str = "main",
        dnr: bool = False) -> MergeJob:
    return MergeJob(task=task, attempt=1, title=f"Title of {task}", branch=branch,
                    target=target, summary=summary, files_modified=[], do_not_revert=dnr,
                    scope=tuple(scope), auto=auto)


def ledger_entry(task: str, added: dict[str, list[str]], *, dnr: bool = True) -> LedgerEntry:
    return LedgerEntry(task=task, run=1, time=0.0, commit="0" * 40, summary="",
                       files=tuple(added), do_not_revert=dnr, added=added)


def parents(repo: Path, commit: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]


def subprocess_ok(repo: Path, *args: str) -> bool:
    """True when the git command exits 0."""
    return subprocess.run(["git", *args], cwd=repo, capture_output=True).returncode == 0


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain")


def integration_gone(repo: Path) -> bool:
    listed = git(repo, "worktree", "list", "--porcelain")
    return not (repo / INTEGRATION).exists() and INTEGRATION_WORKTREE not in listed


# -- clean merges -------------------------------------------------------------------------------


def test_merge_method_fast_forwards_the_checked_out_target(repo: Path) -> None:
    """method=merge: main (checked out) moves to a 2-parent merge commit, the work tree has the
    branch's files, nothing is left dirty, the message names task, title and summary, and
    ``added`` lists the added lines per file."""
    head = branch_with(repo, "swarm/t-1", {"src/new.py": "A = 1\n\nB = 2\n",
                                           "shared.txt": "LINE 1\nline 2\nline 3\n"})
    base = commit_on_main(repo, {"README.md": "# test repo\nmore\n"})

    out = merger(repo).merge(job(summary="  adds A and B  \n"), [])

    assert out.status == "merged", out.reason
    assert out.commit is not None
    assert rev(repo, "main") == out.commit == rev(repo, "HEAD")
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert parents(repo, out.commit) == [base, head]
    assert (repo / "src" / "new.py").read_text() == "A = 1\n\nB = 2\n"
    assert (repo / "shared.txt").read_text() == "LINE 1\nline 2\nline 3\n"
    assert (repo / "README.md").read_text() == "# test repo\nmore\n"
    assert status(repo) == ""
    msg = git(repo, "log", "-1", "--format=%B", out.commit)
    assert msg.startswith("swarm: merge t: Title of t\n")
    assert "adds A and B" in msg and "Branch: swarm/t-1" in msg
    assert out.added == {"shared.txt": ["LINE 1"], "src/new.py": ["A = 1", "B = 2"]}
    assert out.conflicts == [] and out.dirty == [] and not out.landed_despite_failure
    assert "added" not in out.to_dict() and out.to_dict()["status"] == "merged"


def test_squash_method_makes_a_single_parent_commit_with_the_merged_tree(repo: Path) -> None:
    """method=squash: one parent (the old target), same tree as a real merge would give."""
    head = branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    base = commit_on_main(repo, {"README.md": "# changed\n"})
    out = merger(repo, method="squash").merge(job(), [])
    assert out.status == "merged", out.reason
    assert out.commit is not None
    assert parents(repo, out.commit) == [base]
    assert rev(repo, "main") == out.commit
    assert subprocess_ok(repo, "merge-base", "--is-ancestor", head, "main") is False
    assert (repo / "feature.txt").read_text() == "f\n"
    assert (repo / "README.md").read_text() == "# changed\n"
    assert status(repo) == ""


def test_merge_into_target_checked_out_nowhere_moves_only_the_ref(repo: Path) -> None:
    """With another branch checked out (and dirty), main moves by update-ref; the checked-out
    branch, its work tree and its uncommitted edit are untouched."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "shared.txt").write_text("my own edit\n")
    other = rev(repo, "other")
    old_main = rev(repo, "main")

    out = merger(repo).merge(job(), [])

    assert out.status == "merged", out.reason
    assert rev(repo, "main") == out.commit
    assert out.commit is not None and parents(repo, out.commit)[0] == old_main
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/other"
    assert rev(repo, "other") == other
    assert not (repo / "feature.txt").exists()
    assert (repo / "shared.txt").read_text() == "my own edit\n"
    assert git(repo, "show", "main:feature.txt") == "f\n"


def test_merge_into_target_checked_out_in_a_linked_worktree_updates_that_worktree(
        repo: Path) -> None:
    """The target may live in a linked worktree: that work tree is fast-forwarded."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    git(repo, "checkout", "-q", "--detach")
    linked = repo.parent / "linked-main"
    git(repo, "worktree", "add", "-q", str(linked), "main")
    out = merger(repo).merge(job(), [])
    assert out.status == "merged", out.reason
    assert rev(linked, "HEAD") == out.commit == rev(repo, "main")
    assert (linked / "feature.txt").read_text() == "f\n"
    assert status(linked) == ""
    assert not (repo / "feature.txt").exists()


# -- nothing is lost ----------------------------------------------------------------------------


def test_dirty_target_worktree_is_refused_and_nothing_is_lost(repo: Path) -> None:
    """An unstaged edit and a staged edit in the checked-out target: refused, both named,
    both kept exactly, main unchanged."""
    branch_with(repo, "swarm/t-1", {"shared.txt": "branch\n", "feature.txt": "f\n"})
    main_before = rev(repo, "main")
    (repo / "shared.txt").write_text("unsaved work\n")
    (repo / "README.md").write_text("# staged work\n")
    git(repo, "add", "README.md")

    out = merger(repo).merge(job(), [])

    assert out.status == "refused"
    assert sorted(out.dirty) == ["README.md", "shared.txt"]
    assert "shared.txt" in out.reason and "uncommitted" in out.reason
    assert out.commit is None
    assert rev(repo, "main") == main_before
    assert (repo / "shared.txt").read_text() == "unsaved work\n"
    assert (repo / "README.md").read_text() == "# staged work\n"
    assert git(repo, "diff", "--cached", "--name-only").split() == ["README.md"]
    assert git(repo, "diff", "--name-only").split() == ["shared.txt"]
    assert not (repo / "feature.txt").exists()


def test_untracked_file_the_merge_would_overwrite_is_refused_and_kept(repo: Path) -> None:
    """git refuses to overwrite an untracked file with the merge's version: refused, the file
    is intact, main unchanged."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "from the branch\n"})
    main_before = rev(repo, "main")
    (repo / "feature.txt").write_text("my untracked notes\n")

    out = merger(repo).merge(job(), [])

    assert out.status == "refused"
    assert "main" in out.reason
    assert (repo / "feature.txt").read_text() == "my untracked notes\n"
    assert rev(repo, "main") == main_before == rev(repo, "HEAD")
    assert status(repo) == "?? feature.txt\n"


def test_dirty_report_names_real_paths_for_a_staged_rename(repo: Path) -> None:
    """A staged rename in the target is reported by real path names, not mangled ones."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    git(repo, "mv", "shared.txt", "renamed.txt")
    out = merger(repo).merge(job(), [])
    assert out.status == "refused"
    assert "renamed.txt" in out.dirty
    assert set(out.dirty) <= {"renamed.txt", "shared.txt"}, out.dirty


# -- files git does not track, protected paths ------------------------------------------------


def test_ignored_file_the_merge_would_overwrite_is_refused_naming_it(repo: Path) -> None:
    """The user's git-ignored local.env in the checked-out target, a branch that adds its own
    local.env: git would overwrite an ignored file silently; the merge is refused naming it,
    before the gate runs, and the file and main are untouched."""
    (repo / ".gitignore").write_text("local.env\n")
    commit_on_main(repo, {".gitignore": "local.env\n"}, "ignore local.env")
    branch_with(repo, "swarm/t-1", {"local.env": "TOKEN=agent\n", "feature.txt": "f\n"})
    (repo / "local.env").write_text("TOKEN=mine\n")
    main_before = rev(repo, "main")
    marker = repo.parent / "gate-ran"

    out = merger(repo, gate=f"touch {marker}").merge(job(), [])

    assert out.status == "refused"
    assert out.untracked == ["local.env"]
    assert "local.env" in out.reason and "does not track" in out.reason
    assert (repo / "local.env").read_text() == "TOKEN=mine\n"
    assert rev(repo, "main") == main_before == rev(repo, "HEAD")
    assert not marker.exists()  # refused before merge.verify
    assert not (repo / "feature.txt").exists()


def test_ignored_file_where_the_branch_puts_a_folder_is_refused(repo: Path) -> None:
    """An ignored file ``cache`` (or a link) where the branch adds ``cache/x``: named, kept."""
    branch_with(repo, "swarm/t-1", {"cache/x.txt": "x\n", "link/y.txt": "y\n"})
    (repo / ".git" / "info" / "exclude").write_text(".swarm/\ncache\nlink\n")
    (repo / "cache").write_text("my cache\n")
    (repo / "elsewhere").mkdir()
    (repo / "link").symlink_to(repo / "elsewhere")

    out = merger(repo).merge(job(), [])

    assert out.status == "refused"
    assert sorted(out.untracked) == ["cache", "link"]
    assert (repo / "cache").read_text() == "my cache\n"
    assert (repo / "link").is_symlink() and not list((repo / "elsewhere").iterdir())


def test_ignored_folder_with_other_files_does_not_block_a_merge(repo: Path) -> None:
    """An ignored folder the branch adds a new file to is not in the way: nothing in it is
    replaced."""
    branch_with(repo, "swarm/t-1", {"build/new.txt": "n\n"})
    (repo / ".git" / "info" / "exclude").write_text(".swarm/\nbuild/\n")
    (repo / "build").mkdir()
    (repo / "build" / "mine.o").write_text("object\n")

    out = merger(repo).merge(job(), [])

    assert out.status == "merged", out.reason
    assert (repo / "build" / "mine.o").read_text() == "object\n"
    assert (repo / "build" / "new.txt").read_text() == "n\n"


@pytest.mark.parametrize("checked_out", [True, False])
def test_branch_changing_swarm_state_is_refused_as_protected(repo: Path,
                                                             checked_out: bool) -> None:
    """A branch that commits .swarm/state.db is refused whether or not the target is checked
    out (a ref moved elsewhere reaches the work tree at the next checkout); the run's log is
    untouched."""
    (repo / ".swarm").mkdir()
    (repo / ".swarm" / "state.db").write_bytes(b"the run's log")
    branch_with(repo, "swarm/t-1", {".swarm/state.db": "agent junk\n", "ok.txt": "ok\n"})
    if not checked_out:
        git(repo, "checkout", "-q", "--detach")
    main_before = rev(repo, "main")

    out = merger(repo).merge(_protected_job(), [])

    assert out.status == "refused"
    assert out.protected == [".swarm/state.db"]
    assert ".swarm/state.db" in out.reason and "protected" in out.reason
    assert (repo / ".swarm" / "state.db").read_bytes() == b"the run's log"
    assert rev(repo, "main") == main_before


def test_the_runs_own_files_inside_the_repository_are_protected(repo: Path,
                                                                tmp_path: Path) -> None:
    """merge.protected plus the run's task and config files when they lie in the repository
    (through a link too); files elsewhere and relative names add nothing."""
    (repo / "plans").mkdir()
    (tmp_path / "via").symlink_to(repo / "plans")
    globs = protected_globs(repo, [".swarm/"], [str(repo / "tasks.toml"),
                                                str(tmp_path / "via" / "cfg.toml"),
                                                str(tmp_path / "outside.toml"), "relative.toml",
                                                ""])
    assert globs == (".swarm/", "tasks.toml", "plans/cfg.toml")
    assert touched([".swarm/state.db", "tasks.toml", "src/tasks.toml", "plans/cfg.toml"],
                   globs) == [".swarm/state.db", "tasks.toml", "plans/cfg.toml"]


def _protected_job() -> MergeJob:
    j = job()
    j.protected = (".swarm/", "tasks.toml")
    return j


# -- refusals that leave the target alone -------------------------------------------------------


def test_conflict_is_refused_with_the_files_and_target_untouched(repo: Path) -> None:
    """Both sides edit the same line: refused listing shared.txt; main and its work tree are
    exactly as before (no conflict markers anywhere)."""
    branch_with(repo, "swarm/t-1", {"shared.txt": "line 1\nBRANCH\nline 3\n"})
    main_before = commit_on_main(repo, {"shared.txt": "line 1\nMAIN\nline 3\n"})

    out = merger(repo).merge(job(task="clash"), [])

    assert out.status == "refused"
    assert out.conflicts == ["shared.txt"]
    assert "shared.txt" in out.reason and "swarmtui resolve clash" in out.reason
    assert rev(repo, "main") == main_before
    assert (repo / "shared.txt").read_text() == "line 1\nMAIN\nline 3\n"
    assert status(repo) == ""


@pytest.mark.parametrize("behind", [False, True])
def test_branch_with_nothing_new_is_a_noop_merge(repo: Path, behind: bool) -> None:
    """A branch at (or behind) the target has nothing to bring: "merged" as a no-op whose
    commit is the target's tip; no commit is made and nothing moves."""
    git(repo, "branch", "swarm/t-1", "main")
    if behind:
        commit_on_main(repo, {"README.md": "# newer\n"})
    main_before = rev(repo, "main")
    count_before = git(repo, "rev-list", "--all", "--count")
    out = merger(repo, gate="false").merge(job(auto=True, scope=["nothing/**"]), [])
    assert out.status == "merged"
    assert out.noop is True
    assert out.commit == main_before
    assert "adds nothing" in out.reason
    assert rev(repo, "main") == main_before
    assert git(repo, "rev-list", "--all", "--count") == count_before
    assert status(repo) == ""


def test_a_real_merge_is_not_a_noop(repo: Path) -> None:
    """noop is only set when nothing was merged."""
    branch_with(repo, "swarm/t-1", {"f.txt": "f\n"})
    out = merger(repo).merge(job(), [])
    assert out.status == "merged" and out.noop is False


def test_missing_branch_or_target_is_refused(repo: Path) -> None:
    """Unknown branch or target: refused with a reason naming it."""
    out = merger(repo).merge(job("swarm/nope-1"), [])
    assert out.status == "refused" and "swarm/nope-1" in out.reason
    branch_with(repo, "swarm/t-1", {"f.txt": "f\n"})
    out = merger(repo).merge(job(target="release"), [])
    assert out.status == "refused" and "release" in out.reason


# -- the integration gate -----------------------------------------------------------------------


def test_failing_gate_leaves_target_unchanged_and_removes_the_scratch_worktree(
        repo: Path) -> None:
    """gate fails -> integration_failed, main ref and work tree unchanged, the verify output's
    tail is reported, `.swarm/worktrees/_integration` is gone."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    main_before = rev(repo, "main")
    out = merger(repo, gate="echo gate-ran; test -f must-exist").merge(job(), [])
    assert out.status == "integration_failed"
    assert "gate-ran" in out.verify_tail
    assert rev(repo, "main") == main_before == rev(repo, "HEAD")
    assert not (repo / "feature.txt").exists()
    assert status(repo) == ""
    assert integration_gone(repo)


def test_gate_that_cannot_run_refuses_without_failing_the_task(repo: Path) -> None:
    """merge.verify naming a program that does not exist (exit 127): refused with the shell's
    message, not an integration failure (a fresh attempt would meet the same command)."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    main_before = rev(repo, "main")
    out = merger(repo, gate="true && nosuch-gate-prog").merge(job(), [])
    assert out.status == "refused", out.reason
    assert "merge.verify cannot run" in out.reason and "nosuch-gate-prog" in out.reason
    assert rev(repo, "main") == main_before and integration_gone(repo)


def test_passing_gate_runs_on_the_merged_tree_and_merges(repo: Path) -> None:
    """The gate sees both the branch's file and the target's newer file (the merge result),
    and the merge lands; the scratch worktree is removed."""
    branch_with(repo, "swarm/t-1", {"must-exist": "x\n"})
    commit_on_main(repo, {"from-main.txt": "m\n"})
    out = merger(repo, gate="test -f must-exist && test -f from-main.txt").merge(job(), [])
    assert out.status == "merged", out.reason
    assert rev(repo, "main") == out.commit
    assert (repo / "must-exist").exists()
    assert integration_gone(repo)


def test_failing_gate_without_revert_on_failure_lands_and_is_flagged(repo: Path) -> None:
    """revert_on_failure=False: the merge lands anyway, marked landed_despite_failure."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    out = merger(repo, gate="test -f must-exist", revert=False).merge(job(), [])
    assert out.status == "merged"
    assert out.landed_despite_failure is True
    assert rev(repo, "main") == out.commit
    assert (repo / "feature.txt").read_text() == "f\n"
    assert integration_gone(repo)


# -- automatic-merge checks ---------------------------------------------------------------------


def test_auto_merge_refuses_changes_outside_the_declared_scope(repo: Path) -> None:
    """auto=True with scope src/**: a change under docs/ is refused and listed; main unchanged.
    allow_out_of_scope=True, or a manual merge, lands it."""
    branch_with(repo, "swarm/t-1", {"src/a.py": "a\n", "docs/x.md": "x\n"})
    main_before = rev(repo, "main")

    out = merger(repo).merge(job(scope=["src/**"], auto=True), [])
    assert out.status == "refused"
    assert out.out_of_scope == ["docs/x.md"]
    assert "docs/x.md" in out.reason
    assert rev(repo, "main") == main_before

    ok = merger(repo, allow_oos=True).merge(job(scope=["src/**"], auto=True), [])
    assert ok.status == "merged", ok.reason
    assert rev(repo, "main") == ok.commit


def test_manual_merge_ignores_scope(repo: Path) -> None:
    """auto=False: the operator's merge is not held to the declared scope."""
    branch_with(repo, "swarm/t-1", {"docs/x.md": "x\n"})
    out = merger(repo).merge(job(scope=["src/**"], auto=False), [])
    assert out.status == "merged", out.reason


def test_auto_merge_refuses_reverting_a_do_not_revert_entry(repo: Path) -> None:
    """The branch removes a line that task 'guard' added and marked do-not-revert: refused
    naming 'guard'; an entry without do_not_revert, or a manual merge, does not stop it."""
    branch_with(repo, "swarm/t-1", {"shared.txt": "line 1\nline 3\n"})
    main_before = rev(repo, "main")
    guard = ledger_entry("guard", {"shared.txt": ["line 2"]})

    out = merger(repo).merge(job(auto=True), [guard])
    assert out.status == "refused"
    assert "guard" in out.reason
    assert out.reverts == [{"task": "guard", "file": "shared.txt", "lines": 1,
                            "example": "line 2"}]
    assert rev(repo, "main") == main_before

    plain = ledger_entry("plain", {"shared.txt": ["line 2"]}, dnr=False)
    assert merger(repo).merge(job(auto=True), [plain]).status == "merged"


def test_manual_merge_ignores_the_ledger(repo: Path) -> None:
    """auto=False: an intended revert by the operator is allowed."""
    branch_with(repo, "swarm/t-1", {"shared.txt": "line 1\nline 3\n"})
    guard = ledger_entry("guard", {"shared.txt": ["line 2"]})
    assert merger(repo).merge(job(auto=False), [guard]).status == "merged"


def test_auto_merge_refuses_deleting_a_file_with_do_not_revert_lines(repo: Path) -> None:
    """Deleting the whole file removes the protected line too: refused naming the task."""
    branch_with(repo, "swarm/t-1", {"shared.txt": None})
    guard = ledger_entry("guard", {"shared.txt": ["line 2"]})
    out = merger(repo).merge(job(auto=True), [guard])
    assert out.status == "refused"
    assert [r["task"] for r in out.reverts] == ["guard"]


def test_auto_merge_refuses_removing_a_protected_line_starting_with_dashes(
        repo: Path) -> None:
    """A removed '-- keep this index' line is a revert like any other."""
    commit_on_main(repo, {"schema.sql": "create table t (x int);\n-- keep this index\n"})
    branch_with(repo, "swarm/t-1", {"schema.sql": "create table t (x int);\n"})
    guard = ledger_entry("guard", {"schema.sql": ["-- keep this index"]})
    out = merger(repo).merge(job(auto=True), [guard])
    assert out.status == "refused"
    assert [r["task"] for r in out.reverts] == ["guard"]


def test_added_lines_survive_a_line_starting_with_plus_plus(repo: Path) -> None:
    """outcome.added keeps all added lines, whatever they start with."""
    branch_with(repo, "swarm/t-1", {"notes.txt": "first\n++ counter\nlast\n"})
    out = merger(repo).merge(job(), [])
    assert out.status == "merged"
    assert out.added == {"notes.txt": ["first", "++ counter", "last"]}


# -- identity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("config_only", [False, True])
def test_merge_works_without_any_git_identity(repo: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              config_only: bool) -> None:
    """No global/system config and no user.name/email: the merge still lands. With
    user.useConfigOnly git cannot guess one, so the swarmtui fallback identity is used."""
    branch_with(repo, "swarm/t-1", {"feature.txt": "f\n"})
    if config_only:
        git(repo, "config", "user.useConfigOnly", "true")
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "EMAIL",
                "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    assert "user.name" not in git(repo, "config", "--list", "--local")
    if config_only:
        assert not subprocess_ok(repo, "var", "GIT_COMMITTER_IDENT")

    out: MergeOutcome = merger(repo).merge(job(), [])

    assert out.status == "merged", out.reason
    assert rev(repo, "main") == out.commit
    if config_only:
        ident = git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main").strip()
        assert ident == "swarmtui <swarmtui@localhost>|swarmtui <swarmtui@localhost>"


def test_a_tracked_file_the_branch_turns_into_a_folder_is_not_in_the_way(repo: Path) -> None:
    """The target tracks ``notes``; the branch replaces it with ``notes/a.txt``: git's own
    change, merged."""
    commit_on_main(repo, {"notes": "one file\n"}, "notes as a file")
    branch_with(repo, "swarm/t-1", {"notes": None})
    git(repo, "branch", "-f", "tmp-base", "swarm/t-1")
    git(repo, "branch", "-D", "swarm/t-1")
    branch_with(repo, "swarm/t-1", {"notes/a.txt": "a\n"}, start="tmp-base")
    out = merger(repo).merge(job(), [])
    assert out.status == "merged", out.reason
    assert (repo / "notes" / "a.txt").read_text() == "a\n"


def test_ignored_file_that_appears_while_the_gate_runs_is_kept(repo: Path) -> None:
    """local.env appears in the target's work tree while merge.verify runs: the merge is
    refused at the last step, naming it, and the file keeps what was written."""
    (repo / ".git" / "info" / "exclude").write_text(".swarm/\nlocal.env\n")
    branch_with(repo, "swarm/t-1", {"local.env": "TOKEN=agent\n"})
    main_before = rev(repo, "main")
    out = merger(repo, gate=f"echo TOKEN=late > {repo / 'local.env'}").merge(job(), [])
    assert out.status == "refused" and out.untracked == ["local.env"], out.reason
    assert (repo / "local.env").read_text() == "TOKEN=late\n"
    assert rev(repo, "main") == main_before
