"""What a task is (as declared) and what a run was started with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    """What to do: a task as declared in a task file or added at run time."""

    id: str
    title: str
    prompt: str
    role: str
    agent: str
    files: tuple[str, ...] = ()
    verify: str | None = None
    check: str | None = None  # a cheap readiness command run now and then while it works
    depends_on: tuple[str, ...] = ()
    max_attempts: int | None = None  # None: the config's retry.max_attempts
    priority: int = 0
    source: str = ""  # "tasks.toml", "cli", "spawn:<agent id>", ...
    parent: str | None = None  # the task that spawned this one
    depth: int = 0
    manual: bool = False  # added by an operator or a spawn: may use the reserve
    feature: dict[str, Any] | None = None  # {"file": ..., "index": n} for feature-list tasks
    accounts: tuple[str, ...] = ()  # accounts (or CLIs) to run on, in order: over role's, agent's
    mode: str = ""  # "stream" or "interactive"; "": its role's ([roles.NAME] mode)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["files"] = list(self.files)
        d["depends_on"] = list(self.depends_on)
        d["accounts"] = list(self.accounts)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        kw["files"] = tuple(kw.get("files") or ())
        kw["depends_on"] = tuple(kw.get("depends_on") or ())
        kw["accounts"] = tuple(kw.get("accounts") or ())
        return cls(**kw)


@dataclass(frozen=True)
class RunSettings:
    """How a run was started: a restarted supervisor runs on these, not on its caller's.

    ``config`` is the effective configuration as plain data (secret values replaced by a
    marker; see ``swarmtui.secrets``), ``config_path`` the file it came from (None: built-in
    defaults). The environment agents get follows ``run.pass_env`` in that config.
    """

    config: dict[str, Any]
    config_path: str | None = None
    config_digest: str = ""
    tasks_file: str = ""
