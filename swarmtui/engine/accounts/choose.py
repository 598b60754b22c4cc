"""Choosing an account for an attempt, and when one is free again (pure).

An account is *free* when no usage limit holds it (``RunState.usage_limits``, kept under the
account's name) and its attempts have cost less than its ``max_cost_usd``. Its spend is the cost
of every attempt recorded on it (``attempt_spawned.account``), so a replay sees the same spend.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.config import AccountConfig, Config
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


def choose(run: RunState, config: Config, agent: str, now: float) -> AccountConfig | None:
    """The first of the agent's accounts that is free; None when none is (or it has none)."""
    return next((a for a in config.accounts_of(agent) if free(run, a, now)), None)


def waits(run: RunState, config: Config, agent: str, now: float) -> bool:
    """Whether the agent runs on accounts and none of them is free now (dispatch holds it)."""
    return bool(config.agents.get(agent) and config.agents[agent].accounts) and choose(
        run, config, agent, now) is None


@dataclass(frozen=True)
class Next:
    """Where an agent's work goes on after a usage limit."""

    account: str | None  # free now: the next attempt starts at once on it
    at: float | None  # none free: the earliest time one is (None: none will be, all capped)


def after_limit(run: RunState, config: Config, agent: str, now: float) -> Next:
    """After one of the agent's accounts hit its usage limit (already in ``run``): a free
    account to go on with at once, else the earliest reset among those a limit holds."""
    chosen = choose(run, config, agent, now)
    if chosen is not None:
        return Next(chosen.name, now)
    resets = [u for a in config.accounts_of(agent) if not capped(run, a)
              and (u := limited_until(run, a.name, now)) is not None]
    return Next(None, min(resets) if resets else None)


def limit_account(run: RunState, config: Config, agent: str, now: float) -> str:
    """The account whose usage limit the agent's work waits on: for an agent on accounts, the
    one that lifts first when none is free ("" while one is free); else its ``account``."""
    if not config.accounts_of(agent):
        return config.account_of(agent)
    nxt = after_limit(run, config, agent, now)
    if nxt.account is not None or nxt.at is None:
        return ""
    return next(a.name for a in config.accounts_of(agent)
                if limited_until(run, a.name, now) == nxt.at)


def held_until(run: RunState, config: Config, now: float) -> float | None:
    """Until when usage limits hold the run's work back: the latest reset of a limit some
    agent waits on. An account limited while its agent carries on on another holds nothing."""
    if not config.accounts:
        return run.usage_limited_until
    holding = {limit_account(run, config, a, now) for a in config.agents} - {""}
    return max((lim.until for name, lim in run.usage_limits.items() if name in holding),
               default=None)
