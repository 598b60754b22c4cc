"""Claude Code (``claude -p --output-format stream-json``): usage from the ``result`` line.

Stream-json prints one JSON object per line; the last, ``{"type": "result", ...}``, carries
``total_cost_usd`` and ``usage`` (input/output/cache token counts).
"""

from __future__ import annotations

import json
import re
import time
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
            until = usage_limit_until(str(r.get("result") or ""))
            if until is not None:
                out["usage_limited_until"] = until
        return out


# Claude Code ends a run that hit the plan's usage limit with an error result whose text says
# so, older versions as "Claude AI usage limit reached|<unix time of the reset>".
_LIMIT_EPOCH = re.compile(r"usage limit reached\|(\d{9,11})", re.IGNORECASE)
_LIMIT_TEXT = re.compile(r"(usage|rate|session|5-hour|weekly) limit (reached|exceeded)",
                         re.IGNORECASE)
FALLBACK_WAIT = 30 * 60.0  # when the text names no reset time


def usage_limit_until(text: str, now: float | None = None) -> float | None:
    """The unix time the usage limit lifts, if ``text`` reports one being hit."""
    m = _LIMIT_EPOCH.search(text)
    if m:
        return float(m.group(1))
    if _LIMIT_TEXT.search(text):
        return (time.time() if now is None else now) + FALLBACK_WAIT
    return None
