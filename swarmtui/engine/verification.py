"""Verification as acceptance: a task passes only when its verify command passes in the
attempt's worktree. The command runs in a worker; the outcome comes back as ``VerifyDone``."""

from __future__ import annotations

from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.context import Ctx
from swarmtui.engine.failures import fail
from swarmtui.engine.messages import VerifyDone
from swarmtui.engine.verify import run_verify
from swarmtui.model import Cause, TaskState, TaskView
from swarmtui.model import payloads as p


class Verifier:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.running: set[str] = set()  # agent ids whose verify command runs now
        ctx.loop.on(VerifyDone, self._done)

    def start(self, t: TaskView) -> None:
        ctx = self.ctx
        if t.state != TaskState.VERIFYING:
            ctx.emit(p.VerifyStarted(command=t.spec.verify or ""), t.id, t.attempt)
        aid = P.agent_id(t.id, t.attempt)
        task, attempt = t.id, t.attempt
        command = t.spec.verify
        if not command:
            ctx.loop.post(VerifyDone(task, attempt, passed=True, code=0, seconds=0.0,
                                     tail="no verify command: accepted on the agent's word"))
            self.running.add(aid)
            return
        cfg = ctx.config.verify
        worktree = Path(ctx.state.attempts[aid].worktree) if aid in ctx.state.attempts else (
            ctx.runner.worktree(task, attempt))
        log = ctx.runner.agent_dir(task, attempt) / P.VERIFY_LOG
        self.running.add(aid)

        def work() -> VerifyDone:
            out = run_verify(command, worktree, timeout=cfg.timeout, tail_bytes=cfg.tail_bytes,
                             log_path=log)
            return VerifyDone(task, attempt, passed=out.passed, code=out.code, tail=out.tail,
                              seconds=out.seconds, timed_out=out.timed_out)

        ctx.submit(ctx.workers.verify, work,
                   lambda e: VerifyDone(task, attempt, passed=False, code=None, seconds=0.0,
                                        tail=f"verify could not run: {e}"))

    def _done(self, out: VerifyDone) -> None:
        ctx = self.ctx
        self.running.discard(P.agent_id(out.task, out.attempt))
        t = ctx.state.tasks.get(out.task)
        if t is None or t.attempt != out.attempt or t.state != TaskState.VERIFYING:
            return
        if out.passed:
            ctx.emit(p.VerifyPassed(code=out.code, tail=out.tail, seconds=round(out.seconds, 2)),
                     out.task, out.attempt)
            if ctx.config.merge.auto and ctx.config.merge.review:
                ctx.reviews.start(ctx.task(out.task), None, then_merge=True)
            elif ctx.config.merge.auto:
                ctx.merges.enqueue(ctx.task(out.task), auto=True, by="auto")
            return
        ctx.emit(p.VerifyFailed(code=out.code, tail=out.tail, seconds=round(out.seconds, 2),
                                timed_out=out.timed_out), out.task, out.attempt)
        fail(ctx, t, Cause.VERIFY_FAILED, f"verify failed (exit {out.code})"
             if not out.timed_out else "verify failed (timed out)")
