"""Why an attempt failed when its agent exited without results, and what follows.

The exit record (the wrapper's, with what the agent CLI said about its last turn) decides the
cause: a denied permission, an API error by class, a usage limit, max turns or budget, a lost
window, an orphan, a crash. Then the retry policy acts, with what each cause needs: a usage
limit waits for its reset and, for an agent CLI that can resume, continues its own session; a
plain rate limit backs off by what the CLI said; a refused API key holds every new attempt of
that agent until the operator resumes dispatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from swarmtui import protocol as P
from swarmtui.config import ModelPrice
from swarmtui.engine.accounts.choose import after_limit
from swarmtui.engine.adapters import ADAPTERS, capabilities
from swarmtui.engine.adapters.base import Can
from swarmtui.engine.attempts.failures import fail, fail_if_current
from swarmtui.engine.intents import AfterExit, FailAttempt
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime.ingest import ResultsRefusal
from swarmtui.model import Cause, ExitHow, Health, TaskState
from swarmtui.model import payloads as p

RATE_LIMIT_WAIT = 60.0  # a plain 429 whose back-off the agent CLI did not say
RESUME_FOLLOW_UP = ("The usage limit has lifted. Carry on with the task where you left off: "
                    "keep reporting progress and write results.json when you are done.")
FAILOVER_FOLLOW_UP = ("You were stopped by a usage limit; you now run on another account. Carry "
                      "on with the task where you left off: keep reporting progress and write "
                      "results.json when you are done.")


@dataclass(frozen=True)
class Verdict:
    cause: Cause
    reason: str
    health: Health | None = None
    wait_s: float | None = None  # at least this long before the next attempt
    hold_agent: bool = False  # no new attempt of this agent until the operator resumes


def _api(oc: p.AgentOutcome, auth_hint: str) -> Verdict | None:
    status = oc.api_status
    said = f": {oc.message}" if oc.message else ""
    # An adapter that classed the error itself (apierrors.ErrorClass) is taken at its word.
    klass = oc.api_error
    if status in (401, 403) or klass == "authentication_failed":
        return Verdict(Cause.API_AUTH, f"the API refused the credentials ({status}){said}; "
                       f"{auth_hint}", hold_agent=True)
    if klass == "context_too_long":
        return Verdict(Cause.API_CONTEXT_TOO_LONG, f"the context is too long for the model "
                       f"({status or 'no status'}){said}")
    if klass == "server_error":
        return Verdict(Cause.API_SERVER, f"API server error ({status or 'no status'}){said}")
    if status == 429 or klass == "rate_limit":
        return Verdict(Cause.API_RATE_LIMITED, f"API rate limit ({status or 429}){said}")
    if status == 529 or klass == "overloaded":
        return Verdict(Cause.API_OVERLOADED, f"the API is overloaded ({status or 529}){said}")
    if status is not None and status >= 500:
        return Verdict(Cause.API_SERVER, f"API server error ({status}){said}")
    if oc.is_error and oc.terminal_reason == "api_error":
        return Verdict(Cause.API_SERVER, f"the API call failed{said or ' (no status)'}")
    return None


def exit_verdict(pl: p.AgentExited, results_refused: ResultsRefusal | None = None,
                 adapter: str = "claude", interactive: bool = False) -> Verdict:
    """The cause of an attempt whose agent exited without results it could take (pure).
    ``results_refused``: it wrote a results.json, refused (too large, too deep, ...);
    ``adapter``: whose words the advice on a refused key uses; ``interactive``: it ran its own
    screen, which its wrapper ends only with results or a limit, so a clean exit without
    either is the operator's (``/exit``): it waits for the operator, like a kill."""
    oc = pl.outcome
    if pl.usage_limited_until is not None:
        kind = f" ({pl.limit_type.replace('_', ' ')})" if pl.limit_type else ""
        return Verdict(Cause.USAGE_LIMITED, f"usage limited{kind}: the agent CLI hit its usage "
                       "limit")
    if oc is not None:
        if oc.subtype == "error_max_turns":
            return Verdict(Cause.MAX_TURNS, f"hit its max turns ({'; '.join(oc.errors)})")
        if oc.subtype == "error_max_budget_usd":
            return Verdict(Cause.MAX_BUDGET, f"hit its max budget ({'; '.join(oc.errors)})")
        cls = ADAPTERS.get(adapter)
        api = _api(oc, cls.auth_hint if cls is not None else "check the agent's API key")
        if api is not None:
            return api
        if oc.denials:
            return Verdict(Cause.NEEDS_PERMISSION, "needs permission: " + ", ".join(oc.denials))
    if interactive and pl.how == ExitHow.EXITED and pl.code == 0 and results_refused is None:
        return Verdict(Cause.KILLED, "ended on its own screen without results.json (/exit): "
                       "`swarmtui retry` starts it again")
    return _process_verdict(pl, results_refused)


def _process_verdict(pl: p.AgentExited, refused: ResultsRefusal | None = None) -> Verdict:
    if pl.how == ExitHow.ORPHANED:
        return Verdict(Cause.ORPHANED, "orphaned: the agent ended itself when the supervisor "
                       "went silent", Health.ORPHAN)
    if pl.how == ExitHow.SETUP_FAILED:
        return Verdict(Cause.SETUP_FAILED,
                       f"worktree setup failed: {pl.error or 'the setup command failed'}")
    if pl.how == ExitHow.NOT_STARTED:
        return Verdict(Cause.COULD_NOT_START,
                       f"could not start: {pl.error or 'the agent command failed'}")
    if pl.how in (ExitHow.HANGUP, ExitHow.TERMINATED):
        # Every end the supervisor asks for fails the attempt before its agent exits, so one
        # still running when a signal ended it lost its window (the pane or the tmux server).
        return Verdict(Cause.LOST, "lost: its window went away (the tmux server or the pane "
                       "was closed)", Health.LOST)
    if pl.how == ExitHow.VANISHED:
        return Verdict(Cause.CRASHED, "crashed: its window vanished without an exit record",
                       Health.CRASHED)
    how = f"signal {pl.signal}" if pl.signal else f"exit code {pl.code}"
    if refused is not None:
        # It did write results, just not ones that can be taken: say which limit, not "none".
        return Verdict(Cause.RESULTS_REFUSED, f"{refused.why} (the agent ended: {how})",
                       Health.CRASHED)
    return Verdict(Cause.CRASHED, f"crashed: the agent ended ({how}) without writing "
                   "results.json", Health.CRASHED)


def priced(pl: p.AgentExited, prices: Mapping[str, ModelPrice]) -> p.AgentExited:
    """Cost from the price table (``adapters/prices.py``, the config's ``[prices]`` first) for
    an agent that reported tokens per model but no cost."""
    from swarmtui.engine.adapters.prices import priced_exit

    return priced_exit(pl, prices)


class Outcomes:
    """Owns ``AfterExit`` and ``FailAttempt``: every failure of an attempt is decided here."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def fail_attempt(self, it: FailAttempt) -> bool:
        if it.any_state:
            t = self.ports.state.tasks.get(it.task)
            if t is None or t.attempt != it.attempt:
                return False
            fail(self.ports, t, it.cause, it.reason, health=it.health, not_before=it.not_before)
            return True
        return fail_if_current(self.ports, it.task, it.attempt, it.cause, it.reason,
                               health=it.health, not_before=it.not_before)

    def after_exit(self, it: AfterExit) -> None:
        t, pl, session, results_refused = it.task, it.exited, it.session, it.results_refused
        ports = self.ports
        if t.state != TaskState.RUNNING:
            return
        rec = ports.state.attempts.get(P.agent_id(t.id, t.attempt))
        ran = rec.agent if rec is not None and rec.agent else t.spec.agent  # maybe another CLI
        agent = ports.config.agents.get(ran)
        v = exit_verdict(pl, results_refused, agent.adapter if agent is not None else "generic",
                         t.interactive)
        not_before = pl.usage_limited_until
        if v.cause == Cause.API_RATE_LIMITED:
            not_before = ports.now() + (pl.retry_delay_s or RATE_LIMIT_WAIT)
        reason, follow_up = v.reason, RESUME_FOLLOW_UP
        if v.cause == Cause.USAGE_LIMITED and rec is not None and rec.account:
            # Its account is limited: on at once on the next free one, else at the earliest
            # reset of any (the account chosen then is the spawn's to say).
            nxt = after_limit(ports.state, ports.config, t.spec, ports.now())
            reason = f"{reason} (account {rec.account})"
            if nxt.account is not None:
                not_before, follow_up = ports.now(), FAILOVER_FOLLOW_UP
                cli = next(a.cli for a in ports.config.accounts if a.name == nxt.account)
                other = (f" ({cli}: a fresh session in the same worktree, with a handoff)"
                         if agent is None or cli != agent.adapter else "")
                reason += f"; carrying on at once on account {nxt.account}{other}"
            elif nxt.at is not None:
                not_before = nxt.at
                reason += "; every account of the agent is limited: waiting for the first reset"
        resume = None
        if v.cause == Cause.USAGE_LIMITED and session and self._resumes(ran):
            resume = session
        fail(ports, t, v.cause, reason, health=v.health, not_before=not_before,
             resume_session=resume, follow_up=follow_up if resume else "")
        if v.hold_agent and t.spec.agent not in ports.state.held_agents:
            ports.emit(p.AgentHeld(agent=t.spec.agent, reason=v.reason), t.id, t.attempt)

    def _resumes(self, ran: str) -> bool:
        """Whether the agent config that ran can continue its session (on the same CLI;
        on another, the spawn starts fresh with a handoff instead)."""
        agent = self.ports.config.agents.get(ran)
        return agent is not None and Can.RESUME in capabilities(agent.adapter) and bool(
            getattr(agent, "resume_after_limit", True))
