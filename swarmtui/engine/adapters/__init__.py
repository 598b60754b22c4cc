"""Per-agent-CLI adapters: what can be learnt from an agent's own structured output.

State never comes from here alone (that is the protocol files' job); adapters add facts the
agent CLI reports itself: its session, API retries, usage limits, denied tool uses, and tokens
and cost per model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmtui.engine.adapters.aider import AiderAdapter
from swarmtui.engine.adapters.base import Adapter, Can, GenericAdapter
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.adapters.codex import CodexAdapter
from swarmtui.engine.adapters.gemini import GeminiAdapter
from swarmtui.engine.adapters.opencode import OpencodeAdapter
from swarmtui.engine.adapters.qwen import QwenAdapter

ADAPTERS: dict[str, type[Adapter]] = {"generic": GenericAdapter, "claude": ClaudeAdapter,
                                      "codex": CodexAdapter, "gemini": GeminiAdapter,
                                      "opencode": OpencodeAdapter, "qwen": QwenAdapter,
                                      "aider": AiderAdapter}


def adapter_for(name: str, extra: Mapping[str, Any] | None = None) -> Adapter:
    try:
        adapter = ADAPTERS[name]()
    except KeyError:
        raise ValueError(f"unknown adapter {name!r} (known: {', '.join(ADAPTERS)})") from None
    adapter.configure(extra or {})
    return adapter


def capabilities(name: str) -> frozenset[Can]:
    cls = ADAPTERS.get(name)
    return cls.capabilities if cls is not None else frozenset()
