"""Choosing an account for an attempt, and when one is free again (pure).

An account is *free* when no usage limit holds it (``RunState.usage_limits``, kept under the
account's name) and its attempts have cost less than its ``max_cost_usd``. Its spend is the cost
of every attempt recorded on it (``attempt_spawned.account``), so a replay sees the same spend.
``who`` is a task's spec (its own list, else its role's, else its agent's: ``fallback.chain``)
or an agent config's name (that agent's list: what dispatch and the views hold agents by).
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.config import AccountConfig, Config
from swarmtui.engine.accounts.fallback import Who, chain
from swarmtui.model import RunState
from swarmtui.model.usage import attempt_cost


def spend(run: RunState, account: str) -> float:
    """What the attempts on ``account`` have cost (turns so far for one still running)."""
    return sum(attempt_cost(a) for a in run.attempts.values() if a.account == account)


def in_use(run: RunState, account: str) -> int:
    """Attempts on ``account`` whose process may still run."""
    return sum(1 for a in run.attempts.values() if a.account == account and a.exit is None)


def limited_until(run: RunState, account: str, now: float) -> float | None:
    lim = run.usage_limits.get(account)
    return lim.until if lim is not None and lim.until > now else None


def capped(run: RunState, acct: AccountConfig) -> bool:
    return acct.max_cost_usd > 0 and spend(run, acct.name) >= acct.max_cost_usd


def free(run: RunState, acct: AccountConfig, now: float) -> bool:
    return limited_until(run, acct.name, now) is None and not capped(run, acct)


def choose(run: RunState, config: Config, who: Who, now: float) -> AccountConfig | None:
    """The first of the work's accounts that is free; None when none is (or it has none)."""
    return next((a for a in chain(config, who) if free(run, a, now)), None)


def waits(run: RunState, config: Config, who: Who, now: float) -> bool:
    """Whether the work runs on accounts and none of them is free now (it is held)."""
    return bool(chain(config, who)) and choose(run, config, who, now) is None


@dataclass(frozen=True)
class Next:
    """Where an agent's work goes on after a usage limit."""

    account: str | None  # free now: the next attempt starts at once on it
    at: float | None  # none free: the earliest time one is (None: none will be, all capped)


def after_limit(run: RunState, config: Config, who: Who, now: float) -> Next:
    """After one of the work's accounts hit its usage limit (already in ``run``): a free
    account to go on with at once, else the earliest reset among those a limit holds."""
    chosen = choose(run, config, who, now)
    if chosen is not None:
        return Next(chosen.name, now)
    resets = [u for a in chain(config, who) if not capped(run, a)
              and (u := limited_until(run, a.name, now)) is not None]
    return Next(None, min(resets) if resets else None)


def limit_account(run: RunState, config: Config, who: Who, now: float) -> str:
    """The account whose usage limit the work waits on: for work on accounts, the one that
    lifts first when none is free ("" while one is free); else its agent's ``account``."""
    accts = chain(config, who)
    if not accts:
        return config.account_of(who if isinstance(who, str) else who.agent)
    nxt = after_limit(run, config, who, now)
    if nxt.account is not None or nxt.at is None:
        return ""
    return next(a.name for a in accts if limited_until(run, a.name, now) == nxt.at)


def held_until(run: RunState, config: Config, now: float) -> float | None:
    """Until when usage limits hold the run's work back: the latest reset of a limit some
    agent waits on. An account limited while its agent carries on on another holds nothing."""
    if not config.accounts:
        return run.usage_limited_until
    waiting: list[Who] = [*config.agents, *(t.spec for t in run.tasks.values()
                                            if t.state.value in ("pending", "failed"))]
    holding = {limit_account(run, config, w, now) for w in waiting} - {""}
    return max((lim.until for name, lim in run.usage_limits.items() if name in holding),
               default=None)
