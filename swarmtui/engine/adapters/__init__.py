"""Per-agent-CLI adapters: what can be learnt from an agent's own structured output.

State never comes from here alone (that is the protocol files' job); adapters add facts the
agent CLI reports itself: its session, API retries, usage limits, denied tool uses, and tokens
and cost per model.
"""

from __future__ import annotations

from swarmtui.engine.adapters.base import Adapter, GenericAdapter
from swarmtui.engine.adapters.claude import ClaudeAdapter

ADAPTERS: dict[str, type[Adapter]] = {"generic": GenericAdapter, "claude": ClaudeAdapter}


def adapter_for(name: str) -> Adapter:
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise ValueError(f"unknown adapter {name!r} (known: {', '.join(ADAPTERS)})") from None
