"""Payloads of the run as a whole: start, resume, end, dispatch, limits, the inbox."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register
from swarmtui.model.spec import RunSettings


@_register
class RunStarted(Payload):
    KIND = EventKind.RUN_STARTED
    run: int
    repo: str
    base: str
    target: str
    tasks_file: str = ""
    pid: int = 0
    settings: RunSettings | None = None


@_register
class RunResumed(Payload):
    KIND = EventKind.RUN_RESUMED
    pid: int = 0
    settings: RunSettings | None = None  # set when the run's settings were replaced
    caller_config_differs: list[str] = Field(default_factory=list)


@_register
class RunFinished(Payload):
    KIND = EventKind.RUN_FINISHED
    ok: bool
    summary: dict[str, int] = Field(default_factory=dict)


@_register
class RunStopped(Payload):
    KIND = EventKind.RUN_STOPPED
    keep_agents: bool = False
    by: str = ""


@_register
class DispatchPaused(Payload):
    KIND = EventKind.DISPATCH_PAUSED
    by: str = ""


@_register
class DispatchResumed(Payload):
    KIND = EventKind.DISPATCH_RESUMED
    by: str = ""


@_register
class BreakerOpened(Payload):
    KIND = EventKind.BREAKER_OPENED
    reason: str
    failures: int = 0
    period_s: float = 0.0


@_register
class BudgetExhausted(Payload):
    KIND = EventKind.BUDGET_EXHAUSTED
    spent_usd: float
    budget_usd: float


@_register
class MemoryLow(Payload):
    KIND = EventKind.MEMORY_LOW
    available: int | None
    floor: int


@_register
class MemoryOk(Payload):
    KIND = EventKind.MEMORY_OK
    available: int | None = None


@_register
class DiskFull(Payload):
    KIND = EventKind.DISK_FULL
    error: str
    where: str = ""


@_register
class DiskOk(Payload):
    KIND = EventKind.DISK_OK


@_register
class SandboxChecked(Payload):
    """Whether this run's agents are sandboxed; ``why`` says why (some) are not."""

    KIND = EventKind.SANDBOX_CHECKED
    on: bool
    tool: str = ""  # bubblewrap's version when it works
    why: str = ""
    off: list[str] = Field(default_factory=list)  # agents running unsandboxed


@_register
class UsageLimited(Payload):
    KIND = EventKind.USAGE_LIMITED
    until: float
    account: str = ""
    limit_type: str = ""
    source: str = ""


@_register
class UsageLimitLifted(Payload):
    KIND = EventKind.USAGE_LIMIT_LIFTED
    until: float
    account: str = ""


@_register
class TmuxServerGone(Payload):
    KIND = EventKind.TMUX_SERVER_GONE
    count: int


@_register
class TmuxError(Payload):
    KIND = EventKind.TMUX_ERROR
    error: str


@_register
class WatcherRearmed(Payload):
    KIND = EventKind.WATCHER_REARMED
    reason: str


@_register
class SupervisorCrashed(Payload):
    """The supervisor's loop raised: what, where, and the (bounded) traceback. The same text
    is in ``.swarm/supervisor.log``; a restarted supervisor resumes the run from the log."""
    KIND = EventKind.SUPERVISOR_CRASHED
    error: str  # "<type>: <message>", one line
    thread: str = ""
    traceback: str = ""


@_register
class CommandApplied(Payload):
    KIND = EventKind.COMMAND_APPLIED
    id: int
    command: str
    source: str
    status: Literal["done", "failed", "refused"]
    result: dict[str, Any] = Field(default_factory=dict)


@_register
class AlertAcked(Payload):
    KIND = EventKind.ALERT_ACKED
    alert: int
    by: str = ""


@_register
class AgentHeld(Payload):
    """No new attempt of this agent config starts until an operator resumes dispatch (its API
    key was refused, say)."""

    KIND = EventKind.AGENT_HELD
    agent: str
    reason: str


@_register
class SpawnRefused(Payload):
    KIND = EventKind.SPAWN_REFUSED
    reason: str
    requester: str = ""
    prompt: str = ""
