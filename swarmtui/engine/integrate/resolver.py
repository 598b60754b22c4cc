"""``swarmtui resolve``: a fresh attempt of a passed task whose merge conflicts, briefed on the
conflict. Whether it conflicts is asked of git in a worker; the command is answered then."""

from __future__ import annotations

from swarmtui import protocol as P
from swarmtui.engine.context import Ctx
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.messages import ResolveChecked
from swarmtui.model import TaskState, TaskView
from swarmtui.model import payloads as p
from swarmtui.store import Command


class Resolver:
    def __init__(self, ctx: Ctx, ledger: list[LedgerEntry]) -> None:
        self.ctx = ctx
        self.ledger = ledger
        ctx.loop.on(ResolveChecked, self._checked)

    def check(self, t: TaskView, cmd: Command) -> None:
        git = self.ctx.git
        target_branch = self.ctx.state.target
        branch = P.branch_name(t.id, t.attempt)
        known = tuple(t.conflicts)
        task, attempt, cid, source = t.id, t.attempt, cmd.id, cmd.source

        def work() -> ResolveChecked:
            target, head = git.rev(target_branch), git.rev(branch)
            conflicts = known
            if target and head:
                conflicts = git.merge_tree(target, head).conflicts
            return ResolveChecked(task, attempt, cid, source, tuple(conflicts))

        self.ctx.submit(self.ctx.workers.git, work,
                        lambda e: ResolveChecked(task, attempt, cid, source, (), error=str(e)))

    def _checked(self, msg: ResolveChecked) -> None:
        ctx = self.ctx
        t = ctx.state.tasks.get(msg.task)
        answer = ctx.commands.answer
        if t is None or t.attempt != msg.attempt or t.state != TaskState.PASSED:
            answer(msg.command_id, "resolve", msg.source, "refused",
                   {"task": msg.task, "reason": f"{msg.task} changed meanwhile; look again"})
            return
        if msg.error:
            answer(msg.command_id, "resolve", msg.source, "failed",
                   {"task": t.id, "error": msg.error})
            return
        conflicts = list(msg.conflicts)
        if not conflicts:
            answer(msg.command_id, "resolve", msg.source, "refused",
                   {"task": t.id, "reason": f"{t.id} merges cleanly into {ctx.state.target}; "
                    "nothing to resolve"})
            return
        theirs = [f"{e.task}: {e.summary.strip() or '(no summary)'}" for e in self.ledger
                  if set(e.files) & set(conflicts)]
        ctx.emit(p.TaskRequeued(
            reason=f"resolving merge conflicts with {ctx.state.target} in "
                   f"{', '.join(conflicts)}", not_before=0.0, manual=True,
            resolve=p.ResolveBrief(conflicts=conflicts, theirs=theirs[-10:])), t.id, t.attempt)
        answer(msg.command_id, "resolve", msg.source, "done",
               {"task": t.id, "message": f"resolver attempt queued for {t.id} "
                f"({len(conflicts)} conflicting files)"})
