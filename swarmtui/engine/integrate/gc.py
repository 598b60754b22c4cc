"""``swarmtui gc``: remove the worktrees and branches of merged or cancelled tasks' attempts.

Only attempts of tasks whose story is over (merged or cancelled, in any run) are candidates.
An attempt whose branch holds commits that never reached the target, or whose worktree holds
uncommitted changes, is kept unless ``--force``, and the report says what would be lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.integrate.merge import INTEGRATION_WORKTREE
from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.model import TaskState
from swarmtui.store import Store

DONE = (TaskState.MERGED, TaskState.CANCELLED)


@dataclass
class GcReport:
    removed: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)  # agent id -> what would be lost

    def to_json_obj(self) -> dict[str, Any]:
        return {"removed": self.removed, "kept": self.kept}

    def lines(self) -> list[str]:
        out = [f"removed {a}" for a in self.removed]
        for aid, lost in self.kept.items():
            out.append(f"kept {aid}: --force would lose:")
            out += [f"    {x}" for x in lost]
        if not out:
            out.append("nothing to collect")
        elif self.kept:
            out.append("re-run with --force to remove the kept attempts too")
        return out


def collect(repo: Path, store: Store, *, target: str | None, force: bool) -> GcReport:
    git = Git(repo)
    report = GcReport()
    merged_branches = {str(e.data.get("branch")) for e in store.events(0, kind="task_merged")}
    for run in range(1, store.current_run() + 1):
        state = store.replay(run)
        tgt = target or state.target
        for t in state.tasks.values():
            if t.state not in DONE:
                continue
            for attempt in range(t.attempt_base + 1, t.attempt + 1):
                _collect_attempt(repo, git, report, t.id, attempt, tgt, merged_branches, force)
    leftover = P.swarm_dir(repo) / P.WORKTREES_DIR / INTEGRATION_WORKTREE
    if leftover.exists():
        git.remove_worktree(leftover)
        report.removed.append(INTEGRATION_WORKTREE)
    return report


def _collect_attempt(repo: Path, git: Git, report: GcReport, task: str, attempt: int,
                     target: str, merged_branches: set[str], force: bool) -> None:
    aid = P.agent_id(task, attempt)
    branch = P.branch_name(task, attempt)
    wt = P.worktree_dir(repo, task, attempt)
    head = git.rev(branch)
    if head is None and not wt.exists():
        return
    lost: list[str] = []
    if wt.exists():
        try:
            lost += [f"uncommitted: {f}" for f in git.has_uncommitted(wt)]
        except Exception as e:  # noqa: BLE001 - an unreadable worktree is kept, with the reason
            lost.append(f"worktree unreadable: {e}")
    # A merged branch's work is on the target even when squashed (its commits then never
    # become ancestors of the target), so only other branches count as unmerged.
    if head is not None and branch not in merged_branches:
        if git.rev(target):
            lost += [f"unmerged commit: {c}" for c in git.commits_between(target, branch)]
        else:
            lost.append(f"the target branch {target!r} does not exist, so whether {branch} "
                        "holds unmerged work cannot be told")
    if lost and not force:
        report.kept[aid] = lost
        return
    try:
        if wt.exists():
            git.remove_worktree(wt, force=True)
        if head is not None:
            git.delete_branch(branch)
    except GitError as e:
        report.kept[aid] = [f"could not remove: {e}"]
        return
    report.removed.append(aid)
