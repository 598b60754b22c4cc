"""File-scope locks: do two tasks' declared ``files`` globs possibly touch the same path?

Deciding glob intersection exactly is costly and rarely needed; this answers conservatively
(when unsure, it says they overlap) except where literal prefixes or suffixes prove the two can
never match one path. A wrongly reported overlap only delays a task; a missed one lets two agents
edit the same files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import lru_cache

_WILD = re.compile(r"[*?\[]")


def _split(pattern: str) -> tuple[str, str, bool]:
    """(literal prefix, literal suffix, has wildcard) of a normalised pattern."""
    m = _WILD.search(pattern)
    if not m:
        return pattern, pattern, False
    last = max(pattern.rfind("*"), pattern.rfind("?"), pattern.rfind("]"))
    return pattern[: m.start()], pattern[last + 1 :], True


def normalise(p: str) -> str:
    """Drop leading "./" prefixes (only those: ".env" keeps its dot); a directory (trailing
    slash) means everything under it, and the repository root means everything."""
    p = p.strip()
    is_dir = p.endswith("/")
    while p.startswith("./"):
        p = p[2:]
    p = p.rstrip("/")
    if p in ("", "."):
        return "**"
    return p + "/**" if is_dir else p


# The scheduler asks about the same pattern pairs every tick; the answer never changes.
@lru_cache(maxsize=65536)
def patterns_overlap(a: str, b: str) -> bool:
    a, b = normalise(a), normalise(b)
    if a == b:
        return True
    pa, sa, wa = _split(a)
    pb, sb, wb = _split(b)
    if not wa and not wb:
        return False  # two different literal paths
    if not wa:
        return fnmatchcase(a, b) or (b.endswith("/**") and a.startswith(b[:-2]))
    if not wb:
        return fnmatchcase(b, a) or (a.endswith("/**") and b.startswith(a[:-2]))
    # Both have wildcards: a common path must start with both prefixes and end with both
    # suffixes, so one of each pair must extend the other.
    if not (pa.startswith(pb) or pb.startswith(pa)):
        return False
    return sa.endswith(sb) or sb.endswith(sa)


def scopes_overlap(a: Iterable[str], b: Iterable[str]) -> bool:
    """True when some pattern of ``a`` may match a path that some pattern of ``b`` matches.
    An empty scope declares nothing, so it locks nothing."""
    bl = list(b)
    return any(patterns_overlap(x, y) for x in a for y in bl)


def out_of_scope(changed: list[str], scope: tuple[str, ...]) -> list[str]:
    """Changed paths that no declared glob matches (fnmatch's * also crosses '/')."""
    if not scope:
        return []
    pats = [normalise(p) for p in scope]  # the same reading of globs as the scope lock
    return [f for f in changed if not any(fnmatchcase(f, p) for p in pats)]
