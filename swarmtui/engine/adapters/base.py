"""The adapter interface and the generic adapter.

An adapter runs inside an agent's wrapper and sees each line the agent prints. It reports two
kinds of facts: *signals* while the agent runs (a session started, the API is being retried, a
usage limit, a tool use was denied), which the wrapper appends to the attempt's
``signals.jsonl`` for the supervisor to read within a second, and at the end an *outcome* for
``exit.json`` (tokens and cost per model, the session, how the agent's last turn ended). State
never comes from here alone: results.json and the exit record stay the canonical truth.
"""

from __future__ import annotations

from typing import Any

Signal = dict[str, Any]


class Adapter:
    name = "base"

    def observe(self, line: str) -> list[Signal]:
        """Called with each complete output line (without its newline); returns signals."""
        return []

    def usage(self) -> dict[str, Any]:
        """What the agent CLI reported about the whole attempt, for exit.json."""
        return {}


class GenericAdapter(Adapter):
    """Knows the agent only through the protocol files."""

    name = "generic"
