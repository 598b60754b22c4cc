"""Payloads of what the agent CLI says about itself (read from signals.jsonl)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register


class Signal(Payload):
    """What the agent CLI said about itself; ``offset`` is how far signals.jsonl was read."""

    offset: int = 0


@_register
class AgentSession(Signal):
    KIND = EventKind.AGENT_SESSION
    session_id: str
    model: str = ""
    permission_mode: str = ""


@_register
class ApiRetry(Signal):
    """The agent CLI is retrying the API: alive, and counted as a heartbeat."""

    KIND = EventKind.API_RETRY
    attempt: int
    max_retries: int = 0
    delay_ms: int = 0
    status: int | None = None
    error: str = ""


@_register
class ApiErrorSeen(Signal):
    KIND = EventKind.API_ERROR
    error: str = ""
    status: int | None = None
    api_error: str = ""


@_register
class RateLimit(Signal):
    KIND = EventKind.RATE_LIMIT
    status: str  # allowed | allowed_warning | rejected
    resets_at: float | None = None
    limit_type: str = ""
    utilization: float | None = None


@_register
class PermissionDenied(Signal):
    KIND = EventKind.PERMISSION_DENIED
    tool: str
    rule: str = ""
    message: str = ""


@_register
class AgentHook(Signal):
    """A hook of the agent CLI fired (Notification, Stop, StopFailure): it waits for input, it
    stopped, or it stopped on an error."""

    KIND = EventKind.AGENT_HOOK
    event: str
    notification_type: str = ""
    message: str = ""
    error: str = ""
    at: float = 0.0  # when the CLI fired it (0: not said); its line may land after a later one's


@_register
class AgentActivity(Signal):
    """A turn started or a tool ran, as the agent CLI reported it (adapters without hooks):
    a sign of life, at most one every few seconds."""

    KIND = EventKind.AGENT_ACTIVITY
    turn: int = 0
    tools: int = 0
    tool: str = ""


@_register
class SetupRan(Signal):
    """The worktree's setup command (``[worktree] setup``, run by the wrapper before the agent):
    ``start``, then ``done`` or ``failed`` with its exit code, duration and output tail."""

    KIND = EventKind.SETUP
    phase: Literal["start", "done", "failed"]
    command: str = ""
    code: int | None = None
    seconds: float | None = None
    tail: str = ""


MAX_TURN_TOKENS = 100_000_000  # no answer carries more: a figure beyond this is not believed


@_register
class TurnUsage(Signal):
    """Tokens of one model answer as the agent CLI printed them (Claude Code's stream-json
    ``assistant`` and ``stream_event`` lines), an increment per answer: the first sight of an
    answer carries its input and cache tokens, a later line of the same answer only what grew
    (its output). ``cost_usd`` is priced by the supervisor from the price table
    (``engine/adapters/prices.py``), so it is an estimate; an attempt's exit record, when it
    carries the agent CLI's own figures, replaces the sum of its turns."""

    KIND = EventKind.TURN_USAGE
    message: str = ""  # the API message id
    model: str = ""
    input: int = Field(default=0, ge=0, le=MAX_TURN_TOKENS)
    output: int = Field(default=0, ge=0, le=MAX_TURN_TOKENS)
    cache_read: int = Field(default=0, ge=0, le=MAX_TURN_TOKENS)
    cache_write: int = Field(default=0, ge=0, le=MAX_TURN_TOKENS)
    cost_usd: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


@_register
class NetRefused(Signal):
    """A connection from an agent's box (``network = "api"``) to a host that is not its API,
    refused by the wrapper's proxy: the first refusal of each host, bounded per attempt. An
    agent CLI's own side traffic is refused too (recorded like any other)."""

    KIND = EventKind.NET_REFUSED
    host: str = ""
    port: int = 0
    why: str = ""
