"""Small formatting helpers shared by the renderers: durations, money, ticks, safe text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from swarmtui.textsafe import term_safe

# Tick steps of a time axis, in seconds.
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
          86400)
# Characters XML 1.0 cannot hold even as references (term_safe has escaped the C0 controls).
_NOT_XML = re.compile("[\ufffe\uffff]")


def duration(s: float | None) -> str:
    """"4.2s", "45s", "3m07s", "2h05m"; "-" for none."""
    if s is None:
        return "-"
    if s < 10:
        return f"{s:.1f}s"
    n = round(s)
    if n < 60:
        return f"{n}s"
    if n < 3600:
        return f"{n // 60}m{n % 60:02d}s"
    return f"{n // 3600}h{n % 3600 // 60:02d}m"


def tick_label(s: float) -> str:
    """An axis label: "0", "30s", "1m", "1m30s", "2h"."""
    n = round(s)
    if n == 0:
        return "0"
    h, m, sec = n // 3600, n % 3600 // 60, n % 60
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return out


def usd(x: float | None) -> str:
    """"$12.34", "$0.0421"; "-" for none."""
    if x is None:
        return "-"
    return f"${x:,.2f}" if abs(x) >= 10 else f"${x:.4f}"


def ratio(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def percent(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest tick step that puts at most ``max_ticks`` ticks on ``span`` seconds."""
    for step in _STEPS:
        if span / step <= max(1, max_ticks):
            return float(step)
    return float(_STEPS[-1] * max(1, round(span / _STEPS[-1] / max(1, max_ticks))))


def ticks(span: float, max_ticks: int) -> list[float]:
    step = nice_step(span, max_ticks)
    n = int(span // step) if span > 0 else 0
    return [i * step for i in range(n + 1)]


def one_line(text: str, limit: int = 0) -> str:
    """Text for a terminal or a table cell: one line, controls shown escaped, cut at ``limit``
    characters (0: not cut)."""
    s = term_safe(" ".join(text.split()))
    if limit and len(s) > limit:
        return s[: max(0, limit - 1)] + "…"
    return s


def xml(text: str, limit: int = 0) -> str:
    """Text made safe for HTML and SVG (text and attribute values alike)."""
    return html.escape(_NOT_XML.sub("\ufffd", one_line(text, limit)), quote=True)


def cut_middle(text: str, n: int, tail: int | None = None) -> str:
    """``text`` in at most ``n`` characters, cut in the middle (``sub-t…anner-1``): ``tail``
    characters of its end are kept (default: half)."""
    if len(text) <= n:
        return text
    if n < 3:
        return text[:n]
    tail = (n - 1) // 2 if tail is None else max(0, min(tail, n - 1))
    return text[: n - 1 - tail] + "…" + (text[len(text) - tail:] if tail else "")


def distinct_cut(ids: Iterable[str], n: int) -> tuple[int, int]:
    """``(width, tail)`` for ``cut_middle`` that keeps every one of ``ids`` apart from the
    others: the narrowest width of at least ``n``, and at it the cut nearest the middle that
    does (ids that differ only in the middle keep that part rather than widen the column)."""
    unique = set(ids)
    longest = max((len(i) for i in unique), default=0)
    while n < longest:
        mid = (n - 1) // 2
        # Each end keeps a few characters: an id is still read from its start and its end.
        tails = range(min(2, mid), max(mid, n - 1 - max(3, n // 3)) + 1)
        for tail in sorted(tails, key=lambda t: (abs(t - mid), -t)):
            if len({cut_middle(i, n, tail) for i in unique}) == len(unique):
                return n, tail
        n += 1
    return n, (n - 1) // 2
