"""What the adapters of other agent CLIs share: API error classes, reset times, small readers.

Codex CLI and Gemini CLI say why a call failed mostly in words (Codex prints no status code
for a usage limit or a spent quota; Gemini CLI wraps the API's JSON error in a sentence). The
adapter is the one place such words become a typed :class:`ErrorClass`; nothing after it reads
them. The patterns are those of the recorded transcripts in ``tests/data/{codex,gemini}``.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# A usage limit whose reset time the CLI did not say (Gemini CLI never does; Codex says only
# a clock time, sometimes nothing): dispatch for the account waits this long, then tries.
FALLBACK_WAIT = 30 * 60.0


class ErrorClass(StrEnum):
    """Why the API refused, as recorded in the outcome's ``api_error``."""

    AUTH = "authentication_failed"
    RATE_LIMIT = "rate_limit"  # a short-term rate limit: back off and retry
    USAGE_LIMIT = "usage_limit_reached"  # a plan's or quota's limit: wait for its reset
    OVERLOADED = "overloaded"
    SERVER = "server_error"
    CONTEXT = "context_too_long"
    OTHER = "api_error"


def status_class(status: int | None) -> ErrorClass | None:
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 429:
        return ErrorClass.RATE_LIMIT
    if status in (503, 529):
        return ErrorClass.OVERLOADED
    if status is not None and status >= 500:
        return ErrorClass.SERVER
    return None


_CLOCK = re.compile(r"try again at\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?")
_IN = re.compile(r"try again in\s+(\d+(?:\.\d+)?)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\b",
                 re.IGNORECASE)
RECENT = 5 * 60.0  # a named clock time this far in the past is taken as just due
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
          "hour": 3600, "d": 86400, "day": 86400}


def reset_from_text(text: str, now: float | None = None) -> float | None:
    """A reset time said in words: "try again at 7:37 AM" (a local clock time: its next
    occurrence) or "try again in 20 minutes"; None when the text names none."""
    now = time.time() if now is None else now
    m = _CLOCK.search(text)
    if m:
        hour, minute, half = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower()
        if half == "pm" and hour < 12:
            hour += 12
        elif half == "am" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            return None
        base = datetime.fromtimestamp(now)
        at = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if now - RECENT < at.timestamp() <= now:
            # The clock time is rounded to the minute: a reset due within the minute it names
            # (or said a moment late) is that minute's end, not the same time tomorrow.
            return at.timestamp() + 60
        if at.timestamp() <= now:
            at += timedelta(days=1)
        return at.timestamp()
    m = _IN.search(text)
    if m:
        return now + float(m.group(1)) * _UNITS[m.group(2).lower()]
    return None


def count(v: Any) -> int:
    """A token count: a finite non-negative number, else 0 (json.loads reads NaN, Infinity)."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    return min(int(v), 10**12) if ok else 0


def short(value: Any, n: int = 200) -> str:
    return "" if value is None else " ".join(str(value).split())[:n]


def model_usage(input_uncached: int, cache_read: int, cache_write: int,
                output: int) -> dict[str, Any]:
    """One model's entry of the exit record's ``models`` (cost left to the price table)."""
    return {"input": max(0, input_uncached), "output": max(0, output),
            "cache_read": max(0, cache_read), "cache_write": max(0, cache_write),
            "cost_usd": 0.0, "context_window": None}
