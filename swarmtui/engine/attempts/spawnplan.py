"""What a spawn fixes on the loop thread for the git worker that prepares the attempt."""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.config import AccountConfig
from swarmtui.engine.guard.quarantine import Guard
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.runners.base import PrepareJob
from swarmtui.model import TaskView
from swarmtui.model import payloads as p


@dataclass(frozen=True)
class Plan:
    """Everything the git worker needs, fixed on the loop thread."""

    task: TaskView  # a copy taken before the spawn event (the worker reads it freely)
    attempt: int
    prev: int | None
    job: PrepareJob
    ledger: tuple[LedgerEntry, ...]
    env: dict[str, str]
    prev_start_commit: str
    base: str
    target: str
    worktree: str  # a resumed attempt carries on in the previous attempt's worktree
    resume_session: str | None = None
    follow_up: str = ""
    api_key: str | None = None  # for the context count (never written anywhere)
    base_url: str | None = None
    guard: Guard | None = None  # screens every piece of agent text on its way into the prompt
    earlier: tuple[p.AgentExited, ...] = ()  # exit records of the resumed session's runs
    account: AccountConfig | None = None  # the [[accounts]] entry it runs on
    runner: str = "local"  # where it runs (its sandbox is built for this machine)
    agent: str = ""  # the agent config it runs (its account's CLI's); "": the task's
    crossed: str = ""  # the CLI a usage limit moved it from (a fresh session, same worktree)
    interactive: bool = False  # mode "interactive": the CLI's own screen (attempts/modes.py)
