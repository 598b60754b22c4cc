"""The timeline in a terminal: one lane per slot, each attempt a bar of block characters.

``terminal_timeline(report, width)`` is pure and returns lines of ``(text, style)`` segments,
each line at most ``width`` cells wide (for widths of 20 and more). A plain terminal reads it
without colour: each outcome has its own fill character, the bar starts with the attempt's id
when it fits (cut with ``…`` when it does not), a retry starts with ``↻``, and a row below
the lanes has a ``◆`` at the time each merge landed. Style names, for a front end that
colours them:

* ``bar--merged``, ``bar--passed``, ``bar--failed-agent``, ``bar--failed-check``,
  ``bar--failed-api``, ``bar--failed-setup``, ``bar--killed``, ``bar--lost``,
  ``bar--discarded``, ``bar--unfinished``: an attempt's bar (its label too);
* ``mark--retry``, ``mark--merge``: the markers; ``lane``: the lane numbers;
  ``axis``: the time axis; ``legend``: the legend's words; ``empty``: free time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from swarmtui.report.figures import AttemptFigures, Report
from swarmtui.report.fmt import one_line, tick_label, ticks

Segment = tuple[str, str]
Line = list[Segment]

# One fill character per bar style, so a terminal without colour still tells them apart.
FILL: dict[str, str] = {
    "bar--merged": "█",
    "bar--passed": "▓",
    "bar--failed-agent": "▒",
    "bar--failed-check": "▚",
    "bar--failed-api": "▙",
    "bar--failed-setup": "▟",
    "bar--killed": "░",
    "bar--lost": "▁",
    "bar--discarded": "▞",
    "bar--unfinished": "▄",
}
RETRY_MARK = "↻"
MERGE_MARK = "◆"
MIN_CELLS = 10
MIN_LABEL = 4  # a bar this many cells long shows its id, cut if need be

LEGEND_WORDS: dict[str, str] = {
    "bar--merged": "merged",
    "bar--passed": "passed",
    "bar--failed-agent": "failed (agent)",
    "bar--failed-check": "failed (check)",
    "bar--failed-api": "failed (API)",
    "bar--failed-setup": "failed (set-up)",
    "bar--killed": "killed",
    "bar--lost": "lost",
    "bar--discarded": "discarded",
    "bar--unfinished": "unfinished",
}


@dataclass(frozen=True)
class Scale:
    """Seconds since the run's start to cells (or pixels) of a plot ``size`` wide."""

    t0: float
    span: float
    size: float

    def at(self, t: float) -> float:
        if self.span <= 0:
            return 0.0
        return (t - self.t0) / self.span * self.size

    def cell(self, t: float) -> int:
        return min(int(self.size) - 1, max(0, math.floor(self.at(t))))

    def cell_end(self, t: float) -> int:
        """The last cell a span ending at ``t`` covers."""
        return min(int(self.size) - 1, max(0, math.ceil(self.at(t)) - 1))


def scale_of(report: Report, size: float) -> Scale:
    return Scale(report.started_at, report.wall_s, size)


def legend_styles(report: Report) -> list[str]:
    """The bar styles that occur in ``report``, in legend order."""
    present = {a.style for a in report.attempts}
    return [s for s in LEGEND_WORDS if s in present]


def fill_of(style: str) -> str:
    """The fill character of a bar style."""
    return FILL.get(style, "?")


class _Grid:
    def __init__(self, lanes: int, cells: int) -> None:
        self.cells = cells
        self.rows: list[list[Segment]] = [[(" ", "empty")] * cells for _ in range(lanes)]

    def put(self, lane: int, col: int, ch: str, style: str) -> None:
        if 0 <= lane < len(self.rows) and 0 <= col < self.cells:
            self.rows[lane][col] = (ch, style)

    def bar(self, a: AttemptFigures, scale: Scale) -> None:
        c0 = scale.cell(a.start)
        c1 = max(c0, scale.cell_end(a.end))
        style = a.style
        for c in range(c0, c1 + 1):
            self.put(a.lane, c, fill_of(style), style)
        room = c1 - c0 + 1
        label = (RETRY_MARK if a.retry_after else "") + one_line(a.id)
        if len(label) > room:
            label = (label[: room - 1] + "…" if room >= MIN_LABEL
                     else RETRY_MARK if a.retry_after else "")
        for i, ch in enumerate(label):
            self.put(a.lane, c0 + i, ch, "mark--retry" if ch == RETRY_MARK and i == 0
                     else style)


def _segments(cells: list[Segment]) -> Line:
    out: Line = []
    for ch, style in cells:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + ch, style)
        else:
            out.append((ch, style))
    return out


def _axis(scale: Scale, cells: int, pad: int) -> list[Line]:
    marks = [(scale.cell(scale.t0 + s), tick_label(s)) for s in ticks(scale.span, cells // 8)]
    ruler = ["─"] * cells
    labels = [" "] * cells
    free = 0
    for col, text in marks:
        ruler[col] = "┴"
        if col >= free and col + len(text) <= cells:
            labels[col:col + len(text)] = list(text)
            free = col + len(text) + 1
    return [[(" " * (pad - 1) + "└" + "".join(ruler), "axis")],
            [(" " * pad + "".join(labels).rstrip(), "axis")]]


def _legend(report: Report, width: int) -> list[Line]:
    items: list[Line] = [[(fill_of(s), s), (" " + LEGEND_WORDS[s], "legend")]
                         for s in legend_styles(report)]
    if any(a.retry_after for a in report.attempts):
        items.append([(RETRY_MARK, "mark--retry"), (" retry", "legend")])
    if report.merges:
        items.append([(MERGE_MARK, "mark--merge"), (" merge", "legend")])
    lines: list[Line] = []
    cur: Line = []
    used = 0
    for item in items:
        n = sum(len(t) for t, _ in item)
        if cur and used + 2 + n > width:
            lines.append(cur)
            cur, used = [], 0
        if cur:
            cur.append(("  ", "legend"))
            used += 2
        cur.extend(item)
        used += n
    if cur:
        lines.append(cur)
    return lines


def terminal_timeline(report: Report, width: int, *, legend: bool = True) -> list[Line]:
    """The timeline as lines of ``(text, style)`` segments at most ``width`` cells wide."""
    if not report.attempts:
        return [[("no attempts in this run", "empty")]]
    digits = len(str(len(report.lanes)))
    pad = digits + 2  # "12 │"
    cells = max(MIN_CELLS, width - pad)
    scale = scale_of(report, cells)
    grid = _Grid(len(report.lanes), cells)
    for a in report.attempts:
        grid.bar(a, scale)
    lines: list[Line] = []
    for i, row in enumerate(grid.rows):
        lines.append([(f"{i + 1:>{digits}} │", "lane"), *_segments(row)])
    if report.merges:
        merges: list[Segment] = [(" ", "empty")] * cells
        for m in report.merges:
            merges[scale.cell(m.time)] = (MERGE_MARK, "mark--merge")
        lines.append([(" " * (pad - 1) + "│", "lane"), *_segments(merges)])
    lines += _axis(scale, cells, pad)
    if legend:
        lines += _legend(report, max(width, pad + cells))
    return lines


def plain(lines: list[Line]) -> list[str]:
    """The lines' text without styles."""
    return ["".join(t for t, _ in line) for line in lines]
