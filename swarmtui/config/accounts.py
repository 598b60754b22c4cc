"""``[[accounts]]``: the agent CLIs' accounts, where their credentials come from, their caps.

An account is one credential for one agent CLI: a name, the CLI (``cli``, an adapter name),
and where its key lives: ``env`` names a variable of the supervisor's environment, ``file`` a
file read each time an attempt starts. The config holds neither key: only the variable's name
or the file's path, so the config as stored with the run holds no secret. An agent lists the
accounts it may use in order of preference (``[agents.NAME] accounts = ["work", "personal"]``);
each attempt runs on the first one that is not usage-limited and under its cost cap, and an
attempt that hits a usage limit carries on on the next free one (``engine/accounts/``).
Checks across entries (unique names, agents naming accounts that exist and fit their CLI) are
``check_accounts``, called by ``Config``'s validator so the message names the key at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal

import annotated_types as at
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator
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


def check_accounts(accounts: Sequence[AccountConfig], agents: Mapping[str, AgentConfig]
                   ) -> PydanticCustomError | None:
    """The first problem across entries: a repeated name, an agent that names an account that
    does not exist or is for another CLI, or one that also sets the older ``account``."""
    seen: dict[str, int] = {}
    for i, a in enumerate(accounts):
        if a.name in seen:
            return _cross(f"accounts.{i}.name", f"account {a.name!r} is named twice (first as "
                                                 f"accounts[{seen[a.name]}])")
        seen[a.name] = i
    known = ", ".join(a.name for a in accounts) or "none: add [[accounts]] entries"
    for name, agent in agents.items():
        if agent.accounts and agent.account:
            return _cross(f"agents.{name}.account", "set either `account` (a name usage "
                                                    "limits are shared under) or `accounts` "
                                                    "(accounts to run on, in order), not both")
        for j, acct in enumerate(agent.accounts):
            key = f"agents.{name}.accounts.{j}"
            if acct not in seen:
                return _cross(key, f"expected the name of an [[accounts]] entry ({known}), "
                                   f"got {acct!r}")
            cli = accounts[seen[acct]].cli
            if cli != agent.adapter:
                return _cross(key, f"account {acct!r} is for {cli}, but agent {name!r} runs "
                                   f"the {agent.adapter} adapter: expected an account whose "
                                   f"cli is {agent.adapter!r}")
            if acct in agent.accounts[:j]:
                return _cross(key, f"account {acct!r} is listed twice")
    return None
