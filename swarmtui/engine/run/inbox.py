"""The inbox: one handler per command kind, applied on the loop thread in id order.

A command wakes the loop (the client nudges the supervisor's wake socket), so it takes effect
at once rather than at the next tick. Each handler returns an answer, or ``DEFERRED`` when the
answer comes later (a merge waits its turn in the queue); every answer is written to the
command's row and recorded as a ``command_applied`` event. A command's effects, its row's
answer and that event are one store transaction: a supervisor killed in between leaves either
all of them or none (the command is then applied again, once). Actions aimed at one attempt
name the attempt the operator saw and are refused when another is current.

A command belongs to the run it was sent to (``commands.run``): another run's supervisor
refuses it, and when a run ends every command still waiting for it is refused with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from swarmtui import faults
from swarmtui import protocol as P
from swarmtui.engine.intents import (
    AnswerCommand,
    Ask,
    CheckResolve,
    DecideHeld,
    EndAttempt,
    EnqueueMerge,
    FailAttempt,
    MergeHeld,
    MergePending,
    ReviewMissing,
    ScreenText,
    StartReview,
    StartVerify,
    Steer,
    SteerableNow,
    StopRun,
)
from swarmtui.engine.messages import Wake
from swarmtui.engine.ports import Ports
from swarmtui.errors import SwarmError
from swarmtui.model import ACTIVE, Cause, RunStatus, TaskSpec, TaskState, TaskView
from swarmtui.model import payloads as p
from swarmtui.model.commands import (
    AckArgs,
    AddArgs,
    AnswerArgs,
    Args,
    CommandKind,
    DownArgs,
    RetryArgs,
    SendArgs,
    SpawnArgs,
    TaskRef,
    parse_args,
)
from swarmtui.store import Command, StoreBusy, StoreFull
from swarmtui.tasks import make_task_id, validate_new_task

Answer = tuple[str, dict[str, Any]]
DEFERRED: Answer = ("deferred", {})
Handler = Callable[[Command, Any], Answer]


def _refuse(tid: str | None, reason: str) -> Answer:
    return "refused", {"task": tid, "reason": reason}


class Commands:
    """Owns ``AnswerCommand``. ``leaving`` is the loop's flag: set, nothing more is applied."""

    def __init__(self, ports: Ports, ask: Ask, leaving: threading.Event) -> None:
        self.ports = ports
        self.ask = ask
        self.leaving = leaving
        # Deferred commands (answered later). After a restart, the merges the log holds queued
        # for a command are its effect already recorded: the command is not applied again.
        st = ports.state
        self._taken: set[int] = {i.command_id for i in [*st.merge_queue, st.merging]
                                 if i is not None and i.command_id is not None}
        self._closed = False  # the supervisor is leaving: nothing more is applied
        self.handlers: dict[CommandKind, Handler] = {
            CommandKind.PAUSE: self._pause, CommandKind.RESUME: self._resume,
            CommandKind.ADD: self._add, CommandKind.SPAWN: self._spawn,
            CommandKind.DOWN: self._down, CommandKind.KILL: self._kill,
            CommandKind.RETRY: self._retry, CommandKind.CANCEL: self._cancel,
            CommandKind.VERIFY: self._verify, CommandKind.MERGE: self._merge,
            CommandKind.RESOLVE: self._resolve, CommandKind.ACK: self._ack,
            CommandKind.SEND: self._send, CommandKind.REVIEW: self._review,
            CommandKind.APPROVE: lambda c, a: self.ask(DecideHeld(
                a.quarantine, approve=True, by=c.source)),
            CommandKind.REJECT: lambda c, a: self.ask(DecideHeld(
                a.quarantine, approve=False, by=c.source)),
            CommandKind.ANSWER: self._answer,
            CommandKind.INTERRUPT: lambda c, a: self._steer(c, a, {"op": "interrupt"}),
        }

    # -- the inbox --------------------------------------------------------------------------

    def woken(self, msg: Wake) -> None:
        self.apply_pending()

    def step(self, now: float) -> None:
        self.apply_pending()

    def apply_pending(self) -> None:
        run_id = self.ports.log.run_id
        if self._closed:
            return
        for cmd in self.ports.store.pending_commands():
            if cmd.id in self._taken:
                continue
            if self.leaving.is_set():
                return  # after `down`, later commands wait for the next supervisor
            if cmd.run != run_id:
                self.answer(cmd.id, cmd.kind, cmd.source, "refused", {"reason": (
                    f"command {cmd.id} ({cmd.kind}) was sent to run {cmd.run}, which has "
                    f"ended; nothing was done (this is run {run_id})" if cmd.run else
                    f"command {cmd.id} ({cmd.kind}) was queued by an older swarmtui for an "
                    "unknown run; nothing was done")})
                continue
            try:
                with self.ports.transaction():
                    kind, args = parse_args(cmd.kind, cmd.args)
                    status, result = self.handlers[kind](cmd, args)
                    faults.point("inbox-effects")  # between the effects and the answer
                    if status != "deferred":
                        self.answer(cmd.id, cmd.kind, cmd.source, status, result)
                if status == "deferred":
                    self._taken.add(cmd.id)
            except (StoreFull, StoreBusy):
                raise  # nothing was written: the command stays pending and is applied later
            except SwarmError as e:
                self.answer(cmd.id, cmd.kind, cmd.source, "failed", {"error": str(e)})
            except Exception as e:  # noqa: BLE001 - one bad command must not kill the run
                self.answer(cmd.id, cmd.kind, cmd.source, "failed",
                            {"error": f"{type(e).__name__}: {e}"})

    def answer_it(self, it: AnswerCommand) -> None:
        self.answer(it.command_id, it.kind, it.source, it.status, dict(it.result))

    def answer(self, cid: int, kind: str, source: str, status: str,
               result: dict[str, Any]) -> None:
        """The command's row and its ``command_applied`` event, in one transaction (joining
        the caller's, which holds the command's effects)."""
        with self.ports.transaction():
            if self.ports.store.finish_command(cid, status, result):
                self.ports.emit(p.CommandApplied(id=cid, command=kind, source=source,
                                               status=status, result=result),
                              result.get("task"))
        self._taken.discard(cid)

    def close(self) -> None:
        """The supervisor is leaving. When the run is over, every command still waiting for
        it is answered: refused, saying so (the CLI waiting on it answers at once); none is
        left for another run. A run that goes on keeps its commands for its next supervisor."""
        self._closed = True
        st = self.ports.state
        if st.status not in (RunStatus.FINISHED, RunStatus.STOPPED):
            return
        for cmd in self.ports.store.pending_commands():
            if cmd.run == self.ports.log.run_id:
                self.answer(cmd.id, cmd.kind, cmd.source, "refused", {"reason": (
                    f"run {cmd.run} {st.status} before command {cmd.id} ({cmd.kind}) was "
                    "applied; nothing was done")})

    # -- helpers ----------------------------------------------------------------------------

    def _target(self, ref: TaskRef) -> TaskView | Answer:
        t = self.ports.state.tasks.get(ref.task)
        if t is None:
            return "failed", {"task": ref.task, "error": f"no task {ref.task!r} in this run"}
        if ref.attempt is not None and ref.attempt != t.attempt:
            now = f"{P.agent_id(t.id, t.attempt)} is {t.state} now" if t.attempt else (
                f"{t.id} has not started")
            return _refuse(t.id, f"{P.agent_id(t.id, ref.attempt)} is no longer the current "
                           f"attempt: {now}; look again and repeat the action if still wanted")
        return t

    # -- run-wide ---------------------------------------------------------------------------

    def _pause(self, cmd: Command, _a: Args) -> Answer:
        if not self.ports.state.paused:
            self.ports.emit(p.DispatchPaused(by=cmd.source))
        return "done", {"message": "dispatch paused; running agents continue"}

    def _resume(self, cmd: Command, _a: Args) -> Answer:
        st = self.ports.state
        if st.paused or st.breaker_open or st.breaker_window:
            self.ports.emit(p.DispatchResumed(by=cmd.source))
        return "done", {"message": "dispatch resumed"}

    def _down(self, cmd: Command, a: DownArgs) -> Answer:
        # Answered once every agent has gone and run_stopped is recorded.
        self.ask(StopRun(a.keep_agents, answer=(cmd.id, cmd.source)))
        return DEFERRED

    def _ack(self, cmd: Command, a: AckArgs) -> Answer:
        st = self.ports.state
        if a.alert is not None:
            targets = [st.alerts[a.alert]] if a.alert in st.alerts else []
            if not targets:
                return "failed", {"error": f"no alert {a.alert}"}
        else:
            targets = [x for x in st.pending_alerts() if a.task is None or x.task == a.task]
        for al in targets:
            if not al.acked:
                self.ports.emit(p.AlertAcked(alert=al.id, by=cmd.source), al.task)
        return "done", {"task": a.task, "message": f"acknowledged {len(targets)} alert"
                        f"{'s' if len(targets) != 1 else ''}"}

    # -- new tasks --------------------------------------------------------------------------

    def _spec(self, a: AddArgs, *, manual: bool, source: str,
              parent: TaskView | None = None) -> TaskSpec:
        ports = self.ports
        prompt = a.prompt.strip()
        if not prompt:
            raise SwarmError("a task needs a prompt")
        tid = a.id or make_task_id(prompt, ports.state.tasks.keys())
        # A sub-agent does not inherit its parent's role (an orchestrator's children are
        # workers unless it asks otherwise); its agent CLI it does inherit.
        role = a.role or ports.config.run.default_role
        agent = a.agent or (parent.spec.agent if parent else ports.config.run.default_agent)
        spec = TaskSpec(
            id=tid, title=a.title or prompt.splitlines()[0][:60], prompt=prompt, role=role,
            agent=agent, files=tuple(a.files), verify=a.verify or None,
            depends_on=tuple(a.depends_on), max_attempts=a.max_attempts, priority=a.priority,
            source=source, parent=parent.id if parent else None,
            depth=(parent.spec.depth + 1) if parent else 0, manual=manual)
        validate_new_task(spec, existing=ports.state.tasks.keys(), roles=ports.config.roles,
                          agents=ports.config.agents.keys(), where=f"swarmtui {source}")
        return spec

    def _add(self, cmd: Command, a: AddArgs) -> Answer:
        spec = self._spec(a, manual=True, source=cmd.source)
        self.ports.emit(p.TaskAdded(spec=spec), spec.id)
        return "done", {"task": spec.id, "message": f"added {spec.id}"}

    def _spawn(self, cmd: Command, a: SpawnArgs) -> Answer:
        ports = self.ports
        req = a.requester
        parent = ports.state.tasks.get(req)

        def refuse(reason: str) -> Answer:
            ports.emit(p.SpawnRefused(reason=reason, requester=req, prompt=a.prompt[:200]),
                     req if parent is not None else None)
            return _refuse(req or None, reason)

        own = cmd.source.removeprefix("agent:").rsplit("-", 1)[0]  # a sandbox's wrapper names it
        if cmd.source.startswith("agent:") and own != req:  # recorded against the real sender
            req, parent = own, ports.state.tasks.get(own)
            return refuse(f"forged: {cmd.source[6:]} asked as {a.requester!r}; an agent spawns "
                          "only as itself")
        if parent is None:
            return refuse(f"requester {req!r} is not a task of this run")
        if parent.state not in ACTIVE:
            return refuse(f"requester {req} is {parent.state}, not running")
        slots = ports.config.slots
        depth = parent.spec.depth + 1
        if depth > slots.max_depth:
            return refuse(f"depth {depth} exceeds slots.max_depth = {slots.max_depth}")
        node: TaskView | None = parent
        while node is not None:
            used = self._descendants(node.id)
            if used + 1 > slots.subtree_budget:
                return refuse(f"subtree budget of {node.id} exhausted ({used} of "
                              f"{slots.subtree_budget} sub-agents used; slots.subtree_budget)")
            node = ports.state.tasks.get(node.spec.parent) if node.spec.parent else None
        base = AddArgs.model_validate(a.model_dump(exclude={"requester"}))
        spec = self._spec(base, manual=True, source=f"spawn:{req}", parent=parent)
        # An agent's words becoming another agent's prompt: screened like any handoff.
        _, qid = self.ask(ScreenText(spec.prompt, f"a spawn request of {req}", req,
                                     parent.attempt))
        ports.emit(p.TaskAdded(spec=spec, held=qid), spec.id)
        if qid:
            return "done", {"task": spec.id, "parent": req, "held": qid,
                            "message": f"spawned {spec.id}; its prompt is held for review "
                            f"({qid}) until the operator approves it"}
        return "done", {"task": spec.id, "parent": req, "message": f"spawned {spec.id}"}

    def _descendants(self, tid: str) -> int:
        tasks = self.ports.state.tasks
        n = 0
        stack = list(tasks[tid].children)
        while stack:
            c = stack.pop()
            n += 1
            stack.extend(tasks[c].children if c in tasks else [])
        return n

    # -- one task ---------------------------------------------------------------------------

    def _end_current(self, t: TaskView, cause: Cause, reason: str) -> None:
        self.ask(EndAttempt(t.id, t.attempt))
        self.ask(FailAttempt(t.id, t.attempt, cause, reason, any_state=True))

    def _kill(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.state not in ACTIVE:
            return "failed", {"task": t.id, "error": f"{t.id} is {t.state}, not running"}
        self._end_current(t, Cause.KILLED, f"killed by {cmd.source}")
        return "done", {"task": t.id, "message": f"killed {P.agent_id(t.id, t.attempt)}; "
                        f"worktree kept; `swarmtui retry {t.id}` starts a fresh attempt"}

    def _retry(self, cmd: Command, a: RetryArgs) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        ports = self.ports
        if t.state in ACTIVE:
            self._end_current(t, Cause.RETRIED, f"ended for a retry by {cmd.source}")
            t = ports.task(t.id)
        if t.state not in (TaskState.FAILED, TaskState.DEAD, TaskState.PASSED):
            return "failed", {"task": t.id, "error": f"{t.id} is {t.state}; nothing to retry"}
        session = self._session(t) if a.resume else None
        if a.resume and session is None:
            return _refuse(t.id, f"{P.agent_id(t.id, t.attempt)} has no agent session to "
                           "resume (its agent CLI does not report one, or it never started)")
        ports.emit(p.TaskRequeued(reason=t.reason or f"retry by {cmd.source}", cause=t.cause,
                                note=a.note, not_before=0.0, manual=True,
                                resume_session=session, follow_up=a.note if session else "",
                                allow=list(a.allow), force=a.force), t.id, t.attempt)
        how = "to continue its session" if session else "for a fresh attempt"
        granted = f" with {', '.join(a.allow)} allowed" if a.allow else ""
        return "done", {"task": t.id, "message": f"{t.id} queued {how}{granted}"}

    def _session(self, t: TaskView) -> str | None:
        rec = self.ports.state.attempts.get(P.agent_id(t.id, t.attempt))
        return rec.session_id if rec is not None else None

    def _steer(self, cmd: Command, a: TaskRef, op: dict[str, object]) -> Answer:
        """An answer, a message or an interrupt for a live session (delivered by ``Steer``)."""
        t = self._target(a)
        return self.ask(Steer(cmd, t, op)) if isinstance(t, TaskView) else t

    def _answer(self, cmd: Command, a: AnswerArgs) -> Answer:
        return self._steer(cmd, a, {"op": "answer", "request": a.request, "scope": a.scope,
                                    "decision": "allow" if a.allow else "deny",
                                    "message": a.why})

    def _send(self, cmd: Command, a: SendArgs) -> Answer:
        """A message for a running live session goes into it; a follow-up for an attempt that
        ended resumes its session, in its worktree, as a new attempt."""
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        why_not = self.ask(SteerableNow(t)) if t.state == TaskState.RUNNING else None
        if t.state == TaskState.RUNNING and a.text.strip() and why_not is None:
            if cmd.source.startswith("agent:"):
                _, qid = self.ask(ScreenText(a.text, f"a message from {cmd.source}", t.id,
                                              t.attempt))
                if qid:
                    return _refuse(t.id, f"the message is held for review ({qid})")
            return self.ask(Steer(cmd, t, {"op": "say", "text": a.text.strip()}))
        if why_not is not None:
            return _refuse(t.id, why_not)
        if t.state in ACTIVE:
            return _refuse(t.id, f"{P.agent_id(t.id, t.attempt)} is {t.state}; send follows up "
                           "on an attempt that ended (kill it first, or wait)")
        if t.state not in (TaskState.FAILED, TaskState.DEAD, TaskState.PASSED):
            return _refuse(t.id, f"{t.id} is {t.state}; nothing to follow up on")
        if not a.text.strip():
            return "failed", {"task": t.id, "error": "send needs the text of the instruction"}
        session = self._session(t)
        if session is None:
            return _refuse(t.id, f"{P.agent_id(t.id, t.attempt)} has no agent session to "
                           "resume; `swarmtui retry --note` starts a fresh attempt instead")
        if cmd.source.startswith("agent:"):
            # Another agent's instruction is agent text like any other: screened.
            _, qid = self.ask(ScreenText(a.text, f"a follow-up from {cmd.source}", t.id,
                                          t.attempt))
            if qid:
                return _refuse(t.id, f"the instruction is held for review ({qid})")
        self.ports.emit(p.TaskRequeued(reason=f"follow-up from {cmd.source}", not_before=0.0,
                                     manual=True, resume_session=session,
                                     follow_up=a.text.strip()), t.id, t.attempt)
        return "done", {"task": t.id, "message": f"{t.id} resumes its session with your "
                        "instruction"}

    def _review(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.result_status is None or t.state not in (TaskState.PASSED, TaskState.VERIFYING,
                                                       TaskState.FAILED):
            return _refuse(t.id, f"{t.id} has no finished attempt to review ({t.state})")
        self.ask(StartReview(t, cmd))
        return DEFERRED

    def _cancel(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.state in (TaskState.PASSED, TaskState.MERGED, TaskState.CANCELLED):
            return _refuse(t.id, f"{t.id} is {t.state}; nothing to cancel")
        if t.state in ACTIVE:
            self._end_current(t, Cause.CANCELLED, f"cancelled by {cmd.source}")
        self.ports.emit(p.TaskCancelled(reason=f"cancelled by {cmd.source}", by=cmd.source), t.id)
        return "done", {"task": t.id, "message": f"cancelled {t.id}; its worktree and branch "
                        "are kept until `swarmtui gc`"}

    def _verify(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.result_status != "done" or t.state not in (TaskState.PASSED, TaskState.FAILED):
            return "failed", {"task": t.id, "error": f"{t.id} has no finished result to "
                              f"verify (state {t.state})"}
        self.ask(StartVerify(t))
        return "done", {"task": t.id, "message": f"verifying {t.id}"}

    def _merge(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.state != TaskState.PASSED:
            return _refuse(t.id, f"{t.id} is {t.state}; only a passed task can be merged")
        if self.ask(MergePending(t.id)):
            return _refuse(t.id, f"{t.id} is already in the merge queue")
        why = self.ask(ReviewMissing(t)) or self.ask(MergeHeld(t))
        if why:
            return _refuse(t.id, why)
        self.ask(EnqueueMerge(t, auto=False, by=cmd.source, command_id=cmd.id))
        return DEFERRED

    def _resolve(self, cmd: Command, a: TaskRef) -> Answer:
        t = self._target(a)
        if not isinstance(t, TaskView):
            return t
        if t.state != TaskState.PASSED:
            return _refuse(t.id, f"{t.id} is {t.state}; resolve is for a passed task whose "
                           "merge conflicts")
        self.ask(CheckResolve(t, cmd))
        return DEFERRED
