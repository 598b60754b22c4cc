"""Git: worktrees per attempt, diff statistics, merge plumbing and the exclude file.

Every call runs ``git -C <dir> ...`` through GitPython's command runner with an argument list:
no shell, and no expansion of ``$VARS`` or ``~`` in paths (GitPython expands both in the paths
it is given as working directories, which breaks a repository whose path contains ``$x``).
None of this touches the user's own working tree: worktrees live under ``.swarm/worktrees`` on
``swarm/*`` branches. Every call blocks; the engine makes them from worker threads.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from swarmtui.engine.runtime import worktrees
from swarmtui.engine.runtime.gitcmd import GitError as GitError  # re-exported: its old home
from swarmtui.engine.runtime.gitcmd import run_git as run_git
from swarmtui.engine.runtime.worktreelock import worktree_admin
from swarmtui.gitview import main_root


@dataclass(frozen=True)
class DiffStat:
    files: int
    insertions: int
    deletions: int
    paths: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"files": self.files, "insertions": self.insertions,
                "deletions": self.deletions, "paths": list(self.paths)}


@dataclass(frozen=True)
class MergeTree:
    clean: bool
    tree: str  # the merged tree (with conflict markers when not clean)
    conflicts: tuple[str, ...] = ()


def find_root(start: Path) -> Path:
    """The main worktree's root around ``start``, by plain git (not worth GitPython)."""
    try:
        return main_root(start)
    except ValueError:
        raise GitError(f"{start}: a bare repository has no working tree") from None
    except (OSError, subprocess.SubprocessError) as e:
        raise GitError(f"{start}: not inside a git repository (use --repo DIR)" if isinstance(
            e, subprocess.CalledProcessError) else f"git rev-parse in {start}: {e}") from None


class Git:
    """One repository (and its linked worktrees)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _run(self, *args: str, ok: tuple[int, ...] = (0,),
             env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str]:
        code, out, _ = run_git(cwd or self.root, *args, ok=ok, env=env)
        return code, out

    # -- the repository ---------------------------------------------------------------------

    def has_commits(self) -> bool:
        code, _ = self._run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1, 128))
        return code == 0

    def head_commit(self) -> str:
        if not self.has_commits():
            raise GitError(f"{self.root}: the repository has no commits yet; commit something "
                           "first so agents have a base to branch from")
        return self._run("rev-parse", "HEAD")[1].strip()

    def current_branch(self) -> str | None:
        code, out = self._run("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1, 128))
        return out.strip() or None if code == 0 else None

    def branch_exists(self, name: str) -> bool:
        code, _ = self._run("rev-parse", "--verify", "--quiet", f"refs/heads/{name}",
                            ok=(0, 1, 128))
        return code == 0

    def ensure_excluded(self, pattern: str) -> None:
        """Add ``pattern`` to .git/info/exclude once (shared by all worktrees)."""
        common = Path(self._run("rev-parse", "--path-format=absolute",
                                "--git-common-dir")[1].strip())
        exclude = common / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        lines = exclude.read_text().splitlines() if exclude.exists() else []
        if pattern not in lines:
            with exclude.open("a") as f:
                if lines and lines[-1] != "":
                    f.write("\n")
                f.write(f"{pattern}\n")

    def rev(self, ref: str) -> str | None:
        code, out = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                              ok=(0, 1, 128))
        return out.strip() if code == 0 else None

    def heads(self, prefix: str = "refs/heads/") -> dict[str, str]:
        """Branch name -> commit for every branch under ``prefix``, in one call."""
        _, out = self._run("for-each-ref", "--format=%(refname)%00%(objectname)", prefix)
        heads: dict[str, str] = {}
        for line in out.splitlines():
            ref, _, sha = line.partition("\0")
            heads[ref.removeprefix("refs/heads/")] = sha
        return heads

    # -- worktrees --------------------------------------------------------------------------

    def add_worktree(self, path: Path, branch: str, start: str) -> str:
        """Create ``path`` on a new ``branch`` from ``start``; returns the commit the branch
        was made at. An existing branch of that name is an error rather than reset: it may
        hold an earlier attempt's unmerged work. Only the worktree entry is made under the
        repository's lock (see ``worktrees``)."""
        return worktrees.add(self.root, path, branch, start, lambda: worktree_admin(self.root))

    def add_detached_worktree(self, path: Path, commit: str) -> None:
        if path.exists():
            self.remove_worktree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with worktree_admin(self.root):
            self._run("worktree", "add", "--quiet", "--detach", "--force", str(path), commit)

    def remove_worktree(self, path: Path, force: bool = True) -> None:
        args = ["worktree", "remove"] + (["--force"] if force else []) + [str(path)]
        with worktree_admin(self.root):
            self._run(*args, ok=(0, 128))
            self._run("worktree", "prune")

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

    def branch_here(self, worktree: Path, branch: str) -> None:
        """Switch ``worktree`` to a new ``branch`` at its current commit, keeping every
        uncommitted change (an existing branch of that name is an error, never reset)."""
        if self.branch_exists(branch):
            raise GitError(f"branch {branch} already exists; not resetting it")
        self._run("checkout", "-q", "-b", branch, cwd=worktree)

    def delete_branch(self, branch: str) -> None:
        self._run("branch", "-D", branch)

    # -- diffs ------------------------------------------------------------------------------

    def diff_stat(self, worktree: Path, base: str) -> DiffStat:
        """Committed and uncommitted changes in ``worktree`` relative to ``base``."""
        # --no-renames: a rename's -z record has no path field (both names follow it), so
        # it would count for nothing; as a deletion and an addition both names are seen.
        _, out = self._run("diff", "--numstat", "-z", "--no-renames", base, cwd=worktree)
        _, untracked = self._run("ls-files", "-z", "--others", "--exclude-standard",
                                 cwd=worktree)
        ins = dels = 0
        paths: list[str] = []
        for entry in out.split("\0"):
            parts = entry.split("\t", 2)
            if len(parts) != 3:
                continue
            a, d, p = parts
            ins += int(a) if a.isdigit() else 0
            dels += int(d) if d.isdigit() else 0
            if p:
                paths.append(p)
        paths += [p for p in untracked.split("\0") if p and p not in paths]
        return DiffStat(files=len(paths), insertions=ins, deletions=dels, paths=tuple(paths))

    def diff_stat_text(self, worktree: Path, base: str) -> str:
        try:
            return self._run("diff", "--stat", base, cwd=worktree)[1].rstrip()
        except GitError as e:
            return f"(git diff failed: {e})"

    def head_of(self, worktree: Path) -> str:
        return self._run("rev-parse", "HEAD", cwd=worktree)[1].strip()

    def diff_text(self, base: str, tip: str, *, limit: int) -> str:
        """``git diff base..tip`` as text, cut at ``limit`` characters."""
        out = self._run("diff", "--no-color", "--no-ext-diff", f"{base}..{tip}")[1]
        return out if len(out) <= limit else out[:limit] + "\n[... cut ...]\n"

    def changed_files(self, base: str, tip: str) -> list[str]:
        _, out = self._run("diff", "--name-only", "-z", f"{base}...{tip}")
        return [p for p in out.split("\0") if p]

    def diff_lines(self, base: str, tip: str, *, three_dot: bool = True
                   ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(added lines, removed lines) per file between ``base`` and ``tip``."""
        rng = f"{base}...{tip}" if three_dot else f"{base}..{tip}"
        _, out = self._run("diff", "-U0", "--no-color", "--no-ext-diff", rng)
        return parse_diff_lines(out)

    def dirty_files(self, worktree: Path) -> list[str]:
        """Tracked files with uncommitted changes (staged or not) in ``worktree``."""
        _, out = self._run("status", "--porcelain=v1", "-z", "--untracked-files=no",
                           cwd=worktree)
        return _porcelain_paths(out)

    def has_uncommitted(self, worktree: Path) -> list[str]:
        """Every uncommitted change in ``worktree``, untracked files included."""
        _, out = self._run("status", "--porcelain=v1", "-z", cwd=worktree)
        return _porcelain_paths(out)

    def untracked_in_the_way(self, worktree: Path, base: str, tree: str,
                             limit: int = 200) -> list[str]:
        """Paths that moving ``worktree`` (clean, at ``base``) to ``tree`` would write over
        although git does not track them there: an untracked or ignored file (or link, or
        folder) at a path the tree adds, or at a folder above one. Git overwrites ignored
        files silently, so this is asked before any merge moves a work tree. Links are never
        followed; at most ``limit`` paths are returned."""
        _, out = self._run("diff-tree", "-r", "-z", "--name-status", "--no-renames", base, tree)
        fields = out.split("\0")
        changes = list(zip(fields[0::2], fields[1::2], strict=False))
        # A path the target tracks (a file or link the tree removes or changes) is git's own
        # to replace, not an untracked file in the way.
        tracked = {p for st, p in changes if st[:1] in "DT"}
        found: dict[str, None] = {}
        known_dirs: set[str] = set()
        absent: set[str] = set()  # asked once: a new folder's thousand files cost one lstat
        for status, path in changes:
            if status[:1] != "A" or not path:
                continue
            parts = path.split("/")
            for i in range(1, len(parts) + 1):
                rel = "/".join(parts[:i])
                if rel in absent:
                    break
                if rel in known_dirs or rel in tracked:
                    continue
                try:
                    st = os.lstat(worktree / rel)
                except (FileNotFoundError, NotADirectoryError):
                    absent.add(rel)  # nothing there: nothing below it either
                    break
                if i < len(parts) and stat.S_ISDIR(st.st_mode):
                    known_dirs.add(rel)  # a real folder on the way: look further down
                    continue
                found[rel] = None  # a file or a link where the tree puts a file or folder
                break
            if len(found) >= limit:
                break
        return list(found)

    # -- merge plumbing (no work tree touched) ---------------------------------------------

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

    def commit_tree(self, tree: str, parents: list[str], message: str,
                    env: dict[str, str] | None = None) -> str:
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        args += ["-m", message]
        return self._run(*args, env=env)[1].strip()

    def update_ref(self, branch: str, new: str, old: str) -> None:
        """Move ``branch`` to ``new`` only if it still points at ``old`` (compare and swap)."""
        self._run("update-ref", "-m", "swarmtui merge", f"refs/heads/{branch}", new, old)

    def fast_forward_worktree(self, worktree: Path, commit: str) -> None:
        """Advance the branch checked out in ``worktree`` to ``commit``, updating its files.

        ``merge --ff-only`` moves the ref and the work tree together and refuses to overwrite
        local changes, so a checked-out branch never moves under a stale work tree;
        ``--no-overwrite-ignore`` makes it refuse to replace ignored files as well (git
        overwrites those by default), should one appear after ``untracked_in_the_way``."""
        try:
            self._run("merge", "--ff-only", "--no-overwrite-ignore", "--quiet", commit,
                      cwd=worktree)
        except GitError as e:
            raise GitError(f"fast-forward of {worktree}: {e}") from None

    def merge_in_worktree(self, worktree: Path, ref: str, message: str,
                          env: dict[str, str] | None = None) -> list[str]:
        """Merge ``ref`` into the work tree's branch for a resolver and commit it, conflict
        markers and all. Returns the files left with markers (empty for a clean merge).

        A merge left in progress (MERGE_HEAD) refuses ``git commit <paths>`` ("cannot do a
        partial commit during a merge"), which is how many agents commit; committed, the merge
        keeps ``ref`` as a parent whatever the resolver commits next, and any way of
        committing works. Verification then refuses a branch that still has the markers."""
        code, _ = self._run("merge", "--no-ff", "-m", message, ref, ok=(0, 1), env=env,
                            cwd=worktree)
        if code == 0:
            return []
        _, out = self._run("diff", "--name-only", "-z", "--diff-filter=U", cwd=worktree)
        conflicts = [p for p in out.split("\0") if p]
        self._run("add", "-A", cwd=worktree)
        listed = "".join(f"\t{p}\n" for p in conflicts[:50])
        # --no-verify: a pre-commit hook that rejects conflict markers must not stop this one.
        self._run("commit", "--no-verify", "-q", "-m", f"{message}\n\nConflict markers left "
                  f"for the resolver in:\n{listed}", env=env, cwd=worktree)
        return conflicts

    def conflict_markers(self, rev: str, paths: list[str]) -> list[str]:
        """Which of ``paths`` still hold a conflict block at ``rev`` (a line starting with
        ``<<<<<<< `` and one with ``>>>>>>> ``)."""
        if not paths:
            return []
        code, out = self._run("grep", "-l", "-z", "-I", "-E", "--all-match",
                              "-e", "^<{7}( |$)", "-e", "^>{7}( |$)", rev, "--", *paths,
                              ok=(0, 1))
        if code != 0:
            return []
        return [p.split(":", 1)[1] if p.startswith(f"{rev}:") else p
                for p in out.split("\0") if p]


def identity_env(root: Path) -> dict[str, str]:
    """commit-tree needs an identity; fall back to a swarmtui one only when git has none."""
    code, _, _ = run_git(root, "var", "GIT_COMMITTER_IDENT", ok=(0, 1, 128))
    if code == 0:
        return {}
    return {"GIT_AUTHOR_NAME": "swarmtui", "GIT_AUTHOR_EMAIL": "swarmtui@localhost",
            "GIT_COMMITTER_NAME": "swarmtui", "GIT_COMMITTER_EMAIL": "swarmtui@localhost"}


def parse_diff_lines(out: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(added, removed) lines per file of ``git diff -U0`` output."""
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


def tracked_files(repo: str | os.PathLike[str], timeout: float = 10.0) -> list[str]:
    """Paths git tracks in ``repo`` (``git ls-files -z``), relative to the repository root when
    ``repo`` is the root; raises ``OSError`` or ``GitError`` (a failure, a timeout)."""
    try:
        proc = subprocess.run(["git", "-C", os.fspath(repo), "ls-files", "-z"],
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.SubprocessError as e:
        raise GitError(f"git ls-files failed: {e}") from e
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git ls-files failed: {detail}")
    return [os.fsdecode(p) for p in proc.stdout.split(b"\0") if p]
