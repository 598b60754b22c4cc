"""Which accounts a task runs on, in order, and which agent config runs on each (pure).

The list is the task's own ``accounts`` (task file), else its role's (``[roles.NAME]``), else
its agent's (``[agents.NAME] accounts``); an entry names an account or a CLI (every account of
it). An account of another CLI than the task's agent runs the agent config the account names
(``agent``), else the only agent config of that CLI (``config/accounts.py`` refuses a list
where neither says one). So a fallback order may cross CLIs: the attempt after a usage limit
may run another CLI, which starts fresh with a handoff (``attempts/crossover.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from swarmtui.config import AccountConfig, Config
from swarmtui.config.accounts import agent_for as _agent_for
from swarmtui.config.accounts import list_problem
from swarmtui.model import TaskSpec

Who = str | TaskSpec
"""A task (its own list, its role's, its agent's) or an agent config's name (its list)."""


def chain(config: Config, who: Who) -> list[AccountConfig]:
    """The accounts ``who`` runs on, in order of preference (empty: none configured)."""
    if isinstance(who, str):
        return config.accounts_of(who)
    return config.accounts_of(who.agent, who.role, who.accounts)


def agent_for(config: Config, acct: AccountConfig | None, task_agent: str) -> str:
    """The agent config an attempt on ``acct`` runs (the task's own when no account)."""
    if acct is None:
        return task_agent
    return _agent_for(acct, task_agent, config.agents) or task_agent


def cli_of(config: Config, agent: str) -> str:
    """The adapter (CLI) of an agent config; ``generic`` for one not configured."""
    a = config.agents.get(agent)
    return a.adapter if a is not None else "generic"


def agents_run(config: Config, tasks: Iterable[TaskSpec]) -> set[str]:
    """Every agent config the tasks may run: their own and those of their lists' accounts (so
    ``validate`` and ``up`` check the other CLIs' commands too)."""
    out: set[str] = set()
    for t in tasks:
        out.add(t.agent)
        out |= {agent_for(config, a, t.agent) for a in chain(config, t)}
    return out


def task_problems(config: Config, tasks: Iterable[TaskSpec]) -> list[str]:
    """Why a task's own ``accounts`` cannot be run: each as ``task 'ID': key ...: ...``."""
    out: list[str] = []
    for t in tasks:
        problem = list_problem(list(t.accounts), "accounts", config.accounts, config.agents,
                               t.agent)
        if problem is not None:
            key, message = problem
            dotted = key.replace(".", "[", 1) + "]" if "." in key else key
            out.append(f"task {t.id!r}: key `{dotted}`: {message}")
    return out
