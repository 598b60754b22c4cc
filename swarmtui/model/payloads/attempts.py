"""Payloads of an attempt's life: spawned, started, adopted, failed, exited."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from swarmtui.model.kinds import Cause, EventKind, ExitHow, Health
from swarmtui.model.payloads.base import Payload, _register


@_register
class AttemptSpawned(Payload):
    """The attempt holds a slot from here on; its worktree and window are being made."""

    KIND = EventKind.ATTEMPT_SPAWNED
    window: str
    worktree: str
    branch: str
    agent: str
    base: str = ""  # the ref it starts from
    handoff: bool = False
    runner: str = "local"
    resumes: str | None = None  # the agent session it continues
    resolving: list[str] = Field(default_factory=list)  # a resolver: files handed with markers
    account: str | None = None  # the [[accounts]] entry it runs on (None: the environment's)
    interactive: bool = False  # mode "interactive": the CLI's own screen in its window


@_register
class AttemptStarted(Payload):
    """Its worktree exists and its wrapper runs in its window."""

    KIND = EventKind.ATTEMPT_STARTED
    start_commit: str
    pane_pid: int | None = None


@_register
class AttemptAdopted(Payload):
    KIND = EventKind.ATTEMPT_ADOPTED
    window: str
    alive: bool


@_register
class AttemptFailed(Payload):
    KIND = EventKind.ATTEMPT_FAILED
    cause: Cause
    reason: str
    counts_attempt: bool
    counts_breaker: bool
    health: Health | None = None
    not_before: float | None = None


class ModelUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: float = 0.0
    context_window: int | None = None


class AgentOutcome(BaseModel):
    """How the agent CLI said its last turn ended (from its own structured output)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    is_error: bool = False
    subtype: str = ""
    terminal_reason: str = ""
    api_status: int | None = None
    api_error: str = ""
    message: str = ""
    denials: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


@_register
class AgentExited(Payload):
    KIND = EventKind.AGENT_EXITED
    how: ExitHow
    code: int | None = None
    signal: str | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    usage_limited_until: float | None = None
    limit_type: str = ""
    session_id: str | None = None
    models: dict[str, ModelUsage] = Field(default_factory=dict)
    outcome: AgentOutcome | None = None
    retry_delay_s: float | None = None  # the agent CLI's last API back-off, if it said one
    cost_estimated: bool = False  # some of cost_usd is from the price table, not the agent CLI
    usage_from_turns: bool = False  # tokens summed from the turns it printed (no result line)


@_register
class WorktreeCopied(Payload):
    """Untracked files (``[worktree] copy``) copied into a new worktree; ``missing`` names the
    entries that matched nothing, ``skipped`` those git tracks (never overwritten)."""

    KIND = EventKind.WORKTREE_COPIED
    files: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
