"""Merging one passed task into the target branch, safely.

The merge commit is built with plumbing (merge-tree, commit-tree) without touching any work
tree. The integration check (``merge.verify``) runs on that commit in a detached scratch work
tree before the target moves, so a merge that breaks the target never lands (with
``merge.revert_on_failure = false`` it lands anyway and is flagged). The target then moves
either by a fast-forward of the work tree that has it checked out (which must be clean; git
refuses to overwrite local changes) or, when no work tree has it, by a compare-and-swap
``update-ref``. Nothing here deletes a branch or overwrites uncommitted work, nor a file git
does not track (ignored or untracked): such a merge is refused naming the files, as is a branch
that changes a protected path (``.swarm/``, the run's own files, ``merge.protected``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.integrate.ledger import LedgerEntry, find_reverts, trim_added
from swarmtui.engine.integrate.protect import KEPT, named, protected_sentence, touched
from swarmtui.engine.runtime.git import Git, GitError, identity_env
from swarmtui.engine.runtime.shell import run_verify, unrunnable_message
from swarmtui.engine.scope import out_of_scope

INTEGRATION_WORKTREE = "_integration"


@dataclass
class MergeJob:
    task: str
    attempt: int
    title: str
    branch: str
    target: str
    summary: str
    files_modified: list[str]
    do_not_revert: bool
    scope: tuple[str, ...]
    auto: bool  # automatic merges also refuse out-of-scope changes and ledger reverts
    command_id: int | None = None
    source: str = ""
    protected: tuple[str, ...] = ()  # globs no merge may carry (engine/integrate/protect.py)

    def ident(self) -> tuple[str, int]:
        return (self.task, self.attempt)


@dataclass
class MergeOutcome:
    status: str  # merged | refused | integration_failed
    reason: str = ""
    commit: str | None = None
    conflicts: list[str] = field(default_factory=list)
    dirty: list[str] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)  # protected paths the branch changes
    untracked: list[str] = field(default_factory=list)  # files git does not track, in the way
    reverts: list[dict[str, Any]] = field(default_factory=list)
    verify_tail: str = ""
    added: dict[str, list[str]] = field(default_factory=dict)
    landed_despite_failure: bool = False
    noop: bool = False  # the branch added nothing the target lacks

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("added")
        return d


class Merger:
    def __init__(self, repo: Path, plumbing: Git, *, method: str, gate: str,
                 revert_on_failure: bool, allow_out_of_scope: bool, verify_timeout: float,
                 tail_bytes: int) -> None:
        self.repo = Path(repo)
        self.git = plumbing
        self.method = method
        self.gate = gate
        self.revert_on_failure = revert_on_failure
        self.allow_out_of_scope = allow_out_of_scope
        self.verify_timeout = verify_timeout
        self.tail_bytes = tail_bytes

    def merge(self, job: MergeJob, ledger: list[LedgerEntry]) -> MergeOutcome:
        target = self.git.rev(job.target)
        if target is None:
            return MergeOutcome("refused", f"target branch {job.target!r} does not exist")
        head = self.git.rev(job.branch)
        if head is None:
            return MergeOutcome("refused", f"branch {job.branch} does not exist")
        if self.git.is_ancestor(head, target):
            # Nothing to bring over (an orchestrator that only delegated, say): its work is
            # already on the target, which is what "merged" means.
            return MergeOutcome("merged", f"{job.branch} adds nothing {job.target} lacks",
                                commit=target, noop=True)
        wt = self.git.worktree_of(job.target)
        if wt is not None:
            dirty = self.git.dirty_files(wt)
            if dirty:
                return MergeOutcome(
                    "refused", f"{job.target} is checked out in {wt} with uncommitted changes "
                    f"({', '.join(dirty[:10])}); commit or stash them first", dirty=dirty)
        changed = self.git.changed_files(target, head)
        hit = touched(changed, job.protected)
        if hit:
            return MergeOutcome("refused", protected_sentence(job.branch, hit), protected=hit)
        mt = self.git.merge_tree(target, head)
        if not mt.clean:
            return MergeOutcome("refused", f"conflicts with {job.target} in "
                                f"{', '.join(mt.conflicts)}; `swarmtui resolve {job.task}` "
                                "starts a resolver", conflicts=list(mt.conflicts))
        if job.auto:
            oos = [] if self.allow_out_of_scope else out_of_scope(changed, job.scope)
            if oos:
                return MergeOutcome("refused", "changes outside the task's declared files ("
                                    f"{', '.join(oos[:10])}); merge it by hand to accept them",
                                    out_of_scope=oos)
            reverts = find_reverts(ledger, self.git.diff_lines(target, head)[1])
            if reverts:
                who = ", ".join(sorted({r["task"] for r in reverts}))
                return MergeOutcome("refused", f"it removes lines that {who} added and marked "
                                    "do-not-revert; merge it by hand if that is intended",
                                    reverts=reverts)
        if wt is not None and (refusal := self._in_the_way(wt, target, mt.tree, job)):
            return refusal
        message = (f"swarm: merge {job.task}: {job.title}\n\n{job.summary.strip()}\n\n"
                   f"Branch: {job.branch}\n").strip() + "\n"
        parents = [target, head] if self.method == "merge" else [target]
        commit = self.git.commit_tree(mt.tree, parents, message, env=identity_env(self.repo))
        outcome = MergeOutcome("merged", commit=commit)
        if self.gate:
            passed, tail, cannot = self._integration_check(commit)
            outcome.verify_tail = tail
            if cannot:
                # Not the task's failure: a fresh attempt would meet the same command.
                return MergeOutcome("refused", f"merge.verify cannot run ({cannot}); "
                                    f"{job.target} was left as it was: fix merge.verify in the "
                                    "config, then merge again", verify_tail=tail)
            if not passed:
                if self.revert_on_failure:
                    return MergeOutcome("integration_failed",
                                        f"merge.verify failed on the merge of {job.task}; "
                                        f"{job.target} was left as it was", commit=commit,
                                        verify_tail=tail)
                outcome.landed_despite_failure = True
        try:
            if wt is not None:
                dirty = self.git.dirty_files(wt)  # again: the user may have typed meanwhile
                if dirty:
                    return MergeOutcome("refused", f"{job.target} is checked out in {wt} with "
                                        f"uncommitted changes ({', '.join(dirty[:10])})",
                                        dirty=dirty)
                if refusal := self._in_the_way(wt, target, commit, job):
                    return refusal  # again: one may have appeared while the gate ran
                self.git.fast_forward_worktree(wt, commit)
            else:
                self.git.update_ref(job.target, commit, target)
        except GitError as e:
            return MergeOutcome("refused", f"could not move {job.target}: {e}")
        outcome.added = trim_added(self.git.diff_lines(target, commit, three_dot=False)[0])
        return outcome

    def _in_the_way(self, wt: Path, target: str, tree: str, job: MergeJob
                    ) -> MergeOutcome | None:
        """A refusal naming the files git does not track in ``wt`` that the merge would
        write over (an ignored ``local.env``, say), or None."""
        paths = self.git.untracked_in_the_way(wt, target, tree, limit=KEPT)
        if not paths:
            return None
        return MergeOutcome(
            "refused", f"{job.target} is checked out in {wt}, where the merge would overwrite "
            f"files git does not track ({named(paths)}); move them away or commit them first",
            untracked=paths)

    def _integration_check(self, commit: str) -> tuple[bool, str, str]:
        path = P.swarm_dir(self.repo) / P.WORKTREES_DIR / INTEGRATION_WORKTREE
        self.git.add_detached_worktree(path, commit)
        try:
            out = run_verify(self.gate, path, timeout=self.verify_timeout,
                             tail_bytes=self.tail_bytes)
        finally:
            self.git.remove_worktree(path)
        return out.passed, out.tail, unrunnable_message(out)
