"""Verification as acceptance: a task passes only when its verify command passes in the
attempt's worktree. The command runs in a worker; the outcome comes back as ``VerifyDone``.

Before the command runs, the attempt's branch is checked for protected paths (``.swarm/``, the
run's own files, ``merge.protected``): such an attempt fails at once and waits for the operator,
since no merge may carry it. A command that cannot run (the shell's exit 126 or 127: not found,
not executable) fails the task at once with the shell's message, without another attempt. A
resolver's branch that still holds conflict markers in the files it was handed fails as a
verify failure before the command runs."""

from __future__ import annotations

from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.integrate.mergequeue import run_protected
from swarmtui.engine.integrate.protect import named, protected_sentence, touched
from swarmtui.engine.intents import (
    Ask,
    EnqueueMerge,
    FailAttempt,
    StartReview,
    StartVerify,
    VerifyRunning,
)
from swarmtui.engine.messages import VerifyDone
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime.shell import run_verify, unrunnable_message
from swarmtui.model import Cause, TaskState, TaskView
from swarmtui.model import payloads as p


class Verifier:
    """Owns ``StartVerify`` and ``VerifyRunning``."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        self.running: set[str] = set()  # agent ids whose verify command runs now

    def start_verify(self, it: StartVerify) -> None:
        self.start(it.task)

    def any_running(self, it: VerifyRunning) -> bool:
        return bool(self.running)

    def start(self, t: TaskView) -> None:
        ports = self.ports
        aid = P.agent_id(t.id, t.attempt)
        if aid in self.running:
            # Already verifying: a second run in the same worktree would end the first (one
            # verify per tree), and the first's SIGTERM would read as a failed check.
            return
        if t.state != TaskState.VERIFYING:
            ports.emit(p.VerifyStarted(command=t.spec.verify or ""), t.id, t.attempt)
        task, attempt = t.id, t.attempt
        command = t.spec.verify
        cfg = ports.config.verify
        rec = ports.state.attempts.get(aid)
        worktree = Path(rec.worktree) if rec is not None else ports.runner.worktree(task, attempt)
        branch = rec.branch if rec is not None else P.branch_name(task, attempt)
        resolving = list(rec.resolving) if rec is not None else []
        target = ports.state.target
        globs = run_protected(ports)
        git = ports.git
        log = ports.runner.agent_dir(task, attempt) / P.VERIFY_LOG
        self.running.add(aid)

        def work() -> VerifyDone:
            base, head = git.rev(target), git.rev(branch)
            if base is not None and head is not None:
                hit = touched(git.changed_files(base, head), globs)
                if hit:
                    return VerifyDone(task, attempt, passed=False, code=None, seconds=0.0,
                                      tail="", protected=tuple(hit))
            left = git.conflict_markers(head, resolving) if head is not None else []
            if left:
                return VerifyDone(task, attempt, passed=False, code=None, seconds=0.0,
                                  tail=f"conflict markers left in {named(left)}",
                                  markers=tuple(left))
            if not command:
                return VerifyDone(task, attempt, passed=True, code=0, seconds=0.0,
                                  tail="no verify command: accepted on the agent's word")
            out = run_verify(command, worktree, timeout=cfg.timeout, tail_bytes=cfg.tail_bytes,
                             log_path=log)
            return VerifyDone(task, attempt, passed=out.passed, code=out.code, tail=out.tail,
                              seconds=out.seconds, timed_out=out.timed_out,
                              unrunnable=unrunnable_message(out))

        ports.submit(ports.workers.verify, work,
                   lambda e: VerifyDone(task, attempt, passed=False, code=None, seconds=0.0,
                                        tail=f"verify could not run: {e}"))

    def done(self, out: VerifyDone) -> None:
        ports = self.ports
        self.running.discard(P.agent_id(out.task, out.attempt))
        t = ports.state.tasks.get(out.task)
        if t is None or t.attempt != out.attempt or t.state != TaskState.VERIFYING:
            return
        if out.protected:
            branch = P.branch_name(out.task, out.attempt)
            self._fail(t, Cause.PROTECTED_PATHS, protected_sentence(branch, out.protected))
            return
        if out.passed:
            ports.emit(p.VerifyPassed(code=out.code, tail=out.tail, seconds=round(out.seconds, 2)),
                     out.task, out.attempt)
            if ports.config.merge.auto and ports.config.merge.review:
                self.ask(StartReview(ports.task(out.task), None, then_merge=True))
            elif ports.config.merge.auto:
                self.ask(EnqueueMerge(ports.task(out.task), auto=True, by="auto"))
            return
        ports.emit(p.VerifyFailed(code=out.code, tail=out.tail, seconds=round(out.seconds, 2),
                                timed_out=out.timed_out), out.task, out.attempt)
        if out.markers:
            self._fail(t, Cause.VERIFY_FAILED, f"conflict markers left in {named(out.markers)}")
            return
        if out.unrunnable:
            self._fail(t, Cause.VERIFY_UNRUNNABLE, f"verify cannot run: {out.unrunnable} "
                       f"(exit {out.code})")
            return
        self._fail(t, Cause.VERIFY_FAILED, f"verify failed (exit {out.code})"
                   if not out.timed_out else "verify failed (timed out)")

    def _fail(self, t: TaskView, cause: Cause, reason: str) -> None:
        self.ask(FailAttempt(t.id, t.attempt, cause, reason))
