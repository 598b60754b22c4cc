"""When a run is over: finished (every task terminal and everything quiet) or stopped.

Finished means more than every task being terminal: no verification or merge in flight, every
ended agent's exit recorded, and the forecasts of passed tasks computed for their final
commits. Stopping (``swarmtui down``) ends every agent, waits (bounded) for their exits, kills
what is left of their process groups, and only then records ``run_stopped``.
"""

from __future__ import annotations

from swarmtui import protocol as P
from swarmtui.engine.intents import (
    AnswerCommand,
    Ask,
    EndAttempt,
    FailAttempt,
    ForecastsSettled,
    IsStopping,
    LeaveLoop,
    MergeWorking,
    StopRun,
    SweepAttempts,
    VerifyRunning,
)
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime import proc
from swarmtui.model import ACTIVE, TERMINAL, Cause, ExitHow, RunStatus, TaskState
from swarmtui.model import payloads as p


class Finisher:
    """Owns ``StopRun`` and ``IsStopping``; ``finished_ok`` says how a finished run ended."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        self.stopping: tuple[bool, float] | None = None  # (keep_agents, deadline)
        self.stop_answers: list[tuple[int, str]] = []
        self.close_session = False
        self.finished_ok: bool | None = None  # None while the run is not finished

    def quiet(self) -> bool:
        st = self.ports.state
        return (not self.ask(VerifyRunning()) and not st.merge_queue and st.merging is None
                and not self.ask(MergeWorking()) and not st.open_attempts()
                and self.ask(ForecastsSettled()))

    def stop_run(self, it: StopRun) -> None:
        if it.answer is not None:
            self.stop_answers.append(it.answer)
        self.stop(it.keep_agents)

    def is_stopping(self, it: IsStopping) -> bool:
        return self.stopping is not None

    def step(self, now: float) -> None:
        if self.stopping is not None:
            self._stop_step(now)
            return
        ports = self.ports
        tasks = list(ports.state.tasks.values())
        done = bool(tasks) and all(t.state in TERMINAL for t in tasks)
        if not (done and self.quiet()):
            self.finished_ok = None
            return
        ok = all(t.state in (TaskState.PASSED, TaskState.MERGED) for t in tasks)
        self.finished_ok = ok
        if ports.state.status != RunStatus.FINISHED:
            ports.emit(p.RunFinished(ok=ok, summary={
                s: sum(1 for t in tasks if t.state == s) for s in sorted({str(t.state)
                                                                          for t in tasks})}))

    # -- stopping ---------------------------------------------------------------------------

    def stop(self, keep_agents: bool) -> None:
        ports = self.ports
        grace = ports.config.run.kill_grace + 2.0
        self.stopping = (keep_agents, ports.now() + grace)
        if keep_agents:
            return
        for t in list(ports.state.tasks.values()):
            if t.state in ACTIVE:
                self.ask(EndAttempt(t.id, t.attempt))
                self.ask(FailAttempt(t.id, t.attempt, Cause.STOPPED,
                                     "stopped: the run was stopped (swarmtui down)"))
        for rec in ports.state.open_attempts():
            self.ask(EndAttempt(rec.task, rec.attempt))

    def _stop_step(self, now: float) -> None:
        ports = self.ports
        assert self.stopping is not None
        keep, deadline = self.stopping
        if not keep:
            self.ask(SweepAttempts())
            left = ports.state.open_attempts()
            if left and now < deadline:
                return
            for rec in left:
                # Past the grace period: nothing of the attempt may outlive the run.
                f = ports.files_of(rec.task, rec.attempt)
                pgid = f.pgid()
                if pgid is not None:
                    proc.kill(pgid)
                self.ask(EndAttempt(rec.task, rec.attempt, hard=True))
                ports.emit(p.AgentExited(how=ExitHow.TERMINATED, signal="SIGKILL",
                                       error="killed when the run was stopped"),
                         rec.task, rec.attempt)
        with ports.transaction():  # the run's end and the answers to `down` together
            ports.emit(p.RunStopped(keep_agents=keep))
            for cid, source in self.stop_answers:
                self.ask(AnswerCommand(cid, "down", source, "done",
                                       {"message": "run stopped" + (" (agents kept running)"
                                                                    if keep else "")}))
        self.close_session = not keep
        self.ask(LeaveLoop("stopped"))


def agent_id(task: str, attempt: int) -> str:
    return P.agent_id(task, attempt)
