"""When a run is over: finished (every task terminal and everything quiet) or stopped.

Finished means more than every task being terminal: no verification or merge in flight, every
ended agent's exit recorded, and the forecasts of passed tasks computed for their final
commits. Stopping (``swarmtui down``) ends every agent, waits (bounded) for their exits, kills
what is left of their process groups, and only then records ``run_stopped``.
"""

from __future__ import annotations

from swarmtui import protocol as P
from swarmtui.engine.attempts.failures import fail_if_current
from swarmtui.engine.context import Ctx
from swarmtui.engine.runtime import proc
from swarmtui.model import ACTIVE, TERMINAL, Cause, ExitHow, RunStatus, TaskState
from swarmtui.model import payloads as p


class Finisher:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.stopping: tuple[bool, float] | None = None  # (keep_agents, deadline)
        self.stop_answers: list[tuple[int, str]] = []
        self.close_session = False
        ctx.loop.every_tick(self._step)

    def quiet(self) -> bool:
        ctx = self.ctx
        st = ctx.state
        return (not ctx.verifier.running and not st.merge_queue and st.merging is None
                and not ctx.merges.working and not st.open_attempts()
                and ctx.forecasts.settled)

    def _step(self, now: float) -> None:
        if self.stopping is not None:
            self._stop_step(now)
            return
        ctx = self.ctx
        tasks = list(ctx.state.tasks.values())
        done = bool(tasks) and all(t.state in TERMINAL for t in tasks)
        if not (done and self.quiet()):
            ctx.finished_ok = None
            return
        ok = all(t.state in (TaskState.PASSED, TaskState.MERGED) for t in tasks)
        ctx.finished_ok = ok
        if ctx.state.status != RunStatus.FINISHED:
            ctx.emit(p.RunFinished(ok=ok, summary={
                s: sum(1 for t in tasks if t.state == s) for s in sorted({str(t.state)
                                                                          for t in tasks})}))

    # -- stopping ---------------------------------------------------------------------------

    def stop(self, keep_agents: bool) -> None:
        ctx = self.ctx
        grace = ctx.config.run.kill_grace + 2.0
        self.stopping = (keep_agents, ctx.now() + grace)
        if keep_agents:
            return
        for t in list(ctx.state.tasks.values()):
            if t.state in ACTIVE:
                ctx.liveness.end(t.id, t.attempt)
                fail_if_current(ctx, t.id, t.attempt, Cause.STOPPED,
                                "stopped: the run was stopped (swarmtui down)")
        for rec in ctx.state.open_attempts():
            ctx.liveness.end(rec.task, rec.attempt)

    def _stop_step(self, now: float) -> None:
        ctx = self.ctx
        assert self.stopping is not None
        keep, deadline = self.stopping
        if not keep:
            ctx.attempt_reader.sweep()
            left = ctx.state.open_attempts()
            if left and now < deadline:
                return
            for rec in left:
                # Past the grace period: nothing of the attempt may outlive the run.
                f = ctx.files_of(rec.task, rec.attempt)
                pgid = f.pgid()
                if pgid is not None:
                    proc.kill(pgid)
                ctx.liveness.end(rec.task, rec.attempt, hard=True)
                ctx.emit(p.AgentExited(how=ExitHow.TERMINATED, signal="SIGKILL",
                                       error="killed when the run was stopped"),
                         rec.task, rec.attempt)
        with ctx.loop.transaction():  # the run's end and the answers to `down` together
            ctx.emit(p.RunStopped(keep_agents=keep))
            for cid, source in self.stop_answers:
                ctx.commands.answer(cid, "down", source, "done",
                                    {"message": "run stopped" + (" (agents kept running)"
                                                                 if keep else "")})
        self.close_session = not keep
        ctx.loop.stop_requested.set()
        ctx.loop.wake("stopped")


def agent_id(task: str, attempt: int) -> str:
    return P.agent_id(task, attempt)
