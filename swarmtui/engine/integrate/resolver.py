"""``swarmtui resolve``: a fresh attempt of a passed task whose merge conflicts, briefed on the
conflict. Whether it conflicts is asked of git in a worker; the command is answered then."""

from __future__ import annotations

from swarmtui import protocol as P
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.intents import AnswerCommand, Ask, CheckResolve
from swarmtui.engine.messages import ResolveChecked
from swarmtui.engine.ports import Ports
from swarmtui.model import TaskState
from swarmtui.model import payloads as p


class Resolver:
    """Owns ``CheckResolve``."""

    def __init__(self, ports: Ports, ask: Ask, ledger: list[LedgerEntry]) -> None:
        self.ports = ports
        self.ask = ask
        self.ledger = ledger

    def check(self, it: CheckResolve) -> None:
        t, cmd = it.task, it.command
        git = self.ports.git
        target_branch = self.ports.state.target
        branch = P.branch_name(t.id, t.attempt)
        known = tuple(t.conflicts)
        task, attempt, cid, source = t.id, t.attempt, cmd.id, cmd.source

        def work() -> ResolveChecked:
            target, head = git.rev(target_branch), git.rev(branch)
            conflicts = known
            if target and head:
                conflicts = git.merge_tree(target, head).conflicts
            return ResolveChecked(task, attempt, cid, source, tuple(conflicts))

        self.ports.submit(self.ports.workers.git, work,
                        lambda e: ResolveChecked(task, attempt, cid, source, (), error=str(e)))

    def checked(self, msg: ResolveChecked) -> None:
        ports = self.ports
        t = ports.state.tasks.get(msg.task)

        def answer(cid: int, kind: str, source: str, status: str,
                   result: dict[str, object]) -> None:
            self.ask(AnswerCommand(cid, kind, source, status, result))
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
                   {"task": t.id, "reason": f"{t.id} merges cleanly into {ports.state.target}; "
                    "nothing to resolve"})
            return
        theirs = [f"{e.task}: {e.summary.strip() or '(no summary)'}" for e in self.ledger
                  if set(e.files) & set(conflicts)]
        ports.emit(p.TaskRequeued(
            reason=f"resolving merge conflicts with {ports.state.target} in "
                   f"{', '.join(conflicts)}", not_before=0.0, manual=True,
            resolve=p.ResolveBrief(conflicts=conflicts, theirs=theirs[-10:])), t.id, t.attempt)
        answer(msg.command_id, "resolve", msg.source, "done",
               {"task": t.id, "message": f"resolver attempt queued for {t.id} "
                f"({len(conflicts)} conflicting files)"})
