"""How long the API asks a review to wait, and the review's own deadline (no client import)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping


class OutOfTime(Exception):
    """The review's deadline passed before another attempt could start."""


class WaitTooLong(Exception):
    """The API asked to wait longer than the review has left."""

    def __init__(self, status: int, wait: float) -> None:
        super().__init__(f"HTTP {status}: retry after {wait:g} s")
        self.status = status
        self.wait = wait


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, then ``retry-after`` in seconds
    or as an HTTP date (the forms the client itself honours)."""
    try:
        return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
