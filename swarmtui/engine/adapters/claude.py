"""Claude Code (``claude -p --output-format stream-json``): usage from the ``result`` line.

Stream-json prints one JSON object per line; the last, ``{"type": "result", ...}``, carries
``total_cost_usd`` and ``usage`` (input/output/cache token counts).
"""

from __future__ import annotations

import json
from typing import Any

from swarmtui.engine.adapters.base import Adapter


class ClaudeAdapter(Adapter):
    name = "claude"

    def __init__(self) -> None:
        self._result: dict[str, Any] | None = None

    def observe(self, line: str) -> None:
        if not line.startswith("{") or '"result"' not in line:
            return
        try:
            obj = json.loads(line)
        except ValueError:
            return
        if isinstance(obj, dict) and obj.get("type") == "result":
            self._result = obj

    def usage(self) -> dict[str, Any]:
        r = self._result
        if not r:
            return {}
        u = r.get("usage") or {}
        tokens = sum(int(u.get(k) or 0) for k in (
            "input_tokens", "output_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens"))
        out: dict[str, Any] = {"tokens": tokens}
        if r.get("total_cost_usd") is not None:
            out["cost_usd"] = float(r["total_cost_usd"])
        if r.get("is_error"):
            out["agent_error"] = str(r.get("subtype") or "error")
        return out
