"""The figures of bench/fleet.py as a text table, a markdown table, and the goals of issue 12
with pass or miss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Res = dict[str, Any]


def get(r: Res, *path: str) -> Any:
    cur: Any = r
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        s = f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    else:
        s = str(v)
    return s + unit


# (label, getter) for the per-N table
ROWS: list[tuple[str, Callable[[Res], str]]] = [
    ("spawn N attempts (s)", lambda r: fmt(r.get("spawn_s"))),
    ("status --json wall (ms, median)", lambda r: fmt(get(r, "status_json_ms", "median"))),
    ("event latency idle p50/p95/p99 (ms)", lambda r: "/".join(
        fmt(get(r, "event_latency", "idle", k)) for k in ("p50", "p95", "p99"))),
    ("event latency busy p50/p95/p99 (ms)", lambda r: "/".join(
        fmt(get(r, "event_latency", "busy", k)) for k in ("p50", "p95", "p99"))),
    ("  idle p95: watcher/queue/handler (ms)", lambda r: "/".join(
        fmt(get(r, "event_latency_parts", "idle", k, "p95"))
        for k in ("watcher", "queue", "handler"))),
    ("  busy p95: watcher/queue/handler (ms)", lambda r: "/".join(
        fmt(get(r, "event_latency_parts", "busy", k, "p95"))
        for k in ("watcher", "queue", "handler"))),
    ("  lines measured idle/busy", lambda r: "/".join(
        fmt(get(r, "event_latency", k, "n")) for k in ("idle", "busy"))),
    ("UI latency painted p50/p95 idle (ms)", lambda r: "/".join(
        fmt(get(r, "ui_latency", "idle", "painted", k)) for k in ("p50", "p95"))),
    ("UI latency painted p50/p95 busy (ms)", lambda r: "/".join(
        fmt(get(r, "ui_latency", "busy", "painted", k)) for k in ("p50", "p95"))),
    ("supervisor CPU idle/busy (% core)", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "supervisor")) for k in ("idle", "busy"))),
    ("  its git/tmux children idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "supervisor_children")) for k in ("idle", "busy"))),
    ("wrappers CPU sum idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "wrappers")) for k in ("idle", "busy"))),
    ("tmux server CPU idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "tmux")) for k in ("idle", "busy"))),
    ("whole supervision idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "whole")) for k in ("idle", "busy"))),
    ("headless events window idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "follower")) for k in ("idle", "busy"))),
    ("watch TUI CPU idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "cpu_pct", "watch")) for k in ("idle", "busy"))),
    ("agents (synthetic) / bench itself", lambda r: "/".join(
        fmt(get(r, "phases", "busy", "cpu_pct", k)) for k in ("agents", "bench"))),
    ("baseline poller CPU (% core)", lambda r: fmt(r.get("baseline_cpu_pct"))),
    ("  baseline pass (s, median)", lambda r: fmt(get(r, "phases", "baseline", "baseline",
                                                      "pass_s_median"))),
    ("supervision / baseline", lambda r: fmt(r.get("supervision_over_baseline"))),
    ("supervisor peak RSS (MB)", lambda r: fmt(get(r, "peak_rss_mb", "supervisor", "max"))),
    ("wrapper peak RSS max (MB)", lambda r: fmt(get(r, "peak_rss_mb", "wrappers", "max"))),
    ("wrapper PSS mean (MB)", lambda r: fmt(get(r, "phases", "busy", "mem",
                                                "wrapper_pss_mb_mean"))),
    ("wrappers RSS sum (MB)", lambda r: fmt(get(r, "phases", "busy", "mem",
                                                "wrapper_rss_mb_sum"))),
    ("tmux server RSS idle/busy end (MB)", lambda r: "/".join(
        fmt(get(r, "phases", k, "mem", "tmux_rss_mb")) for k in ("idle", "busy"))),
    ("watch TUI peak RSS (MB)", lambda r: fmt(get(r, "peak_rss_mb", "watch", "max"))),
    ("max tick idle/busy (ms)", lambda r: "/".join(
        fmt(get(r, "phases", k, "ticks", "length", "max")) for k in ("idle", "busy"))),
    ("FilesChanged batches/s idle/busy", lambda r: "/".join(
        fmt(round((get(r, "phases", k, "files_changed", "batches") or 0)
                  / (get(r, "phases", k, "seconds") or 1), 2)) for k in ("idle", "busy"))),
    ("  handler p50/max busy (ms)", lambda r: "/".join(
        fmt(get(r, "phases", "busy", "files_changed", "handler", k)) for k in ("p50", "max"))),
    ("max tick whole run (ms)", lambda r: fmt(get(r, "ticks_whole_run", "length", "max"))),
    ("ticks > 100 ms, whole run", lambda r: fmt(get(r, "ticks_whole_run", "over_100ms"))),
    ("tmux cmds/s idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "tmux_per_s")) for k in ("idle", "busy"))),
    ("tmux cmds per tick idle", lambda r: fmt(get(r, "phases", "idle", "tmux_per_tick"))),
    ("git cmds/s idle/busy", lambda r: "/".join(
        fmt(get(r, "phases", k, "git_per_s")) for k in ("idle", "busy"))),
    ("progress lines / events", lambda r: f"{fmt(get(r, 'correctness', 'lines'))}/"
                                          f"{fmt(get(r, 'correctness', 'progress_events'))}"),
    ("missed lines / stuck kills", lambda r: f"{fmt(get(r, 'correctness', 'lines_without_event'))}"
                                             f"/{fmt(get(r, 'correctness', 'stuck_kills'))}"),
    ("finish after done (s)", lambda r: fmt(get(r, "facts", "finish_s"))),
]


def table(results: list[Res]) -> list[list[str]]:
    head = ["metric", *[f"N={r['n']}" for r in results]]
    return [head, *[[label, *[f(r) for r in results]] for label, f in ROWS]]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                             for i, c in enumerate(r)))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


# -- goals -----------------------------------------------------------------------------------------

def _at(results: list[Res], n: int) -> tuple[Res | None, str]:
    """The result at N=n, else the nearest N run (and a note saying so)."""
    for r in results:
        if r["n"] == n:
            return r, ""
    if not results:
        return None, ""
    r = min(results, key=lambda x: abs(int(x["n"]) - n))
    return r, f" (at N={r['n']}; N={n} not run)"


def goals(results: list[Res], forecast: Res | None) -> list[tuple[str, str, str]]:
    """(goal, measured, pass/miss) rows."""
    out: list[tuple[str, str, str]] = []

    def add(goal: str, value: float | None, limit: float, shown: str, note: str = "",
            *, le: bool = True) -> None:
        if value is None:
            out.append((goal, "not measured" + note, "-"))
            return
        ok = value <= limit if le else value >= limit
        out.append((goal, shown + note, "pass" if ok else "MISS"))

    r, note = _at(results, 100)
    if r is not None:
        for label, k, lim in (("supervisor CPU idle <= 3%", "idle", 3.0),
                              ("supervisor CPU busy <= 10%", "busy", 10.0)):
            v = get(r, "phases", k, "cpu_pct", "supervisor")
            add(f"100 agents: {label}", v, lim, f"{fmt(v)}%", note)
        for label, k, lim in (("whole supervision idle <= 10%", "idle", 10.0),
                              ("whole supervision busy <= 25%", "busy", 25.0)):
            v = get(r, "phases", k, "cpu_pct", "whole")
            add(f"100 agents: {label}", v, lim, f"{fmt(v)}%", note)
        ratio = r.get("supervision_over_baseline")
        add("100 agents: supervision <= 1/20 of the polling baseline", ratio, 0.05,
            f"{fmt(ratio)} ({fmt(get(r, 'phases', 'idle', 'cpu_pct', 'whole'))}% vs "
            f"{fmt(r.get('baseline_cpu_pct'))}%)", note)
        for k in ("idle", "busy"):
            p95 = get(r, "event_latency", k, "p95")
            p99 = get(r, "event_latency", k, "p99")
            add(f"100 agents: event latency {k} p95 <= 100 ms", p95, 100.0, f"{fmt(p95)} ms",
                note)
            add(f"100 agents: event latency {k} p99 <= 250 ms", p99, 250.0, f"{fmt(p99)} ms",
                note)
        for k in ("idle", "busy"):
            v = get(r, "ui_latency", k, "painted", "p95")
            add(f"100 agents: UI latency {k} p95 <= 100 ms", v, 100.0, f"{fmt(v)} ms", note)
            v = get(r, "phases", k, "cpu_pct", "watch")
            add(f"100 agents: watch TUI {k} <= 5% of a core", v, 5.0, f"{fmt(v)}%", note)
        v = r.get("spawn_s")
        add("spawning 100 attempts <= 5 s", v, 5.0, f"{fmt(v)} s", note)
    worst_wrap = max((get(x, "peak_rss_mb", "wrappers", "max") or 0.0 for x in results),
                     default=None)
    pss = [get(x, "phases", "busy", "mem", "wrapper_pss_mb_mean") for x in results]
    add("wrapper memory <= 8 MB each (peak RSS, any N)", worst_wrap, 8.0,
        f"{fmt(worst_wrap)} MB RSS (PSS mean {fmt(max((p for p in pss if p), default=None))}"
        " MB)")
    per_pane = [(x["n"], (get(x, "peak_rss_mb", "tmux", "max") or 0.0) / x["n"])
                for x in results if x["n"] >= 50]
    if len(per_pane) >= 2:
        first, last = per_pane[0][1], per_pane[-1][1]
        add("tmux server memory bounded (RSS per pane does not grow with N)", last,
            1.5 * first, ", ".join(f"N={n}: {v:.2f} MB/pane" for n, v in per_pane))
    else:
        out.append(("tmux server memory bounded", "needs two runs with N >= 50", "-"))
    ticks = [(x["n"], max(get(x, "phases", "idle", "ticks", "length", "max") or 0.0,
                          get(x, "phases", "busy", "ticks", "length", "max") or 0.0))
             for x in results]
    worst = max((t for _, t in ticks), default=None)
    add("no tick longer than 100 ms (idle and busy, every N)", worst, 100.0,
        ", ".join(f"N={n}: {t:.0f} ms" for n, t in ticks))
    whole = [(x["n"], get(x, "ticks_whole_run", "length", "max") or 0.0) for x in results]
    add("no tick longer than 100 ms (whole run, spawning included)",
        max((t for _, t in whole), default=None), 100.0,
        ", ".join(f"N={n}: {t:.0f} ms" for n, t in whole))
    per_tick = [(x["n"], get(x, "phases", "idle", "tmux_per_tick")) for x in results]
    vals = [v for _, v in per_tick if v is not None]
    if len(vals) >= 2:
        spread = max(vals) - min(vals)
        add("tmux commands per tick constant in N", spread, 0.5,
            ", ".join(f"N={n}: {fmt(v)}" for n, v in per_tick))
    r5, note5 = _at(results, 500)
    if r5 is not None:
        v = get(r5, "status_json_ms", "median")
        add("status --json <= 150 ms at 500 agents", v, 150.0, f"{fmt(v)} ms", note5)
        v = get(r5, "peak_rss_mb", "supervisor", "max")
        logs = get(r5, "facts", "logs_on_disk_bytes")
        add("supervisor peak RSS <= 200 MB at 500 agents with 1 GB of logs", v, 200.0,
            f"{fmt(v)} MB with {fmt((logs or 0) / 1e9)} GB of logs", note5)
    if forecast is not None:
        v = forecast.get("after_one_moved_s")
        add(f"forecast after one branch moves <= 2 s at {forecast['branches']} branches", v,
            2.0, f"{fmt(v)} s (first pass {fmt(forecast.get('first_pass_s'))} s)")
    bad = [x["n"] for x in results if (get(x, "correctness", "lines_without_event") or 0) > 0
           or (get(x, "correctness", "stuck_kills") or 0) > 0]
    out.append(("no missed progress line, no stuck kill (every N)",
                "ok at every N" if not bad else f"problems at N={bad}",
                "pass" if not bad else "MISS"))
    return out


def goals_text(rows: list[tuple[str, str, str]]) -> str:
    w = max(len(g) for g, _, _ in rows)
    return "\n".join(f"{ok:<5} {g.ljust(w)}  {v}" for g, v, ok in rows)


def goals_md(rows: list[tuple[str, str, str]]) -> str:
    out = ["| goal | measured | |", "|---|---|---|"]
    out += [f"| {g} | {v} | {'pass' if ok == 'pass' else ('**miss**' if ok == 'MISS' else ok)} |"
            for g, v, ok in rows]
    return "\n".join(out)
