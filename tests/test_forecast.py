"""Tests for swarmtui.engine.integrate.forecast: the merge forecast agrees with real `git merge` on
random histories (property test), branches with nothing new, the commit-pair cache, scope
checks and revert detection in the forecast."""

from __future__ import annotations

import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from swarmtui.engine.integrate.forecast import Candidate, Forecaster, out_of_scope
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.runtime.git import Git, MergeTree
from tests.conftest import GIT_ID, git

Files = dict[str, list[str]]
# An edit: (op, file index, line index, value); indices are taken modulo what exists.
Edit = tuple[str, int, int, str]

BASE_NAMES = ["a.txt", "b.txt", "c.txt", "d.txt"]
NEW_NAMES = ["n1.txt", "n2.txt"]
VALUES = ["X", "Y", "Z", "a.txt-0", "shared"]


class CountingPlumbing(Git):
    """Git that counts merge_tree calls (the expensive, cached operation)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.merge_tree_calls: list[tuple[str, str]] = []

    def merge_tree(self, ours: str, theirs: str) -> MergeTree:
        self.merge_tree_calls.append((ours, theirs))
        return super().merge_tree(ours, theirs)


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A git command whose failure is data (exit code and output), not an exception."""
    return subprocess.run(["git", *GIT_ID, *args], cwd=repo, capture_output=True, text=True)


def rev(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


# -- building histories -------------------------------------------------------------------------


def apply_edits(files: Files, edits: list[Edit]) -> Files:
    """The file set after ``edits`` (pure; indices wrap around what exists)."""
    out = {k: list(v) for k, v in files.items()}
    for op, fi, li, value in edits:
        names = sorted(out)
        if op == "add_file":
            out[NEW_NAMES[fi % len(NEW_NAMES)]] = [value, f"{value} {li}", "tail"]
            continue
        if not names:
            continue
        name = names[fi % len(names)]
        lines = out[name]
        if op == "delete_file":
            del out[name]
        elif op == "insert":
            lines.insert(li % (len(lines) + 1), value)
        elif op == "change" and lines:
            lines[li % len(lines)] = value
        elif op == "delete_line" and lines:
            del lines[li % len(lines)]
    return out


def write_tree(repo: Path, files: Files) -> None:
    """Make the work tree hold exactly ``files`` (plus .git)."""
    for p in repo.iterdir():
        if p.name != ".git" and p.name not in files:
            p.unlink()
    for name, lines in files.items():
        (repo / name).write_text("".join(f"{ln}\n" for ln in lines))


def commit_state(repo: Path, files: Files, message: str) -> None:
    write_tree(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def build(repo: Path, base: Files, main_edits: list[Edit],
          branch_edits: list[list[Edit]]) -> list[bool]:
    """Base commit on main, one branch per edit list forked from it (committed only when the
    edits change something), then main's own edits. Returns which branches got a commit."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_state(repo, base, "base")
    committed: list[bool] = []
    for i, edits in enumerate(branch_edits):
        git(repo, "checkout", "-q", "-b", f"br{i}", "main")
        state = apply_edits(base, edits)
        committed.append(state != base)
        if state != base:
            commit_state(repo, state, f"branch {i}")
    git(repo, "checkout", "-q", "main")
    state = apply_edits(base, main_edits)
    if state != base:
        commit_state(repo, state, "main moves")
    return committed


def real_merge(repo: Path, ours: str, theirs: str) -> tuple[bool, set[str]]:
    """Merge ``theirs`` into a detached checkout of ``ours`` for real: (clean, conflicted)."""
    git(repo, "checkout", "-q", "--detach", ours)
    res = run_git(repo, "merge", "--no-ff", "--no-commit", theirs)
    assert res.returncode in (0, 1), res.stderr
    conflicted = set(git(repo, "diff", "--name-only", "--diff-filter=U").split())
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-fdq")
    assert git(repo, "status", "--porcelain") == ""
    return res.returncode == 0, conflicted


# -- the property -------------------------------------------------------------------------------

line_st = st.sampled_from(VALUES)
edit_st = st.tuples(
    st.sampled_from(["change", "change", "insert", "delete_line", "add_file", "delete_file"]),
    st.integers(0, 7), st.integers(0, 9), line_st)
base_st = st.lists(st.sampled_from(BASE_NAMES), min_size=2, max_size=4, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({
        n: st.integers(3, 8).map(lambda k, n=n: [f"{n}-{i}" for i in range(k)])
        for n in names}))

# About one branch in six makes no edit at all (no commit beyond main: target None).
branch_edits_st = st.integers(0, 5).flatmap(
    lambda k: st.just([]) if k == 0 else st.lists(edit_st, min_size=1, max_size=4))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(base=base_st,
       main_edits=st.lists(edit_st, min_size=0, max_size=3),
       branch_edits=st.lists(branch_edits_st, min_size=2, max_size=3))
def test_forecast_agrees_with_real_git_merge(tmp_path_factory: pytest.TempPathFactory,
                                             base: Files, main_edits: list[Edit],
                                             branch_edits: list[list[Edit]]) -> None:
    """For random histories: clean/conflict and the conflicted files against main match a
    real `git merge`, branches with no commits get target None, and conflicts_with matches
    real pairwise merges of the branches."""
    repo = tmp_path_factory.mktemp("fc") / "repo"
    committed = build(repo, base, main_edits, branch_edits)
    heads = [rev(repo, f"br{i}") for i in range(len(branch_edits))]
    cands = [Candidate(task=f"t{i}", branch=f"br{i}", head=h, files=())
             for i, h in enumerate(heads)]

    got = Forecaster(Git(repo)).forecast("main", cands, [])

    assert set(got) == {c.task for c in cands}
    live = [i for i, c in enumerate(committed) if c]
    for i, c in enumerate(cands):
        fc = got[c.task]
        if not committed[i]:
            event("branch without commits")
            assert fc == {"target": None, "files": [], "conflicts_with": [],
                          "out_of_scope": [], "reverts": []}
            continue
        clean, conflicted = real_merge(repo, "main", c.branch)
        event("vs main: clean" if clean else f"vs main: conflict in {len(conflicted)} file(s)")
        assert fc["target"] == ("clean" if clean else "conflict"), (c.task, conflicted)
        assert set(fc["files"]) == conflicted, c.task
        assert fc["out_of_scope"] == [] and fc["reverts"] == []
    expected: dict[int, set[str]] = {i: set() for i in live}
    for i, j in combinations(live, 2):
        clean, _ = real_merge(repo, f"br{i}", f"br{j}")
        event("pair: clean" if clean else "pair: conflict")
        if not clean:
            expected[i].add(f"t{j}")
            expected[j].add(f"t{i}")
    for i in live:
        assert got[f"t{i}"]["conflicts_with"] == sorted(expected[i]), i


# -- fixed examples -----------------------------------------------------------------------------


def make_branch(repo: Path, branch: str, files: dict[str, str | None],
                start: str = "main") -> str:
    """Commit ``files`` (None deletes) on ``branch`` (created from ``start`` if new), in the
    main worktree when it has ``branch`` checked out, else through a scratch worktree; returns
    the new head."""
    wt = repo.parent / f"wt-{branch.replace('/', '-')}"
    if git(repo, "branch", "--show-current").strip() == branch:
        wt = repo
    elif run_git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode:
        git(repo, "worktree", "add", "-q", "-b", branch, str(wt), start)
    else:
        git(repo, "worktree", "add", "-q", str(wt), branch)
    for path, text in files.items():
        if text is None:
            git(wt, "rm", "-q", path)
        else:
            (wt / path).parent.mkdir(parents=True, exist_ok=True)
            (wt / path).write_text(text)
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", f"edit {branch}")
    head = rev(wt, "HEAD")
    if wt != repo:
        git(repo, "worktree", "remove", "--force", str(wt))
    return head


def cand(repo: Path, task: str, files: tuple[str, ...] = ()) -> Candidate:
    branch = f"swarm/{task}-1"
    return Candidate(task=task, branch=branch, head=rev(repo, branch), files=files)


def test_branch_without_commits_beyond_main_has_target_none(git_repo: Path) -> None:
    """A branch at main, or behind it, is not forecast (target None) and conflicts with
    nobody, even if another branch touches the same lines."""
    git(git_repo, "branch", "swarm/idle-1", "main")
    make_branch(git_repo, "swarm/busy-1", {"shared.txt": "changed\n"})
    git(git_repo, "branch", "swarm/old-1", "main")
    make_branch(git_repo, "main", {"README.md": "# newer\n"})
    fc = Forecaster(Git(git_repo))
    got = fc.forecast("main", [cand(git_repo, t) for t in ("idle", "busy", "old")], [])
    none = {"target": None, "files": [], "conflicts_with": [], "out_of_scope": [],
            "reverts": []}
    assert got["idle"] == none and got["old"] == none
    assert got["busy"]["target"] == "clean" and got["busy"]["conflicts_with"] == []


def test_conflicts_with_target_and_between_branches(git_repo: Path) -> None:
    """Two branches editing the same line conflict with each other; one that also clashes
    with main lists the file; a disjoint branch is clean and conflicts with nobody."""
    make_branch(git_repo, "swarm/a-1", {"shared.txt": "line 1\nA\nline 3\n"})
    make_branch(git_repo, "swarm/b-1", {"shared.txt": "line 1\nB\nline 3\n"})
    make_branch(git_repo, "swarm/c-1", {"other.txt": "c\n"})
    make_branch(git_repo, "main", {"README.md": "# main's readme\n"})
    make_branch(git_repo, "swarm/b-1", {"README.md": "# b's readme\n"})
    got = Forecaster(Git(git_repo)).forecast(
        "main", [cand(git_repo, t) for t in ("a", "b", "c")], [])
    assert got["a"]["target"] == "clean" and got["a"]["files"] == []
    assert got["b"]["target"] == "conflict" and got["b"]["files"] == ["README.md"]
    assert got["c"]["target"] == "clean"
    assert got["a"]["conflicts_with"] == ["b"]
    assert got["b"]["conflicts_with"] == ["a"]
    assert got["c"]["conflicts_with"] == []


def test_missing_target_gives_no_forecast(git_repo: Path) -> None:
    """A target branch that does not exist yields an empty forecast, not an error."""
    make_branch(git_repo, "swarm/a-1", {"x.txt": "x\n"})
    assert Forecaster(Git(git_repo)).forecast("release", [cand(git_repo, "a")],
                                                      []) == {}


def test_forecast_is_cached_by_commit_pair(git_repo: Path) -> None:
    """Unchanged heads: no merge-tree call at all on the second forecast. One branch moves:
    only the pairs involving its new head are computed. The target moves: only the
    target comparisons are recomputed; branch pairs stay cached."""
    for t in ("a", "b", "c"):
        make_branch(git_repo, f"swarm/{t}-1", {f"{t}.txt": f"{t}\n"})
    plumbing = CountingPlumbing(git_repo)
    fc = Forecaster(plumbing)

    def cands() -> list[Candidate]:
        return [cand(git_repo, t) for t in ("a", "b", "c")]

    first = fc.forecast("main", cands(), [])
    assert len(plumbing.merge_tree_calls) == 3 + 3  # 3 vs target, 3 pairs
    plumbing.merge_tree_calls.clear()

    assert fc.forecast("main", cands(), []) == first
    assert plumbing.merge_tree_calls == []

    new_a = make_branch(git_repo, "swarm/a-1", {"a.txt": "a2\n"})
    fc.forecast("main", cands(), [])
    assert len(plumbing.merge_tree_calls) == 1 + 2
    assert all(new_a in call for call in plumbing.merge_tree_calls)
    plumbing.merge_tree_calls.clear()

    new_main = make_branch(git_repo, "main", {"README.md": "# moved\n"})
    fc.forecast("main", cands(), [])
    assert sorted(plumbing.merge_tree_calls) == sorted(
        (new_main, rev(git_repo, f"swarm/{t}-1")) for t in ("a", "b", "c"))


def test_forecast_reports_out_of_scope_files_and_ledger_reverts(git_repo: Path) -> None:
    """Scope and do-not-revert checks are part of the forecast."""
    make_branch(git_repo, "swarm/a-1", {"src/a.py": "a\n", "notes.md": "n\n",
                                        "shared.txt": "line 1\nline 3\n"})
    guard = LedgerEntry(task="guard", run=1, time=0.0, commit="f" * 40, summary="",
                        files=("shared.txt",), do_not_revert=True,
                        added={"shared.txt": ["line 2"]})
    got = Forecaster(Git(git_repo)).forecast(
        "main", [cand(git_repo, "a", ("src/**", "shared.txt"))], [guard])
    assert got["a"]["out_of_scope"] == ["notes.md"]
    assert got["a"]["reverts"] == [{"task": "guard", "file": "shared.txt", "lines": 1,
                                    "example": "line 2"}]


# -- out_of_scope -------------------------------------------------------------------------------


CHANGED = ["src/a.py", "src/deep/b.py", "srcx/c.py", "docs/guide.md", "docs/sub/x.md",
           "docs/notes.txt", "x", "xy", "lib/util.py", "lib/deep/z.py", "libx.py", "README.md"]


@pytest.mark.parametrize(("scope", "inside"), [
    (("src/**",), {"src/a.py", "src/deep/b.py"}),
    # fnmatch's * crosses '/', as documented: docs/*.md also covers docs/sub/x.md.
    (("docs/*.md",), {"docs/guide.md", "docs/sub/x.md"}),
    (("./x",), {"x"}),
    (("lib/",), {"lib/util.py", "lib/deep/z.py"}),
    (("./lib/", "README.md"), {"lib/util.py", "lib/deep/z.py", "README.md"}),
    (("*.md",), {"docs/guide.md", "docs/sub/x.md", "README.md"}),
])
def test_out_of_scope_matches_globs(scope: tuple[str, ...], inside: set[str]) -> None:
    """Exactly the changed paths no glob matches are reported, in their original order."""
    assert out_of_scope(CHANGED, scope) == [f for f in CHANGED if f not in inside]


def test_out_of_scope_with_empty_scope_is_empty() -> None:
    """A task that declared no files has no scope to leave."""
    assert out_of_scope(CHANGED, ()) == []
    assert out_of_scope([], ("src/**",)) == []


@pytest.mark.parametrize("root", [".", "./"])
def test_out_of_scope_repository_root_covers_everything(root: str) -> None:
    """A scope of the repository root (which scope.py treats as everything) covers all."""
    assert out_of_scope(CHANGED, (root,)) == []


def test_ancestry_is_asked_once_per_commit_pair_and_never_of_a_branch_at_the_target(
        git_repo: Path) -> None:
    """A branch still at main needs no ``merge-base`` (it is its own answer); one behind or
    ahead of main is asked once, however many passes follow (commits do not change), and
    again only when main moves."""
    git(git_repo, "branch", "swarm/idle-1", "main")
    git(git_repo, "branch", "swarm/old-1", "main")
    make_branch(git_repo, "swarm/busy-1", {"shared.txt": "changed\n"})
    asked: list[tuple[str, str]] = []

    class Counting(Git):
        def is_ancestor(self, a: str, b: str) -> bool:
            asked.append((a, b))
            return super().is_ancestor(a, b)

    fc = Forecaster(Counting(git_repo))

    def cands() -> list[Candidate]:
        return [cand(git_repo, t) for t in ("idle", "old", "busy")]

    first = fc.forecast("main", cands(), [])
    assert asked == [(rev(git_repo, "swarm/busy-1"), rev(git_repo, "main"))]
    assert fc.forecast("main", cands(), []) == first and len(asked) == 1
    make_branch(git_repo, "main", {"README.md": "# newer\n"})
    got = fc.forecast("main", cands(), [])
    assert len(asked) == 3  # the old tip (idle and old share it) and busy, against the new
    assert got["old"]["target"] is None and got["busy"]["target"] == "clean"
