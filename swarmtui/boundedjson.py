"""JSON that an agent wrote, parsed within bounds.

``json.loads`` recurses once per level of nesting: a file of 100,000 ``[`` raises RecursionError
(which nobody expects from a parser), and a few hundred levels parse but cannot be stored and read
back. So every JSON an agent controls is measured first, without recursion and in linear time:
its size against a cap, and its nesting (brackets counted outside strings) against a depth.
Only then is it parsed. A refusal says which limit, and what the limit is.
"""

from __future__ import annotations

import json
from array import array
from itertools import accumulate

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

# The refusals this module makes, by the values of ``model.kinds.Refusal`` (not imported: the
# hook and the wrapper use this module and must start without loading the model).
TOO_LARGE = "too_large"
TOO_DEEP = "too_deep"
MAX_DEPTH = 32  # the protocol's objects are two or three levels deep
STREAM_MAX_DEPTH = 64  # an agent CLI's own output lines (tool inputs nest a little more)

# Brackets become +1 / -1 (as signed bytes) and everything else is deleted, in one C pass.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


class JsonRefused(ValueError):
    """Not parsed: over a limit. ``refusal`` is which (too large, too deep), ``limit`` its
    value, ``found`` what the text had (bytes, or a depth past the limit)."""

    def __init__(self, refusal: str, limit: int, found: int, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.limit = limit
        self.found = found


_CHUNK = 1 << 14


def nesting_depth(text: str, stop: int | None = None) -> int:
    """How deep ``json.loads`` would recurse on ``text``: the most brackets open at once outside
    strings (exact for valid JSON; for invalid JSON at least as deep as the parser gets before
    it fails). Linear time, no recursion. With ``stop``, it may return as soon as the depth is
    known to be over it."""
    if "[" not in text and "{" not in text:
        return 0
    data = text.encode("utf-8", "surrogatepass")
    # Escapes first (pairs of backslashes, then escaped quotes), so every quote left opens or
    # closes a string; then every other piece between quotes is outside a string.
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(data.split(b'"')[::2])
    steps = outside.translate(_BRACKETS, _NOT_BRACKETS)
    if not steps:
        return 0
    signed = array("b", steps)
    depth = best = 0
    for at in range(0, len(signed), _CHUNK):  # in pieces, so a deep file is refused early
        sums = list(accumulate(signed[at:at + _CHUNK], initial=depth))
        depth, best = sums[-1], max(best, max(sums))
        if stop is not None and best > stop:
            break
    return best


def too_deep(text: str, max_depth: int) -> bool:
    """Whether ``text`` nests deeper than ``max_depth``; cheap when it plainly does not."""
    if text.count("[") + text.count("{") <= max_depth:
        return False  # not even that many opening brackets: the common case costs two counts
    return nesting_depth(text, stop=max_depth) > max_depth


def check(text: str, *, max_chars: int, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonRefused when ``text`` is over ``max_chars`` or nests deeper than ``max_depth``."""
    if len(text) > max_chars:
        raise JsonRefused(TOO_LARGE, max_chars, len(text),
                          f"{len(text)} characters, over the {max_chars}-character cap")
    if too_deep(text, max_depth):
        raise JsonRefused(TOO_DEEP, max_depth, nesting_depth(text, stop=max_depth),
                          f"nested deeper than {max_depth} levels")


def loads(text: str | bytes, *, max_chars: int, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` within bounds. Raises JsonRefused over a limit and ValueError when the text
    is not JSON (a number too long to convert included); never RecursionError."""
    if isinstance(text, bytes):
        if len(text) > max_chars:
            raise JsonRefused(TOO_LARGE, max_chars, len(text),
                              f"{len(text)} bytes, over the {max_chars}-byte cap")
        text = text.decode("utf-8", "replace")
    check(text, max_chars=max_chars, max_depth=max_depth)
    return json.loads(text)


# A summary of a value nobody asked for: scalars as they are (strings and numbers bounded),
# containers by their shape. Never the value itself, so nothing unbounded reaches the log.
Scalar = str | int | float | bool | None
SUMMARY_KEYS = 20
SUMMARY_KEY_CHARS = 64
SUMMARY_STR_CHARS = 300
_INT_BOUND = 2 ** 53


def summarise(value: Any) -> Scalar:
    """A bounded, flat stand-in for ``value`` (a JSON value an agent wrote)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT_BOUND <= value <= _INT_BOUND else f"<integer of {len(str(value))} " \
            "digits>" if abs(value) < 10 ** 4000 else "<integer too long>"
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str):
        return _clean(value)[:SUMMARY_STR_CHARS]
    if isinstance(value, list):
        return f"<list of {len(value)} items>"
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>"
    return f"<{type(value).__name__}>"


def summarise_keys(obj: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()
                   ) -> dict[str, Scalar]:
    """Unknown keys of an agent's object, each reduced by ``summarise``; at most
    ``SUMMARY_KEYS`` of them, with the count of the rest under ``"<more keys>"``."""
    out: dict[str, Scalar] = {}
    rest = 0
    for k, v in obj.items():
        if k in skip:
            continue
        if len(out) >= SUMMARY_KEYS:
            rest += 1
            continue
        out[_clean(str(k))[:SUMMARY_KEY_CHARS]] = summarise(v)
    if rest:
        out["<more keys>"] = rest
    return out


def _clean(text: str) -> str:
    from swarmtui.textsafe import clean_text

    return clean_text(text)
