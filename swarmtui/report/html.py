"""A run report as one self-contained HTML page: inline CSS and the inline SVG timeline.

Nothing is fetched (a Content-Security-Policy forbids it) and nothing runs: the page has no
script. Every piece of text that came from the log (ids, titles, summaries, reasons, model
names) is escaped, so an agent's ``<script>`` is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from swarmtui.report.figures import AttemptFigures, Report
from swarmtui.report.fmt import duration, percent, ratio, usd, xml
from swarmtui.report.svg import PALETTE, legend_items, timeline_svg

CSS = """
:root { --fg: #1d2330; --muted: #5b6474; --line: #dde1e7; --card: #f7f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: var(--muted); margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr));
         gap: 10px; margin-top: 18px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
        padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase;
           letter-spacing: .04em; }
.card .v { font-size: 20px; font-weight: 600; margin-top: 2px; }
.card .n { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 0; padding: 0;
          list-style: none; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
            vertical-align: -2px; margin-right: 5px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
        gap: 0 24px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { color: var(--muted); max-width: 420px; overflow-wrap: anywhere; }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px;
        color: #fff; white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _card(key: str, value: str, note: str = "") -> str:
    n = f'<div class="n">{xml(note)}</div>' if note else ""
    return (f'<div class="card"><div class="k">{xml(key)}</div>'
            f'<div class="v">{xml(value)}</div>{n}</div>')


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], num: frozenset[int] = frozenset()
           ) -> str:
    """A table of already escaped cells; columns in ``num`` are right-aligned."""
    def cls(i: int) -> str:
        return ' class="num"' if i in num else ""

    out = ["<table><thead><tr>"]
    out += [f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row))
                   + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cards(r: Report) -> str:
    s = r.slots
    cards = [
        _card("spend", usd(r.cost_usd), f"{r.tokens:,} tokens" + (
            "" if r.priced_attempts else "; no attempt reported a cost")),
        _card("per merged task", usd(r.cost_per_merged_task), f"{r.merged} merged"),
        _card("waste", usd(r.waste.cost_usd),
              f"{len(r.waste_ids)} attempts, {duration(r.waste.agent_s)} of agent time"
              + (f", {percent(r.waste_share)} of agent spend" if r.waste_share is not None
                 else "")),
        _card("parallelism", f"{ratio(r.parallelism)}x",
              f"{duration(r.agent_s)} of agents in {duration(r.wall_s)}"),
        _card("slots", f"peak {s.peak} / {s.max_agents}",
              f"mean {ratio(s.mean)}, {ratio(s.mean_busy)} while busy"),
        _card("retries", str(r.retries), ", ".join(f"{k} {v}" for k, v in
                                                   r.retries_by_cause.items())),
    ]
    if r.reviews.count:
        cards.append(_card("reviews", usd(r.reviews.cost_usd), f"{r.reviews.count} reviews"))
    return '<section class="cards">' + "".join(cards) + "</section>"


def _timeline(r: Report) -> str:
    legend = "".join(f'<li><i style="background:{colour}"></i>{xml(words)}</li>'
                     for _, colour, words in legend_items(r))
    marks = ""
    if any(a.retry_after for a in r.attempts):
        marks += "<li>▼ retry</li>"
    if r.merges:
        marks += "<li>◆ merge</li>"
    return (f'<h2>Timeline</h2><div class="scroll">{timeline_svg(r)}</div>'
            f'<ul class="legend">{legend}{marks}</ul>')


def _breakdowns(r: Report) -> str:
    parts = ['<section class="grid"><div><h2>Spend by role</h2>']
    parts.append(_table(["role", "attempts", "agent time", "tokens", "cost"], (
        [xml(k), str(v.attempts), duration(v.agent_s), f"{v.tokens:,}", usd(v.cost_usd)]
        for k, v in r.by_role.items()), frozenset({1, 2, 3, 4})))
    if r.by_account:
        for title, spend in (("account", r.by_account), ("CLI", r.by_cli)):
            parts.append(f"</div><div><h2>Spend by {title}</h2>")
            parts.append(_table([title, "attempts", "agent time", "tokens", "cost"], (
                [xml(k), str(v.attempts), duration(v.agent_s), f"{v.tokens:,}",
                 usd(v.cost_usd)] for k, v in spend.items()), frozenset({1, 2, 3, 4})))
    parts.append("</div><div><h2>Retries and failures by cause</h2>")
    causes = sorted(set(r.retries_by_cause) | set(r.failures_by_cause))
    parts.append(_table(["cause", "failures", "retries"], (
        [xml(c), str(r.failures_by_cause.get(c, 0)), str(r.retries_by_cause.get(c, 0))]
        for c in causes), frozenset({1, 2})))
    parts.append("</div>")
    if r.by_model:
        parts.append("<div><h2>Spend by model</h2>")
        parts.append(_table(["model", "input", "output", "cache read", "cache write", "cost"], (
            [xml(k), f"{u.input:,}", f"{u.output:,}", f"{u.cache_read:,}",
             f"{u.cache_write:,}", usd(u.cost_usd)] for k, u in r.by_model.items()),
            frozenset({1, 2, 3, 4, 5})))
        if r.unpriced_models:
            parts.append(f'<p class="sub">no price for {xml(", ".join(r.unpriced_models))}</p>')
        parts.append("</div>")
    if r.reviews.count:
        rv = r.reviews
        parts.append("<div><h2>Reviews</h2>")
        parts.append(_table(["reviews", "tokens in", "tokens out", "cost", "verdicts"], [[
            str(rv.count), f"{rv.tokens_in:,}", f"{rv.tokens_out:,}", usd(rv.cost_usd),
            xml(", ".join(f"{k} {v}" for k, v in rv.by_verdict.items())
                + (f", {rv.errors} failed" if rv.errors else ""))]], frozenset({0, 1, 2, 3})))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _tasks(r: Report) -> str:
    return "<h2>Tasks</h2>" + _table(
        ["task", "role", "state", "attempts", "first spawn to end", "tokens", "cost"],
        ([xml(t.id), xml(t.role), xml(t.state), str(len(t.attempts)), duration(t.lead_time_s),
          f"{t.tokens:,}", usd(t.cost_usd + t.review_cost_usd)] for t in r.tasks),
        frozenset({3, 4, 5, 6}))


def _pill(a: AttemptFigures) -> str:
    what = str(a.outcome) + (f" ({a.cause})" if a.cause is not None else "")
    return (f'<span class="pill {a.style}" style="background:{PALETTE.get(a.style, "#999")}">'
            f"{xml(what)}</span>")


def _attempts(r: Report) -> str:
    def note(a: AttemptFigures) -> str:
        bits = [a.reason, f"summary: {a.summary}" if a.summary else ""]
        return '<span class="text">' + xml(" · ".join(b for b in bits if b), 400) + "</span>"

    rows = ([xml(a.id), _pill(a), f"+{duration(a.start - r.started_at)}",
             duration(a.duration_s) + ("" if a.exited else " (running)"), f"{a.tokens:,}",
             usd(a.cost_usd) if a.priced else "-", xml(", ".join(a.models)), note(a)]
            for a in r.attempts)
    return "<h2>Attempts</h2>" + _table(
        ["attempt", "outcome", "start", "time", "tokens", "cost", "models", "reason or summary"],
        rows, frozenset({2, 3, 4, 5}))


def report_html(r: Report) -> str:
    """The whole page, as one string."""
    live = " (still running)" if r.live else ""
    sub = (f"{r.repo or 'repository'} · target {r.target or '-'} · {r.status}{live} · "
           f"started {_when(r.started_at)} · wall {duration(r.wall_s)}")
    return "\n".join([
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{xml(f'swarmtui report: run {r.run}')}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>Run {r.run}: the cost of parallelism</h1>"
        f'<p class="sub">{xml(sub)}</p></header>',
        _cards(r), _timeline(r), _breakdowns(r), _tasks(r), _attempts(r),
        "<footer>Made by swarmtui from the run's event log. An attempt holds a slot from its "
        "spawn to its agent's exit; waste is every attempt that failed, was killed, lost or "
        "discarded; parallelism is the sum of agent time over the wall time.</footer>",
        "</body></html>", ""])
