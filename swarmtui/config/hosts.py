"""``[[hosts]]``: the machines agents may run on besides the supervisor's own.

Each entry is a host reached over SSH (``ssh`` is an alias from ``~/.ssh/config`` or
``[user@]host``) with its slot budget, the directory swarmtui works in there, and optionally the
roles it takes. One entry may be named ``local``: it is the supervisor's machine (no ``ssh``),
and its ``slots`` caps the agents run here (by default the local machine takes any slot of
``slots.max_agents``). Checks that involve several entries (unique names, roles that exist) are
``check_hosts``, called by ``Config``'s validator so the message names the entry's key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from swarmtui.config.units import PositiveDuration, _Expect

LOCAL_HOST = "local"

_HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
HostName = Annotated[
    str, StringConstraints(pattern=_HOST_NAME),
    _Expect("a host name of 1-32 letters, digits, '.', '_' or '-' that starts with a letter or "
            "digit"),
]
_DESTINATION = re.compile(r"^[^\s\-][^\s]*$")
_SSH_OPTION = re.compile(r"^[A-Za-z][A-Za-z0-9]*=[^\n]*$")
# Options that would break the transport (it owns its control socket and its proxy guard).
_OWN_OPTIONS = ("controlpath", "controlmaster", "controlpersist", "proxycommand", "batchmode")


def _cross(key: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("swarm_cross", "{message}", {"key": key, "message": message})


class HostConfig(BaseModel):
    """One ``[[hosts]]`` entry."""

    model_config = ConfigDict(extra="forbid")

    name: HostName
    """Shown in the hosts panel, ``status`` and ``swarmtui hosts``; ``local`` is this machine."""
    ssh: str = ""
    """The ssh destination: an alias from the ssh config, or ``[user@]host``."""
    slots: Annotated[int, at.Ge(0)] = 2
    """At most this many agents at once on the host (0: none; the total is slots.max_agents)."""
    workdir: Annotated[str, at.MinLen(1)] = "swarmtui"
    """Where swarmtui keeps clones, worktrees and agent files there (relative: to the remote
    home directory)."""
    roles: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """Only tasks of these roles run there (empty: every role)."""
    ssh_config: str = ""
    """An ssh client config file to use (``ssh -F``) instead of ``~/.ssh/config``."""
    ssh_options: list[str] = Field(default_factory=list)
    """Extra ``Key=Value`` options for every ssh to the host (``Port=2222``)."""
    python: Annotated[str, at.MinLen(1)] = "python3"
    """The Python on the host that has swarmtui installed (it runs the wrapper there)."""
    connect_timeout: PositiveDuration = 10.0
    lost_after: PositiveDuration = 15.0
    """A host unreachable this long has lost its attempts (they are requeued elsewhere once
    the orphan timeout says their agents have ended)."""

    @model_validator(mode="after")
    def _entry(self) -> HostConfig:
        if self.name == LOCAL_HOST:
            if self.ssh:
                raise _cross("ssh", "the host named `local` is this machine: it takes no "
                                    f"ssh destination, got {self.ssh!r}")
            return self
        if not self.ssh:
            raise _cross("ssh", f"host {self.name!r} needs an ssh destination (an alias from "
                                "~/.ssh/config or user@host)")
        if not _DESTINATION.match(self.ssh):
            raise _cross("ssh", f"expected an ssh destination without spaces that does not "
                                f"start with '-', got {self.ssh!r}")
        for i, opt in enumerate(self.ssh_options):
            if not _SSH_OPTION.match(opt):
                raise _cross(f"ssh_options.{i}", f"expected Key=Value, got {opt!r}")
            if opt.split("=", 1)[0].lower() in _OWN_OPTIONS:
                raise _cross(f"ssh_options.{i}", f"{opt.split('=', 1)[0]} is set by swarmtui "
                                                  "itself (one master connection per host)")
        return self


def check_hosts(hosts: Sequence[HostConfig], roles: set[str]) -> PydanticCustomError | None:
    """The first problem across entries: a repeated name, or a role no pool knows."""
    seen: dict[str, int] = {}
    for i, h in enumerate(hosts):
        if h.name in seen:
            return _cross(f"hosts.{i}.name", f"host {h.name!r} is named twice (first as "
                                              f"hosts[{seen[h.name]}])")
        seen[h.name] = i
        for j, role in enumerate(h.roles):
            if role not in roles:
                known = ", ".join(sorted(roles)) or "none"
                return _cross(f"hosts.{i}.roles.{j}", f"expected a role from [slots.pools] "
                                                        f"({known}), got {role!r}")
    return None
