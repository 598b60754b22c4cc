"""Liveness: which attempts' processes still exist, adopting them after a restart, settling
the ones that ended, and ending the ones the run no longer wants.

One tmux question per tick (``Runner.snapshot`` in the tmux worker) covers the whole fleet. An
attempt whose window has gone is settled from its exit record; with no record, its process group
(recorded by the wrapper in ``agent.pgid``) is checked and, if anything of it still runs (its
wrapper was killed), ended before the attempt counts as over, so a task never has two live
agents. A dead tmux server means every running attempt was lost: not the task's fault, so not
counted against ``max_attempts`` or the breaker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from swarmtui import protocol as P
from swarmtui.engine.attempts.failures import fail_if_current
from swarmtui.engine.intents import (
    Ask,
    AttemptExited,
    EndAttempt,
    IsEnding,
    ReadAttempt,
    SettleAttempt,
    WrapperAlive,
)
from swarmtui.engine.messages import Panes
from swarmtui.engine.ports import Ports
from swarmtui.engine.runners.base import RunnerError, ServerGone
from swarmtui.engine.runtime.git import GitError
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import AttemptRec, Cause, ExitHow, Health, TaskState
from swarmtui.model import payloads as p
from swarmtui.textsafe import clean_text

log = logging.getLogger(__name__)


@dataclass
class Ending:
    since: float
    hard_sent: bool = False


class Liveness:
    """Owns ``EndAttempt``, ``IsEnding``, ``WrapperAlive`` and ``AttemptExited``."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        self.ending: dict[str, Ending] = {}
        self._asking = False
        self._server_gone_reported = False
        self.last_panes: dict[str, object] | None = None
        for rec in ports.state.open_attempts():
            ports.runner.track(rec.window, rec.runner)  # where the log says each one runs

    # -- asking tmux ------------------------------------------------------------------------

    def poll(self, now: float) -> None:
        """Ask tmux (in its worker) which windows exist; the answer comes as ``Panes``."""
        if self._asking:
            return
        self._asking = True

        def snap() -> Panes:
            try:
                panes = self.ports.runner.snapshot()
                return Panes(panes, unreachable=self.ports.runner.unreachable() or None)
            except ServerGone as e:
                return Panes(None, server_gone=True, error=str(e))
            except RunnerError as e:
                return Panes(None, error=str(e))

        self.ports.submit(self.ports.workers.tmux, snap, lambda e: Panes(None, error=str(e)))

    def panes(self, msg: Panes) -> None:
        self._asking = False
        ports = self.ports
        now = ports.now()
        if msg.server_gone:
            self._server_gone()
        if msg.panes is None:
            if msg.server_gone:
                self._settle_without_panes(now)
            return
        self._server_gone_reported = False
        self.last_panes = dict(msg.panes)
        for rec in list(ports.state.open_attempts()):
            if not rec.started:
                continue
            if msg.unreachable and rec.window in msg.unreachable:
                self._host_lost(rec, msg.unreachable[rec.window])
                continue
            pane = msg.panes.get(rec.window)
            if pane is not None and not pane.dead:
                self._escalate(rec, now, pane_pid=pane.pane_pid)
                continue
            self._gone(rec, now)

    # -- ending -----------------------------------------------------------------------------

    def end(self, task: str, attempt: int, *, hard: bool = False) -> None:
        """Ask the attempt's process to end (TERM, then KILL after run.kill_grace)."""
        ports = self.ports
        aid = P.agent_id(task, attempt)
        rec = ports.state.attempts.get(aid)
        if rec is None or rec.exit is not None:
            return
        if aid in self.ending and not hard:
            return
        self.ending.setdefault(aid, Ending(since=ports.now()))
        if not rec.started:
            return  # the spawner ends it once its window exists
        f = ports.files_of(task, attempt)
        pgid, wpid, window = f.pgid(), f.wrapper_pid(), rec.window
        runner = ports.runner
        if hard:
            self.ending[aid].hard_sent = True

        def job() -> None:
            runner.end(window, pgid=pgid, wrapper_pid=wpid, hard=hard)

        ports.submit(ports.workers.tmux, job, lambda e: None)

    def end_attempt(self, it: EndAttempt) -> None:
        self.end(it.task, it.attempt, hard=it.hard)

    def is_ending(self, it: IsEnding) -> bool:
        return P.agent_id(it.task, it.attempt) in self.ending

    def exited(self, it: AttemptExited) -> None:
        self.ending.pop(P.agent_id(it.task, it.attempt), None)

    def wrapper_alive_now(self, it: WrapperAlive) -> bool:
        return self.wrapper_alive(it.rec)

    def wrapper_alive(self, rec: AttemptRec) -> bool:
        """Whether the attempt's wrapper still runs, as tmux last said: its pane is its process,
        something no file an agent writes can change."""
        pane = self.last_panes.get(rec.window) if self.last_panes is not None else None
        return pane is not None and not getattr(pane, "dead", False)

    def _escalate(self, rec: AttemptRec, now: float, pane_pid: int) -> None:
        e = self.ending.get(rec.id)
        if e is None or e.hard_sent:
            return
        grace = self.ports.config.run.kill_grace + 2 * self.ports.config.heartbeat.tick
        if now - e.since > grace:
            self.end(rec.task, rec.attempt, hard=True)

    def _gone(self, rec: AttemptRec, now: float) -> None:
        """The attempt's window is gone: settle it from its files, or end what is left."""
        ports = self.ports
        self.ask(ReadAttempt(rec.task, rec.attempt))
        rec = ports.state.attempts[rec.id]
        if rec.exit is not None:
            self.ending.pop(rec.id, None)
            return
        pgid = ports.files_of(rec.task, rec.attempt).pgid()
        if pgid is not None and ports.runner.group_alive(pgid, rec.window):
            # Its wrapper is gone but the agent is not: end the group before anything else.
            e = self.ending.setdefault(rec.id, Ending(since=now))
            if not e.hard_sent and now - e.since > ports.config.run.kill_grace:
                self._end_group(rec.window, pgid, hard=True)
                e.hard_sent = True
            elif e.since == now:
                self._end_group(rec.window, pgid, hard=False)
            return
        self.ending.pop(rec.id, None)
        ports.emit(p.AgentExited(how=ExitHow.VANISHED, error="the window went away without an "
                               "exit record"), rec.task, rec.attempt)
        self.ask(SettleAttempt(rec.task, rec.attempt))

    def _end_group(self, window: str, pgid: int, *, hard: bool) -> None:
        """TERM (or KILL) the group of an attempt whose window is gone, where it runs."""
        runner = self.ports.runner

        def job() -> None:
            runner.end(window, pgid=pgid, wrapper_pid=None, hard=hard)

        self.ports.submit(self.ports.workers.tmux, job, lambda e: None)

    def _host_lost(self, rec: AttemptRec, reason: str | None) -> None:
        """The attempt's host cannot be reached. While it is still being reached (no reason
        yet) nothing is decided; once it counts as lost the attempt is lost (not counted) and
        asked to end, which happens when the host answers again, or by itself (the orphan
        timeout) if it never does: the runner keeps the window here until then, so the task
        is requeued only once its agent has surely ended."""
        if reason is None:
            return
        ports = self.ports
        self.ask(ReadAttempt(rec.task, rec.attempt))  # results that made it here count
        if fail_if_current(ports, rec.task, rec.attempt, Cause.LOST, f"lost: {reason}",
                           health=Health.LOST):
            self.end(rec.task, rec.attempt)

    # -- the server itself ------------------------------------------------------------------

    def _server_gone(self) -> None:
        ports = self.ports
        running = [t for t in ports.state.tasks.values() if t.state == TaskState.RUNNING
                   and ports.state.attempts.get(P.agent_id(t.id, t.attempt)) is not None
                   and ports.state.attempts[P.agent_id(t.id, t.attempt)].started]
        if not running:
            return
        if not self._server_gone_reported:
            ports.emit(p.TmuxServerGone(count=len(running)))
            self._server_gone_reported = True
        for t in running:
            # A result written before the server died still counts: read it first.
            self.ask(ReadAttempt(t.id, t.attempt))
            fail_if_current(ports, t.id, t.attempt, Cause.LOST,
                            "lost: swarmtui's tmux session went away", health=Health.LOST)

    def _settle_without_panes(self, now: float) -> None:
        """With no tmux server, every open attempt is gone or orphaned: settle each from its
        files or its process group."""
        for rec in list(self.ports.state.open_attempts()):
            if rec.started:
                self._gone(rec, now)

    # -- adoption ---------------------------------------------------------------------------

    def adopt(self, panes: dict[str, object] | None) -> None:
        """After a restart: take over every attempt the log says may still run."""
        ports = self.ports
        self.last_panes = dict(panes) if panes is not None else None  # whose wrapper still runs
        for rec in list(ports.state.open_attempts()):
            if not rec.started and not self._started_meanwhile(rec, panes):
                # Recorded but never started: the supervisor died while preparing it.
                ports.emit(p.AgentExited(how=ExitHow.NOT_STARTED,
                                       error="the supervisor stopped before it started"),
                         rec.task, rec.attempt)
                fail_if_current(ports, rec.task, rec.attempt, Cause.LOST,
                                "lost: the supervisor stopped before the agent started")
                continue
            alive = panes is not None and rec.window in panes
            ports.emit(p.AttemptAdopted(window=rec.window, alive=alive), rec.task, rec.attempt)
            ports.files_of(rec.task, rec.attempt)  # reading resumes where the log left off
        # Whatever happened while no supervisor ran is read now: lines, results, exits, and
        # an exit recorded by the last supervisor just before it died.
        for t in list(ports.state.tasks.values()):
            if t.state.value == "running":
                self.ask(ReadAttempt(t.id, t.attempt))
        for rec in list(ports.state.open_attempts()):
            self.ask(ReadAttempt(rec.task, rec.attempt))


    def _started_meanwhile(self, rec: AttemptRec, panes: dict[str, object] | None) -> bool:
        """An attempt the log says was never started may have got its window just before the
        last supervisor died: its window, or its wrapper's record of the agent, says so. It is
        then recorded as started (from the commit its branch grew from) and adopted."""
        ports = self.ports
        f = ports.files_of(rec.task, rec.attempt)
        pgid = f.pgid()
        in_panes = panes is not None and rec.window in panes
        group = pgid is not None and ports.runner.group_alive(pgid, rec.window)
        if not in_panes and not group and f.exit_record() is None:
            return False
        start = ""
        try:
            start = ports.git.merge_base(rec.branch, ports.state.target or ports.state.base) or ""
        except GitError as e:
            log.warning("%s-%d: no start commit for its diff (%s)", rec.task, rec.attempt, e)
        ports.emit(p.AttemptStarted(start_commit=start), rec.task, rec.attempt)
        return True


def exit_payload(rec: ExitRecord) -> p.AgentExited:
    d = rec.data
    try:
        how = ExitHow(rec.how)
    except ValueError:
        how = ExitHow.EXITED

    def num(key: str) -> float | None:
        v = d.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    tokens = d.get("tokens")
    err = d.get("error") or d.get("agent_error")
    models: dict[str, p.ModelUsage] = {}
    raw_models = d.get("models")
    if isinstance(raw_models, dict):
        for name, u in list(raw_models.items())[:20]:
            try:
                models[clean_text(str(name))[:100]] = p.ModelUsage.model_validate(u)
            except ValueError:
                continue
    outcome = None
    if isinstance(d.get("outcome"), dict):
        try:
            outcome = p.AgentOutcome.model_validate(_clean(d["outcome"]))
        except ValueError:
            outcome = None
    session = d.get("session_id")
    return p.AgentExited(how=how, code=rec.code, signal=rec.signal,
                         tokens=tokens if isinstance(tokens, int) else None,
                         cost_usd=num("cost_usd"), error=clean_text(str(err))[:500] if err
                         else None, usage_limited_until=num("usage_limited_until"),
                         limit_type=clean_text(str(d.get("limit_type") or ""))[:40],
                         session_id=clean_text(session)[:100] if isinstance(session, str)
                         else None, models=models, outcome=outcome,
                         retry_delay_s=num("retry_delay_s"),
                         usage_from_turns=d.get("usage_from_turns") is True)


def _clean(obj: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in obj.items():
        if isinstance(v, str):
            out[k] = clean_text(v)[:500]
        elif isinstance(v, list):
            out[k] = [clean_text(x)[:300] if isinstance(x, str) else x for x in v[:20]]
        else:
            out[k] = v
    return out

