"""What a client reads from the run's git: the target branch's commit now, and an attempt's
work as a diff (blocking: the TUI calls these through ``RunClient`` from worker threads).

Read-only, bounded and safe to show: a diff is cut to ``DIFF_LINES`` lines and made
terminal-safe; every git call has a timeout, and a failure is said in the text, not raised.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from swarmtui import gitquick

DIFF_LINES = 3000  # lines of one attempt's diff (committed and not yet committed together)
GIT_TIMEOUT = 20.0


def main_root(start: Path) -> Path:
    """The main worktree's root around ``start`` (from inside a linked worktree: the main
    repository, where ``.swarm`` lives), by one ``git rev-parse``. Raises CalledProcessError
    outside a repository, OSError or SubprocessError when git cannot run, ValueError in a bare
    repository (``engine/runtime/git.find_root`` says which in words)."""
    done = subprocess.run(["git", "-C", str(start), "rev-parse", "--path-format=absolute",
                           "--git-common-dir", "--show-toplevel"], capture_output=True,
                          text=True, timeout=30, check=True)
    lines = done.stdout.splitlines()
    if len(lines) < 2:
        raise ValueError(f"{start}: a bare repository has no working tree")
    common, top = Path(lines[0]), Path(lines[1])
    return common.parent if common.name == ".git" else top


def target_tip(repo: Path, target: str | None) -> str | None:
    """The target branch's commit now (one ``rev-parse``; None when there is no such branch,
    or git cannot say)."""
    return gitquick.target_tip(str(repo), target)


def _git(cwd: Path, *args: str) -> tuple[int, str]:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=GIT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, str(e)
    return proc.returncode, proc.stdout if proc.returncode == 0 else proc.stderr


def _cap(text: str, budget: list[int]) -> str:
    """``text`` cut to the lines left in ``budget`` (shared by the parts of one diff)."""
    lines = text.splitlines()
    if len(lines) <= budget[0]:
        budget[0] -= len(lines)
        return text.rstrip("\n")
    keep, budget[0] = budget[0], 0
    return "\n".join(lines[:keep]) + f"\n[... {len(lines) - keep} more lines not shown ...]"


def attempt_diff(repo: Path, worktree: Path, agent_id: str, start: str, branch: str) -> str:
    """The attempt's work as ``git diff START..BRANCH`` shows it (START: the commit it started
    from), then what its worktree has not committed yet; terminal-safe, at most
    ``DIFF_LINES`` lines of diff."""
    rng = f"{start}..{branch}"
    budget = [DIFF_LINES]
    head = f"{agent_id}: git diff {start[:10]}..{branch} (from the commit it started at)"
    code, stat = _git(repo, "diff", "--stat", rng)
    parts: list[str] = []
    if code != 0:
        parts.append(f"{head}\n{stat.strip() or 'git diff failed'}")
        committed = ""
    else:
        parts.append(f"{head}\n{stat.rstrip() or 'no committed changes'}")
        committed = _git(repo, "diff", rng)[1]
    dirty = ""
    if worktree.is_dir():
        _, wstat = _git(worktree, "diff", "--stat", "HEAD")
        _, untracked = _git(worktree, "ls-files", "--others", "--exclude-standard")
        if wstat.strip():
            parts.append("not committed yet, in its worktree:\n" + wstat.rstrip())
            dirty = _git(worktree, "diff", "HEAD")[1]
        if untracked.strip():
            parts.append("untracked files in its worktree:\n" + "\n".join(
                "  " + u for u in untracked.splitlines()))
    else:
        parts.append(f"(its worktree {worktree} is gone: only committed work is shown)")
    body = [_cap(x, budget) for x in (committed, dirty) if x.strip()]
    from swarmtui.textsafe import term_safe  # here: `status` loads this module for the tip

    return term_safe("\n\n".join(parts + body), multiline=True)
