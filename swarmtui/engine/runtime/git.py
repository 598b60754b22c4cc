"""Git operations: worktrees per attempt, diff statistics, the repository's exclude file.

Reads go through GitPython; worktree and merge plumbing goes through the git CLI (via GitPython's
``git`` command wrapper), which is what those operations are defined by. None of this touches the
user's own working tree: worktrees live under ``.swarm/worktrees`` on ``swarm/*`` branches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git


class GitError(Exception):
    pass


@dataclass(frozen=True)
class DiffStat:
    files: int
    insertions: int
    deletions: int
    paths: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"files": self.files, "insertions": self.insertions,
                "deletions": self.deletions, "paths": list(self.paths)}


def find_root(start: Path) -> Path:
    """The top of the git repository around ``start`` (the main worktree's root)."""
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"{start}: not inside a git repository (use --repo DIR)") from None
    if repo.working_tree_dir is None:
        raise GitError(f"{start}: a bare repository has no working tree")
    common = Path(repo.git.rev_parse("--path-format=absolute", "--git-common-dir"))
    # From inside a linked worktree, report the main repository, where .swarm lives.
    return common.parent if common.name == ".git" else Path(repo.working_tree_dir)


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.repo = git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{root}: not a git repository") from None
        self.g = self.repo.git

    def head_commit(self) -> str:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:
            raise GitError(f"{self.root}: the repository has no commits yet; commit something "
                           "first so agents have a base to branch from") from None

    def current_branch(self) -> str | None:
        if self.repo.head.is_detached:
            return None
        return self.repo.active_branch.name

    def branch_exists(self, name: str) -> bool:
        try:
            self.g.rev_parse("--verify", "--quiet", f"refs/heads/{name}")
        except git.GitCommandError:
            return False
        return True

    def ensure_excluded(self, pattern: str) -> None:
        """Add ``pattern`` to .git/info/exclude once (shared by all worktrees)."""
        common = Path(self.g.rev_parse("--path-format=absolute", "--git-common-dir"))
        exclude = common / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        lines = exclude.read_text().splitlines() if exclude.exists() else []
        if pattern not in lines:
            with exclude.open("a") as f:
                if lines and lines[-1] != "":
                    f.write("\n")
                f.write(f"{pattern}\n")

    def add_worktree(self, path: Path, branch: str, start: str) -> None:
        """Create ``path`` on a new ``branch`` from ``start``. An existing branch of that name is
        an error rather than reset: it may hold an earlier attempt's unmerged work."""
        if self.branch_exists(branch):
            raise GitError(f"branch {branch} already exists; not resetting it (it may hold "
                           "unmerged work)")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.g.worktree("add", "-b", branch, str(path), start)
        except git.GitCommandError as e:
            raise GitError(f"git worktree add {path}: {e.stderr.strip()}") from None

    def diff_stat(self, worktree: Path, base: str) -> DiffStat:
        """Committed and uncommitted changes in ``worktree`` relative to ``base``."""
        wt = git.Repo(worktree).git
        try:
            out = wt.diff("--numstat", base)
            untracked = wt.ls_files("--others", "--exclude-standard").splitlines()
        except git.GitCommandError as e:
            raise GitError(f"git diff in {worktree}: {e.stderr.strip()}") from None
        ins = dels = 0
        paths: list[str] = []
        for line in out.splitlines():
            parts = line.split("\t", 2)
            if len(parts) != 3:
                continue
            a, d, p = parts
            ins += int(a) if a.isdigit() else 0
            dels += int(d) if d.isdigit() else 0
            paths.append(p)
        paths += [p for p in untracked if p not in paths]
        return DiffStat(files=len(paths), insertions=ins, deletions=dels, paths=tuple(paths))

    def diff_stat_text(self, worktree: Path, base: str) -> str:
        try:
            return git.Repo(worktree).git.diff("--stat", base)
        except git.GitCommandError as e:
            return f"(git diff failed: {e.stderr.strip()})"

    def head_of(self, worktree: Path) -> str:
        return git.Repo(worktree).head.commit.hexsha


@dataclass(frozen=True)
class MergeTree:
    clean: bool
    tree: str  # the merged tree (with conflict markers when not clean)
    conflicts: tuple[str, ...] = ()


class GitPlumbing:
    """Merge plumbing that never touches a work tree: merge-tree, commit-tree, update-ref.

    Separate from GitRepo so the fan-in code reads as what it does; both wrap one repository.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.g = git.Repo(self.root).git

    def _run(self, *args: str, ok: tuple[int, ...] = (0,),
             env: dict[str, str] | None = None) -> tuple[int, str]:
        try:
            out = self.g.execute(["git", *args], with_extended_output=True,
                                 with_exceptions=False, strip_newline_in_stdout=False,
                                 env=env)
        except git.GitCommandError as e:  # pragma: no cover - execute raises only on spawn
            raise GitError(str(e)) from None
        code, stdout, stderr = out
        if code not in ok:
            raise GitError(f"git {' '.join(args[:3])}: {stderr.strip() or stdout.strip()}")
        return code, stdout

    def rev(self, ref: str) -> str | None:
        code, out = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                              ok=(0, 1))
        return out.strip() if code == 0 else None

    def heads(self, prefix: str = "refs/heads/") -> dict[str, str]:
        """Branch name -> commit for every branch under ``prefix``, in one call."""
        _, out = self._run("for-each-ref", "--format=%(refname)%00%(objectname)", prefix)
        heads: dict[str, str] = {}
        for line in out.splitlines():
            ref, _, sha = line.partition("\0")
            heads[ref.removeprefix("refs/heads/")] = sha
        return heads

    def merge_tree(self, ours: str, theirs: str) -> MergeTree:
        """What merging ``theirs`` into ``ours`` would give, computed without a work tree."""
        code, out = self._run("merge-tree", "--write-tree", "-z", "--name-only", "--no-messages",
                              ours, theirs, ok=(0, 1))
        parts = [p for p in out.split("\0") if p]
        tree = parts[0].strip() if parts else ""
        files = tuple(dict.fromkeys(p.strip() for p in parts[1:]))
        return MergeTree(clean=code == 0, tree=tree, conflicts=files)

    def merge_base(self, a: str, b: str) -> str | None:
        code, out = self._run("merge-base", a, b, ok=(0, 1))
        return out.strip() if code == 0 else None

    def is_ancestor(self, a: str, b: str) -> bool:
        code, _ = self._run("merge-base", "--is-ancestor", a, b, ok=(0, 1))
        return code == 0

    def commits_between(self, base: str, tip: str) -> list[str]:
        """One-line descriptions of commits in ``tip`` that ``base`` lacks."""
        _, out = self._run("log", "--format=%h %s", f"{base}..{tip}")
        return out.splitlines()

    def changed_files(self, base: str, tip: str) -> list[str]:
        _, out = self._run("diff", "--name-only", "-z", f"{base}...{tip}")
        return [p for p in out.split("\0") if p]

    def diff_lines(self, base: str, tip: str, *, three_dot: bool = True
                   ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(added lines, removed lines) per file between ``base`` and ``tip``."""
        rng = f"{base}...{tip}" if three_dot else f"{base}..{tip}"
        _, out = self._run("diff", "-U0", "--no-color", "--no-ext-diff", rng)
        added: dict[str, list[str]] = {}
        removed: dict[str, list[str]] = {}
        current = ""
        in_hunk = False  # "---"/"+++" are file headers only before a file's first "@@"
        for line in out.splitlines():
            if line.startswith("diff --git "):
                # The header's b/ name also covers deletions, whose "+++" is /dev/null.
                current = line.split(" b/", 1)[-1] if " b/" in line else ""
                in_hunk = False
            elif not in_hunk and line.startswith("+++ "):
                if line.startswith("+++ b/"):
                    current = line[6:]
            elif not in_hunk and line.startswith("--- "):
                continue
            elif line.startswith("@@"):
                in_hunk = True
            elif in_hunk and line.startswith("+") and current:
                added.setdefault(current, []).append(line[1:])
            elif in_hunk and line.startswith("-") and current:
                removed.setdefault(current, []).append(line[1:])
        return added, removed

    def commit_tree(self, tree: str, parents: list[str], message: str,
                    env: dict[str, str] | None = None) -> str:
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        args += ["-m", message]
        _, out = self._run(*args, env=env)
        return out.strip()

    def update_ref(self, branch: str, new: str, old: str) -> None:
        """Move ``branch`` to ``new`` only if it still points at ``old`` (compare and swap)."""
        self._run("update-ref", "-m", "swarmtui merge", f"refs/heads/{branch}", new, old)

    def worktree_of(self, branch: str) -> Path | None:
        """The work tree that has ``branch`` checked out, if any."""
        _, out = self._run("worktree", "list", "--porcelain")
        path: Path | None = None
        for line in out.splitlines():
            if line.startswith("worktree "):
                path = Path(line[len("worktree "):])
            elif line == f"branch refs/heads/{branch}" and path is not None:
                return path
        return None

    def dirty_files(self, worktree: Path) -> list[str]:
        """Tracked files with uncommitted changes (staged or not) in ``worktree``."""
        out = git.Repo(worktree).git.status("--porcelain=v1", "-z", "--untracked-files=no")
        return _porcelain_paths(out)

    def fast_forward_worktree(self, worktree: Path, commit: str) -> None:
        """Advance the branch checked out in ``worktree`` to ``commit``, updating its files.

        ``merge --ff-only`` moves the ref and the work tree together and refuses to overwrite
        local changes, so a checked-out branch never moves under a stale work tree."""
        try:
            git.Repo(worktree).git.merge("--ff-only", "--quiet", commit)
        except git.GitCommandError as e:
            raise GitError(f"fast-forward of {worktree}: {e.stderr.strip()}") from None

    def add_detached_worktree(self, path: Path, commit: str) -> None:
        if path.exists():
            self.remove_worktree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run("worktree", "add", "--detach", "--force", str(path), commit)

    def remove_worktree(self, path: Path, force: bool = True) -> None:
        args = ["worktree", "remove"] + (["--force"] if force else []) + [str(path)]
        self._run(*args, ok=(0, 128))
        self._run("worktree", "prune")

    def delete_branch(self, branch: str) -> None:
        self._run("branch", "-D", branch)

    def has_uncommitted(self, worktree: Path) -> list[str]:
        """Every uncommitted change in ``worktree``, untracked files included."""
        out = git.Repo(worktree).git.status("--porcelain=v1", "-z")
        return _porcelain_paths(out)

    def merge_in_worktree(self, worktree: Path, ref: str, message: str,
                          env: dict[str, str] | None = None) -> list[str]:
        """Start merging ``ref`` into the work tree's branch, leaving conflict markers for a
        resolver to fix. Returns the conflicted files (empty when the merge was clean and was
        committed)."""
        wt = git.Repo(worktree).git
        try:
            wt.merge("--no-ff", "-m", message, ref, env=env)
            return []
        except git.GitCommandError:
            out = wt.diff("--name-only", "--diff-filter=U")
            return out.splitlines()


def _porcelain_paths(out: str) -> list[str]:
    """Paths from ``git status --porcelain=v1 -z``. A rename or copy entry ("R  new") is
    followed by its source path as a separate, unprefixed entry."""
    paths: list[str] = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC" or entry[1] in "RC":
            if i < len(entries) and entries[i]:
                paths.append(entries[i])
            i += 1
    return paths
