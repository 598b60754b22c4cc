"""The adapter interface and the generic adapter."""

from __future__ import annotations

from typing import Any


class Adapter:
    """Sees each line the agent prints (in the wrapper) and reports usage at the end."""

    name = "base"

    def observe(self, line: str) -> None:
        """Called with each complete output line, without its newline."""

    def usage(self) -> dict[str, Any]:
        """Tokens and cost as far as the agent reported them: ``tokens``, ``cost_usd``."""
        return {}


class GenericAdapter(Adapter):
    """Knows the agent only through the protocol files."""

    name = "generic"
