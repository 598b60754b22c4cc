"""The adapter interface and the generic adapter.

An adapter runs inside an agent's wrapper and sees each line the agent prints. It reports two
kinds of facts: *signals* while the agent runs (a session started, the API is being retried, a
usage limit, a tool use was denied), which the wrapper appends to the attempt's
``signals.jsonl`` for the supervisor to read within a second, and at the end an *outcome* for
``exit.json`` (tokens and cost per model, the session, how the agent's last turn ended). State
never comes from here alone: results.json and the exit record stay the canonical truth.

What a CLI can report or do differs: ``capabilities`` is the typed set of what swarmtui gets
from it, so the docs, ``doctor`` and the TUI can say what is missing instead of leaving a
silent gap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

Signal = dict[str, "Any"]
MAX_LINE = 4 * 1024 * 1024  # an output line longer than this is not parsed


def object_line(line: str) -> dict[str, Any] | None:
    """One line of an agent CLI's JSON output as an object, or None when it is not one (plain
    text, a line another writer interleaved, or one over ``MAX_LINE``). The wrapper has already
    dropped lines nested too deep to parse."""
    if not line.startswith("{") or len(line) > MAX_LINE:
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class Can(StrEnum):
    """One thing an agent CLI tells swarmtui or lets it do."""

    SESSION = "session"  # says its session id
    RESUME = "resume"  # a session can be continued (after a usage limit, a follow-up)
    ACTIVITY = "activity"  # turns and tool calls as they happen (signs of life)
    TOKENS = "tokens"  # tokens per model
    COST = "cost"  # cost in dollars, said by the CLI (otherwise: from [prices])
    API_RETRY = "api_retry"  # says when it retries the API
    ERROR_CLASS = "error_class"  # which API error ended it (auth, rate, usage, server, ...)
    LIMIT_RESET = "limit_reset"  # when a usage limit lifts (otherwise: a fallback wait)
    DENIALS = "denials"  # which tool uses its permissions refused
    CONTEXT_FILL = "context_fill"  # how full its context window is, per turn
    HOOKS = "hooks"  # calls back into swarmtui (waiting for input, stopped)
    APPROVAL_POLICY = "approval_policy"  # runs unattended under a policy swarmtui sets
    LIVE = "live"  # its running session takes the operator's answers, messages and interrupts
    INTERACTIVE = "interactive"  # its own interactive screen can run in the window (mode)


class Adapter:
    name = "base"
    # Which output lines observe() can learn anything from: "all"; "json" (only a line that
    # starts with "{", which object_line needs); "none". The wrapper hands it only those, so a
    # busy agent's other lines cost no decode and no parse.
    lines = "all"
    capabilities: frozenset[Can] = frozenset()
    auth_hint = "check the agent's API key and base URL"  # said when the API refuses the key

    def configure(self, extra: Mapping[str, Any]) -> None:
        """Launch facts the supervisor passed in ``launch.json`` (the model, a resumed
        session's tokens so far)."""

    def exited(self, code: int | None) -> None:
        """The agent's exit code, before ``usage`` (some CLIs say their error only there)."""

    def observe(self, line: str) -> list[Signal]:
        """Called with each complete output line (without its newline); returns signals."""
        return []

    def usage(self) -> dict[str, Any]:
        """What the agent CLI reported about the whole attempt, for exit.json."""
        return {}


class GenericAdapter(Adapter):
    """Knows the agent only through the protocol files."""

    name = "generic"
    lines = "none"
