"""Durations and sizes with units, and the annotation that says what a value should look like.

A file writes durations as "90s" or "1h30m" and sizes as "512MiB", so no value's unit has to be
guessed; Python callers may also give plain seconds or bytes. ``_Expect`` is the metadata the
error messages (see ``messages``) use to describe a value and to quote it as a file writes it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import annotated_types as at
from pydantic import BeforeValidator, PlainSerializer, ValidationInfo

# Validation context key set when the data comes from a file: there, a bare number for a
# duration or size is an error, because "90" could mean seconds or minutes.
_FROM_FILE = "from_file"


class _Expect:
    """Annotated metadata: how an error message describes what the value should be.

    ``show`` turns a validated value back into the way a file writes it, so that a value that
    parsed but broke a bound is quoted as the user wrote it ("0s", not 0.0).
    """

    def __init__(self, text: str, show: Callable[[Any], str] | None = None) -> None:
        self.text = text
        self.show = show

    def __repr__(self) -> str:
        return f"_Expect({self.text!r})"


# --- durations --------------------------------------------------------------------------------

_DURATION_EXPECTED = 'a duration with a unit such as "90s", "10m" or "1h"'
_DURATION_UNITS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_RE = re.compile(r"(?:\s*(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ms|[dhms]))+\s*")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|[dhms])")


def parse_duration(text: str) -> float:
    """Parse "500ms", "90s", "10m", "1h30m", "2d" into seconds.

    Parts must come largest unit first, each unit at most once. Raises ``ValueError`` for a
    bare number or a string without units, since the unit would have to be guessed.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {_DURATION_EXPECTED}, got {_describe_input(text)}")
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"expected {_DURATION_EXPECTED}, got {text!r}")
    order = list(_DURATION_UNITS)
    total = 0.0
    last_rank = -1
    for number, unit in _DURATION_PART_RE.findall(text):
        rank = order.index(unit)
        if rank <= last_rank:
            raise ValueError(
                f"expected {_DURATION_EXPECTED} with the largest unit first and each unit "
                f"once, got {text!r}"
            )
        last_rank = rank
        total += float(number) * _DURATION_UNITS[unit]
    return total


def format_duration(seconds: float) -> str:
    """Format seconds the way a config file writes them: 90 -> "1m30s", 0.5 -> "500ms".

    ``parse_duration(format_duration(x)) == x`` for whole milliseconds.
    """
    if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    millis = round(seconds * 1000)
    if abs(millis / 1000 - seconds) > 1e-9:
        # Finer than a millisecond: keep the precision as fractional seconds.
        return _trim_number(seconds) + "s"
    if millis == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _trim_number(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".") or "0"


def _validate_duration(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    from_file = bool(info.context and info.context.get(_FROM_FILE))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not from_file:
        return value  # Python callers may give seconds directly.
    raise ValueError(f"expected {_DURATION_EXPECTED}, got {_describe_input(value)}")


Duration = Annotated[
    float,
    BeforeValidator(_validate_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    _Expect(_DURATION_EXPECTED, format_duration),
]
"""Seconds as a float; written in files as a string with units."""

PositiveDuration = Annotated[
    Duration,
    at.Gt(0),
    _Expect('a duration longer than zero such as "90s", "10m" or "1h"', format_duration),
]


# --- sizes ------------------------------------------------------------------------------------

_SIZE_EXPECTED = 'a size with a unit such as "512MiB", "2GiB" or "100KB" (or "0")'
_SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]+)\s*")


def parse_size(text: str) -> int:
    """Parse "512MiB", "2GiB", "1GB", "100KiB", "10B" or "0" into bytes.

    KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024; units are case-insensitive.
    Raises ``ValueError`` for any other number without a unit.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {_SIZE_EXPECTED}, got {_describe_input(text)}")
    if text.strip() == "0":
        return 0
    match = _SIZE_RE.fullmatch(text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected {_SIZE_EXPECTED}, got {text!r}")
    return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_size(size: int) -> str:
    """Format bytes with the largest binary unit that divides them: 20971520 -> "20MiB"."""
    if isinstance(size, bool) or size < 0:
        raise ValueError(f"cannot format {size!r} as a size")
    if size == 0:
        return "0"
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        factor = _SIZE_UNITS[unit.lower()]
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def _validate_size(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return parse_size(value)
    from_file = bool(info.context and info.context.get(_FROM_FILE))
    if isinstance(value, int) and not isinstance(value, bool) and (value == 0 or not from_file):
        return value  # 0 is unambiguous; Python callers may give bytes directly.
    raise ValueError(f"expected {_SIZE_EXPECTED}, got {_describe_input(value)}")


Size = Annotated[
    int,
    BeforeValidator(_validate_size),
    at.Ge(0),
    PlainSerializer(format_size, return_type=str, when_used="json"),
    _Expect(_SIZE_EXPECTED, format_size),
]
"""Bytes as an int; written in files as a string with units."""


def _describe_input(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        shown = json.dumps(value, default=str)
        return shown if len(shown) <= 60 else f"an array of {len(value)} items"
    if isinstance(value, (int, float)):
        return repr(value)
    return repr(value) if isinstance(value, str) else f"{value}"

