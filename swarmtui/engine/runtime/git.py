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

    def rev(self, ref: str) -> str:
        try:
            return self.g.rev_parse("--verify", f"{ref}^{{commit}}")
        except git.GitCommandError as e:
            raise GitError(f"{ref}: not a commit ({e.stderr.strip()})") from None

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

    def remove_worktree(self, path: Path, *, force: bool = False) -> None:
        args = ["remove", str(path)]
        if force:
            args.insert(1, "--force")
        try:
            self.g.worktree(*args)
        except git.GitCommandError as e:
            raise GitError(f"git worktree remove {path}: {e.stderr.strip()}") from None

    def worktrees(self) -> list[Path]:
        out = self.g.worktree("list", "--porcelain")
        return [Path(line.split(" ", 1)[1]) for line in out.splitlines()
                if line.startswith("worktree ")]

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
