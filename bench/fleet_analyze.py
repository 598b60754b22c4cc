"""Turning one finished ``FleetRun`` into its figures (a plain dict, saved as JSON)."""

from __future__ import annotations

import statistics
from typing import Any

import fleet_stats as fs
from fleet_run import FleetRun, Phase

MB = 1024 * 1024
WHOLE = ("supervisor", "supervisor_children", "wrappers", "tmux")  # the cost of supervision


def share(cpu_s: float, wall_s: float) -> float:
    """CPU seconds over a wall interval as a percentage of one core."""
    return round(100.0 * cpu_s / wall_s, 2) if wall_s > 0 else 0.0


def phase_cpu(ph: Phase) -> dict[str, float]:
    w = ph.window.seconds
    g = ph.groups
    out: dict[str, float] = {}
    for role in ("supervisor", "wrappers", "tmux", "follower", "watch", "agents", "baseline",
                 "bench"):
        if role in g:
            out[role] = share(g[role].cpu(), w)
    if "supervisor" in g:
        out["supervisor_children"] = share(g["supervisor"].child_cpu(), w)
    if "baseline" in g:
        out["baseline_children"] = share(g["baseline"].child_cpu(), w)
    out["whole"] = round(sum(out.get(k, 0.0) for k in WHOLE), 2)
    return out


def phase_mem(ph: Phase) -> dict[str, Any]:
    g = ph.groups
    out: dict[str, Any] = {}
    if "supervisor" in g:
        out["supervisor_rss_mb"] = round(max(g["supervisor"].rss.values() or [0]) / MB, 1)
    if "tmux" in g:
        out["tmux_rss_mb"] = round(max(g["tmux"].rss.values() or [0]) / MB, 1)
    if "wrappers" in g and g["wrappers"].rss:
        w = g["wrappers"]
        out["wrapper_rss_mb_max"] = round(max(w.rss.values()) / MB, 1)
        out["wrapper_rss_mb_sum"] = round(sum(w.rss.values()) / MB, 1)
        if w.pss:
            out["wrapper_pss_mb_mean"] = round(statistics.mean(w.pss.values()) / MB, 2)
    if "watch" in g and g["watch"].rss:
        out["watch_rss_mb"] = round(max(g["watch"].rss.values()) / MB, 1)
    return out


def analyze(run: FleetRun) -> dict[str, Any]:
    n = run.n
    res: dict[str, Any] = {"n": n, "facts": {k: v for k, v in run.facts.items()
                                             if k not in ("peak",)}}
    events = fs.read_events(run.db)
    lines = fs.read_lines(run.repo / ".swarm" / "agents")
    windows = [ph.window for name, ph in run.phases.items() if name in ("idle", "busy")]
    lat, ev_time = fs.event_latency(lines, events, windows, run.facts.get("t_done"))
    res["event_latency"] = lat
    res["ui_latency"] = fs.ui_latency(fs.read_watch(run.watch_out), ev_time, events, windows)
    t_run = run.facts.get("t_run_started")
    t_all = run.facts.get("t_all_started")
    res["spawn_s"] = round(t_all - t_run, 2) if t_run and t_all else None
    st = run.facts.get("status_json_s") or []
    res["status_json_ms"] = {"median": round(statistics.median(st) * 1000, 1) if st else None,
                             "min": round(min(st) * 1000, 1) if st else None}
    failed = [e for e in events if e.kind == "attempt_failed"]
    res["correctness"] = {
        "lines": lat["lines"], "progress_events": lat["progress_events"],
        "lines_without_event": lat["lines_without_event"],
        "attempts_lines_ne_events": lat["attempts_where_lines_differ_from_events"],
        "stuck_kills": sum(1 for e in failed if e.data.get("cause") == "stuck"),
        "attempt_failed": len(failed),
        "quiet_or_stuck_health": sum(1 for e in events if e.kind == "health"
                                     and str(e.data.get("health")) in ("quiet", "stuck")),
        "attempts_started": sum(1 for e in events if e.kind == "attempt_started"),
        "tasks_passed": sum(1 for e in events if e.kind == "verify_passed"),
        "run_finished": any(e.kind == "run_finished" for e in events),
    }
    stats = fs.read_sup_stats(run.stats_file)
    res["facts"]["supervisor_swarmtui"] = stats.get("swarmtui")
    res["ticks_whole_run"] = fs.all_ticks(stats)
    batches = stats.get("files_changed") or []
    res["event_latency_parts"] = fs.latency_parts(lines, ev_time, batches, windows)
    res["handlers"] = fs.handlers_summary(stats)
    res["tick_steps"] = fs.handlers_summary(stats, key="steps")
    res["slow_ticks"] = [{"t": round(float(t), 3), "ms": round(float(d) * 1000, 1),
                          "steps": [(str(n), round(float(x) * 1000, 1)) for n, x in st]}
                         for t, d, st in (stats.get("slow_ticks") or [])[:20]]
    sup_pid = int(stats.get("pid") or (run.sup.pid if run.sup else 0))
    calls = run.calls()
    res["calls_whole_run"] = fs.count_calls(calls, sup_pid)
    phases: dict[str, Any] = {}
    for name, ph in run.phases.items():
        c = fs.count_calls(calls[ph.calls_at[0]:ph.calls_at[1]], sup_pid)
        w = ph.window.seconds
        ticks = fs.ticks_in(stats, ph.window)
        batch = fs.batch_sizes(batches, ph.window)
        nt = max(1, int(ticks["ticks"]))
        p: dict[str, Any] = {
            "seconds": round(w, 1), "cpu_pct": phase_cpu(ph), "mem": phase_mem(ph),
            "ticks": ticks, "files_changed": batch,
            "tmux_per_s": round(c.get("tmux", 0) / w, 2),
            "git_per_s": round(c.get("git", 0) / w, 2),
            "tmux_per_tick": round(c.get("tmux", 0) / nt, 2),
            "calls": {k: v for k, v in sorted(c.items()) if " " in k},
        }
        if ph.extra:
            ps = ph.extra.get("pass_seconds") or []
            p["baseline"] = {"passes": ph.extra.get("passes"),
                             "commands": ph.extra.get("commands"),
                             "pass_s_median": round(statistics.median(ps), 3) if ps else None}
        phases[name] = p
    res["phases"] = phases
    idle_tmux = phases.get("idle", {}).get("cpu_pct", {}).get("tmux", 0.0)
    if "baseline" in phases:
        b = phases["baseline"]["cpu_pct"]
        # The poller's own CPU, the tmux and git processes it starts, and the extra work it
        # gives the tmux server (capture-pane) over the idle phase.
        cost = (b.get("baseline", 0.0) + b.get("baseline_children", 0.0)
                + max(0.0, b.get("tmux", 0.0) - idle_tmux))
        res["baseline_cpu_pct"] = round(cost, 2)
        whole_idle = phases.get("idle", {}).get("cpu_pct", {}).get("whole")
        res["supervision_over_baseline"] = (round(whole_idle / cost, 4)
                                            if whole_idle is not None and cost > 0 else None)
    peak = run.facts.get("peak") or {}
    res["peak_rss_mb"] = {role: {"max": round(v["max"] / MB, 1), "sum": round(v["sum"] / MB, 1),
                                 "count": v["count"]} for role, v in peak.items()}
    return res
