"""``[[accounts]]``: the agent CLIs' accounts, where their credentials come from, their caps.

An account is one credential for one agent CLI: a name, the CLI (``cli``, an adapter name),
and where its key lives: ``env`` names a variable of the supervisor's environment, ``file`` a
file read each time an attempt starts. The config holds neither key: only the variable's name
or the file's path, so the config as stored with the run holds no secret. Work runs on a
fallback list in order of preference: a task's own (``accounts`` in the task file), else its role's
(``[roles.NAME] accounts``, ``RoleConfig``), else its agent's (``[agents.NAME] accounts``);
an entry names an account or a CLI (``expand``: every account of it). Each attempt runs on the
first that is not usage-limited and under its cost cap, with the agent config ``agent_for``
says (the account's ``agent``, else the task's own agent of that CLI, else the only agent
config of that CLI), so a list may cross CLIs (``engine/accounts/``). Checks across entries
(unique names, lists naming accounts that exist and have an agent config to run) are
``check_accounts``, called by ``Config``'s validator so the message names the key at fault.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal

import annotated_types as at
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from swarmtui.config.units import _Expect

if TYPE_CHECKING:
    from swarmtui.config.model import AgentConfig

AccountCli = Literal["claude", "codex", "gemini", "opencode", "qwen", "aider"]
"""The agent CLIs an account can be for: the adapters that know their CLI's credentials."""

_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
_VAR_EXPECTED = ("the NAME of an environment variable (letters, digits and '_', not starting "
                 "with a digit) that holds the key, never the key itself")


def _cross(key: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("swarm_cross", "{message}", {"key": key, "message": message})


class AccountConfig(BaseModel):
    """One ``[[accounts]]`` entry."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
        _Expect("a name of 1-64 letters, digits, '.', '_' or '-' that starts with a letter "
                "or digit"),
    ]
    cli: AccountCli
    """The agent CLI (adapter) whose credential this is."""
    env: str = ""
    """The variable of the supervisor's environment that holds the key."""
    file: str = ""
    """A file that holds the key (read when an attempt starts; ``~`` is the home folder)."""
    variable: Annotated[str, StringConstraints(pattern=r"^$|" + _VAR), _Expect(
        '"" or the name of the environment variable the CLI reads its key from')] = ""
    """The variable the CLI reads the key from; empty: the CLI's own (docs/agents.md)."""
    max_cost_usd: Annotated[float, at.Ge(0)] = 0.0
    """No new attempt on this account once its attempts have cost this much; 0: no cap."""
    agent: str = ""
    """The agent config (``[agents.NAME]``) to run on this account when a task's own agent is
    of another CLI; empty: the only agent config whose adapter is ``cli``."""

    @field_validator("env")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if value and not re.match(_VAR, value):
            # Never echoed: what was written here may be the key itself.
            raise ValueError(f"expected {_VAR_EXPECTED} (the value given is not shown)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> AccountConfig:
        if bool(self.env) == bool(self.file):
            got = "both" if self.env else "neither"
            raise _cross("env", f"account {self.name!r} needs exactly one of `env` (the name of "
                                "a variable of the supervisor's environment that holds its "
                                f"key) or `file` (a file that holds it), got {got}")
        return self


class RoleConfig(BaseModel):
    """``[roles.NAME]``: what a role's tasks run on unless the task says."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """Accounts (or CLIs: every account of it) to run on, in order of preference."""
    mode: Literal["stream", "interactive"] = "stream"
    """How its tasks' agents run unless the task says: "stream" (headless, read from the
    CLI's JSON stream) or "interactive" (the CLI's own screen in the window; Claude Code only:
    docs/agents.md)."""


def expand(entries: Sequence[str], accounts: Sequence[AccountConfig]) -> list[AccountConfig]:
    """A fallback list's entries as accounts, in order, each once: an entry is an account's
    name, else a CLI's name standing for every account of that CLI (in file order)."""
    by_name = {a.name: a for a in accounts}
    out: list[AccountConfig] = []
    for entry in entries:
        got = [by_name[entry]] if entry in by_name else [a for a in accounts if a.cli == entry]
        out += [a for a in got if all(a.name != o.name for o in out)]
    return out


def agent_for(acct: AccountConfig, task_agent: str | None,
              agents: Mapping[str, AgentConfig]) -> str | None:
    """The agent config an attempt on ``acct`` runs: the account's ``agent``, else the task's
    own agent when it is of the account's CLI, else the only agent config of that CLI."""
    if acct.agent:
        return acct.agent
    own = agents.get(task_agent) if task_agent else None
    if own is not None and own.adapter == acct.cli:
        return task_agent
    of_cli = [n for n, a in agents.items() if a.adapter == acct.cli]
    return of_cli[0] if len(of_cli) == 1 else None


def list_problem(entries: Sequence[str], key: str, accounts: Sequence[AccountConfig],
                 agents: Mapping[str, AgentConfig], task_agent: str | None
                 ) -> tuple[str, str] | None:
    """The first problem of a fallback list as (key, message), or None."""
    names = {a.name for a in accounts}
    known = ", ".join(a.name for a in accounts) or "none: add [[accounts]] entries"
    for j, entry in enumerate(entries):
        at_j = f"{key}.{j}"
        if entry not in names and not any(a.cli == entry for a in accounts):
            return at_j, (f"expected the name of an [[accounts]] entry ({known}) or of a CLI "
                          f"that has one, got {entry!r}")
        if entry in entries[:j]:
            return at_j, f"account {entry!r} is listed twice"
        for acct in expand([entry], accounts):
            if agent_for(acct, task_agent, agents) is not None:
                continue
            of_cli = sorted(n for n, a in agents.items() if a.adapter == acct.cli)
            own = agents.get(task_agent) if task_agent else None
            runs = (f", but agent {task_agent!r} runs the {own.adapter} adapter"
                    if own is not None else "")
            what = (f"several agent configs run it ({', '.join(of_cli)}): set `agent` on the "
                    "account to say which" if of_cli else
                    f'no agent config runs it: add one with adapter = "{acct.cli}", or set '
                    "`agent` on the account")
            return at_j, (f"account {acct.name!r} is for {acct.cli}{runs}, and {what} "
                          f"(expected an account whose cli has one agent config to run)")
    return None


def check_accounts(accounts: Sequence[AccountConfig], agents: Mapping[str, AgentConfig],
                   roles: Mapping[str, RoleConfig] | None = None,
                   pools: Collection[str] = ()) -> PydanticCustomError | None:
    """The first problem across entries: a repeated name, an account whose ``agent`` is not
    an agent config of its CLI, a fallback list (an agent's or a role's) naming an account
    that does not exist or has no agent config to run, a role the pools do not know, or an
    agent that also sets the older ``account``."""
    seen: dict[str, int] = {}
    for i, a in enumerate(accounts):
        if a.name in seen:
            return _cross(f"accounts.{i}.name", f"account {a.name!r} is named twice (first as "
                                                 f"accounts[{seen[a.name]}])")
        seen[a.name] = i
        if a.agent and (a.agent not in agents or agents[a.agent].adapter != a.cli):
            of_cli = ", ".join(sorted(n for n, x in agents.items() if x.adapter == a.cli))
            return _cross(f"accounts.{i}.agent", f"expected the name of an agent config whose "
                          f"adapter is {a.cli!r} ({of_cli or 'none'}), got {a.agent!r}")
    for name, agent in agents.items():
        if agent.accounts and agent.account:
            return _cross(f"agents.{name}.account", "set either `account` (a name usage "
                                                    "limits are shared under) or `accounts` "
                                                    "(accounts to run on, in order), not both")
        problem = list_problem(agent.accounts, f"agents.{name}.accounts", accounts, agents, name)
        if problem is not None:
            return _cross(*problem)
    for role, rc in (roles or {}).items():
        if role not in pools:
            return _cross(f"roles.{role}", "expected a role from [slots.pools] "
                          f"({', '.join(sorted(pools)) or 'none'}), got {role!r}")
        problem = list_problem(rc.accounts, f"roles.{role}.accounts", accounts, agents, None)
        if problem is not None:
            return _cross(*problem)
    return None
