"""Per-agent-CLI adapters: what can be learnt from an agent's own structured output.

State never comes from here alone (that is the protocol files' job); adapters add facts the
agent CLI reports itself: its session, API retries, usage limits, denied tool uses, and tokens
and cost per model.

The wrapper needs one adapter, and every module of this package is imported through this file:
so nothing here imports an adapter until it is asked for (``adapter_for`` imports the one named;
``ADAPTERS``, the whole table, imports them all on first use, as the supervisor's checks do).
A wrapper's start-up is part of every spawn (docs/performance.md, "Spawning N").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

    from swarmtui.engine.adapters.base import Adapter, Can

    ADAPTERS: dict[str, type[Adapter]]

# name -> (module under swarmtui.engine.adapters, class)
_WHERE: dict[str, tuple[str, str]] = {
    "generic": ("base", "GenericAdapter"), "claude": ("claude", "ClaudeAdapter"),
    "codex": ("codex", "CodexAdapter"), "gemini": ("gemini", "GeminiAdapter"),
    "opencode": ("opencode", "OpencodeAdapter"), "qwen": ("qwen", "QwenAdapter"),
    "aider": ("aider", "AiderAdapter"),
}


def adapter_class(name: str) -> type[Adapter] | None:
    """The adapter class for ``name`` (its module imported now), or None for an unknown one."""
    where = _WHERE.get(name)
    if where is None:
        return None
    cls: type[Adapter] = getattr(importlib.import_module(f"{__name__}.{where[0]}"), where[1])
    return cls


def __getattr__(name: str) -> Any:
    if name == "ADAPTERS":
        table = {n: adapter_class(n) for n in _WHERE}
        globals()["ADAPTERS"] = table  # built once; later lookups skip this function
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def adapter_for(name: str, extra: Mapping[str, Any] | None = None) -> Adapter:
    cls = adapter_class(name)
    if cls is None:
        raise ValueError(f"unknown adapter {name!r} (known: {', '.join(_WHERE)})")
    adapter = cls()
    adapter.configure(extra or {})
    return adapter


def capabilities(name: str) -> frozenset[Can]:
    cls = adapter_class(name)
    return cls.capabilities if cls is not None else frozenset()
