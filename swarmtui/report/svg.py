"""The timeline as an inline SVG, written by hand (no library, nothing fetched).

One lane per slot; one ``<rect class="bar bar--OUTCOME" data-attempt="TASK-N">`` per attempt,
with a ``<title>`` tooltip (agent text escaped); a ``retry-marker`` triangle at the start of
each retry, a ``merge-marker`` diamond on the lane's lower edge where a merge landed (a
dotted line back to the bar's end shows the wait for verification and the queue), and a time
axis. Colours are attributes, so the image renders the same on its own and in the HTML page.
"""

from __future__ import annotations

from swarmtui.report.figures import AttemptFigures, Merge, Report
from swarmtui.report.fmt import duration, tick_label, ticks, usd, xml
from swarmtui.report.timeline import LEGEND_WORDS, Scale, scale_of

PALETTE: dict[str, str] = {
    "bar--merged": "#2e9d5b",
    "bar--passed": "#8fd19e",
    "bar--failed-agent": "#d9534f",
    "bar--failed-check": "#ee8a2f",
    "bar--failed-api": "#a66bd6",
    "bar--failed-setup": "#c9a227",
    "bar--killed": "#8a8f98",
    "bar--lost": "#56657a",
    "bar--discarded": "#b9cbb3",
    "bar--unfinished": "#4a90d9",
}
MERGE_COLOUR = "#1b5e20"
RETRY_COLOUR = "#222222"

LEFT, RIGHT, TOP, LANE_H, BAR_H, AXIS_H = 64, 16, 10, 28, 18, 34
CHAR_W = 6.4  # px per character of an 11px label, near enough to decide whether it fits


def _n(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def tooltip(a: AttemptFigures, t0: float) -> str:
    """One attempt in words (not yet escaped)."""
    what = str(a.outcome) + (f" ({a.cause})" if a.cause is not None else "")
    parts = [f"{a.id} [{a.role}]", what,
             f"start +{duration(a.start - t0)}, {duration(a.duration_s)}"
             + ("" if a.exited else " (still running)"),
             f"{a.tokens:,} tokens, {usd(a.cost_usd) if a.priced else 'cost unknown'}"]
    if a.retry_after:
        parts.append(f"retry after {a.retry_after}")
    if a.reason:
        parts.append(a.reason)
    if a.summary:
        parts.append(f"summary: {a.summary}")
    return " · ".join(parts)


def _lane_y(lane: int) -> float:
    return TOP + lane * LANE_H


def _lanes(report: Report, plot_w: float) -> list[str]:
    out = ['<g class="lanes">']
    for i in range(len(report.lanes)):
        y = _lane_y(i)
        fill = "#f4f5f7" if i % 2 == 0 else "#eceef1"
        out.append(f'<rect class="lane" x="{LEFT}" y="{_n(y)}" width="{_n(plot_w)}" '
                   f'height="{LANE_H}" fill="{fill}"/>')
        out.append(f'<text class="lane-label" x="{LEFT - 8}" y="{_n(y + LANE_H / 2 + 4)}" '
                   f'text-anchor="end" font-size="11" fill="#444">slot {i + 1}</text>')
    out.append("</g>")
    return out


def _bar(a: AttemptFigures, scale: Scale, t0: float) -> list[str]:
    x = LEFT + scale.at(a.start)
    w = max(2.0, scale.at(a.end) - scale.at(a.start))
    y = _lane_y(a.lane) + (LANE_H - BAR_H) / 2
    style = a.style
    dash = ' stroke="#2b3440" stroke-dasharray="3 2"' if a.outcome == "lost" else ""
    out = [f'<rect class="bar {style}" data-attempt="{xml(a.id)}" data-outcome="{a.outcome}" '
           f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{BAR_H}" rx="2" '
           f'fill="{PALETTE.get(style, "#999")}"{dash}>'
           f"<title>{xml(tooltip(a, t0))}</title></rect>"]
    room = int((w - 8) // CHAR_W)
    label = a.id if len(a.id) <= room else a.id[: room - 1] + "…" if room >= 4 else ""
    if label:
        out.append(f'<text class="bar-label" x="{_n(x + 4)}" y="{_n(y + BAR_H / 2 + 4)}" '
                   f'font-size="11" fill="#fff" pointer-events="none">{xml(label)}</text>')
    return out


def _retry_marker(a: AttemptFigures, scale: Scale) -> str:
    x = LEFT + scale.at(a.start)
    y = _lane_y(a.lane) + (LANE_H - BAR_H) / 2 - 1
    return (f'<path class="retry-marker" data-attempt="{xml(a.id)}" '
            f'd="M{_n(x - 4)},{_n(y)} l8,0 l-4,6 z" fill="{RETRY_COLOUR}">'
            f"<title>{xml(f'{a.id}: retry after {a.retry_after}')}</title></path>")


def _merge_marker(m: Merge, a: AttemptFigures, scale: Scale, t0: float) -> str:
    """A diamond on the lower edge of the attempt's lane where the merge landed, and a dotted
    line back to the end of its bar (verification and the merge queue)."""
    x = LEFT + scale.at(m.time)
    end = LEFT + scale.at(a.end)
    y = _lane_y(a.lane) + LANE_H - 2
    what = "landed after its task moved on" if m.landed_late else "merged"
    text = (f"{a.id} {what} at +{duration(m.time - t0)}, "
            f"{duration(max(0.0, m.time - a.end))} after its agent exited")
    wait = (f'<line class="merge-wait" x1="{_n(end)}" y1="{_n(y)}" x2="{_n(x)}" y2="{_n(y)}" '
            f'stroke="{MERGE_COLOUR}" stroke-dasharray="1 2"/>' if x > end + 4 else "")
    return (f'{wait}<path class="merge-marker" data-attempt="{xml(a.id)}" '
            f'd="M{_n(x)},{_n(y - 4)} l4,4 l-4,4 l-4,-4 z" fill="{MERGE_COLOUR}">'
            f"<title>{xml(text)}</title></path>")


def _axis(report: Report, scale: Scale, plot_w: float) -> list[str]:
    y = _lane_y(len(report.lanes))
    out = ['<g class="axis" font-size="11" fill="#444">',
           f'<line x1="{LEFT}" y1="{_n(y)}" x2="{_n(LEFT + plot_w)}" y2="{_n(y)}" '
           'stroke="#888"/>']
    for s in ticks(report.wall_s, max(1, int(plot_w // 70))):
        x = LEFT + scale.at(report.started_at + s)
        out.append(f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x)}" y2="{_n(y + 5)}" '
                   'stroke="#888"/>')
        out.append(f'<text x="{_n(x)}" y="{_n(y + 18)}" text-anchor="middle">'
                   f"{tick_label(s)}</text>")
    out.append(f'<text x="{_n(LEFT + plot_w)}" y="{_n(y + 31)}" text-anchor="end">'
               f"time since the run started ({duration(report.wall_s)} in all)</text>")
    out.append("</g>")
    return out


def timeline_svg(report: Report, *, width: int = 960) -> str:
    """The timeline of ``report`` as an SVG document (also valid inline in HTML)."""
    plot_w = max(100.0, width - LEFT - RIGHT)
    lanes = max(1, len(report.lanes))
    height = TOP + lanes * LANE_H + AXIS_H
    scale = scale_of(report, plot_w)
    t0 = report.started_at
    label = xml(f"timeline of run {report.run}: {len(report.attempts)} attempts in "
                f"{len(report.lanes)} lanes")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
           'font-family="system-ui, sans-serif">',
           f"<title>{label}</title>"]
    out += _lanes(report, plot_w)
    out.append('<g class="bars">')
    for a in report.attempts:
        out += _bar(a, scale, t0)
    out.append("</g>")
    out.append('<g class="markers">')
    out += [_retry_marker(a, scale) for a in report.attempts if a.retry_after]
    by_key = {(a.task, a.attempt): a for a in report.attempts}
    out += [_merge_marker(m, by_key[(m.task, m.attempt)], scale, t0) for m in report.merges
            if (m.task, m.attempt) in by_key]
    out.append("</g>")
    out += _axis(report, scale, plot_w)
    out.append("</svg>")
    return "\n".join(out)


def legend_items(report: Report) -> list[tuple[str, str, str]]:
    """(style, colour, words) of the bar styles present, for a legend beside the image."""
    present = {a.style for a in report.attempts}
    return [(s, PALETTE[s], w) for s, w in LEGEND_WORDS.items() if s in present]
