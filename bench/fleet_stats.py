"""Reading a finished bench run: the store, the agents' progress files, the watch TUI's records,
the supervisor's tick log and the tmux/git call log; figures per phase. Pure apart from reading
files; no swarmtui imports (the store is read with sqlite3, read-only)."""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Window:
    name: str
    t0: float
    t1: float

    def has(self, t: float) -> bool:
        return self.t0 <= t < self.t1

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0


def pct(xs: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no data."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def dist_ms(xs: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max in milliseconds of values in seconds, and the count."""
    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 1)

    return {"n": len(xs), "p50": ms(pct(xs, 50)), "p95": ms(pct(xs, 95)),
            "p99": ms(pct(xs, 99)), "max": ms(max(xs) if xs else None)}


# -- the store -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ev:
    seq: int
    time: float
    kind: str
    task: str | None
    attempt: int | None
    data: dict[str, Any]


def read_events(db: Path) -> list[Ev]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT seq, time, kind, task, attempt, data FROM events "
                           "ORDER BY seq").fetchall()
    finally:
        con.close()
    return [Ev(int(s), float(t), str(k), tk, at, json.loads(d) if d else {})
            for s, t, k, tk, at, d in rows]


def count_kind(db: Path, kind: str) -> tuple[int, float | None]:
    """(how many events of ``kind``, the time of the newest) - polled during a run."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return 0, None
    try:
        n, t = con.execute("SELECT count(*), max(time) FROM events WHERE kind = ?",
                           (kind,)).fetchone()
    except sqlite3.Error:
        return 0, None
    finally:
        con.close()
    return int(n or 0), (float(t) if t is not None else None)


# -- progress lines and their events ---------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    aid: str
    task: str
    attempt: int
    tick: int
    written: float  # the agent's time stamp


def read_lines(agents_dir: Path) -> list[Line]:
    out: list[Line] = []
    for d in sorted(agents_dir.iterdir()) if agents_dir.is_dir() else []:
        task, _, att = d.name.rpartition("-")
        f = d / "progress.md"
        if not att.isdigit() or not f.is_file():
            continue
        for raw in f.read_text(errors="replace").splitlines():
            stamp, sep, status = raw.partition(" - ")
            if not sep or not status.startswith("tick "):
                continue
            try:
                t = datetime.fromisoformat(stamp).timestamp()
                n = int(status[5:])
            except ValueError:
                continue
            out.append(Line(d.name, task, int(att), n, t))
    return out


def event_latency(lines: list[Line], events: list[Ev], windows: list[Window],
                  cutoff: float | None = None
                  ) -> tuple[dict[str, Any], dict[tuple[str, int, int], float]]:
    """Per window: line written -> its progress event's time. Also correctness over the run
    (lines written before ``cutoff`` - when the agents were told to finish - without an event,
    and attempts whose line count differs from their event count) and the map
    (task, attempt, tick) -> event time that the UI latency starts from."""
    ev_time: dict[tuple[str, int, int], float] = {}
    per_attempt: dict[tuple[str, int], int] = defaultdict(int)
    for e in events:
        if e.kind != "progress" or e.task is None or e.attempt is None:
            continue
        per_attempt[(e.task, e.attempt)] += 1
        status = str(e.data.get("status", ""))
        if status.startswith("tick ") and status[5:].isdigit():
            ev_time.setdefault((e.task, e.attempt, int(status[5:])), e.time)
    lat: dict[str, list[float]] = {w.name: [] for w in windows}
    missed = 0
    lines_per_attempt: dict[tuple[str, int], int] = defaultdict(int)
    for ln in lines:
        lines_per_attempt[(ln.task, ln.attempt)] += 1
        t = ev_time.get((ln.task, ln.attempt, ln.tick))
        if t is None:
            if cutoff is None or ln.written < cutoff:
                missed += 1
            continue
        for w in windows:
            if w.has(ln.written):
                lat[w.name].append(t - ln.written)
    mismatched = sum(1 for k, n in lines_per_attempt.items() if per_attempt.get(k, 0) != n)
    out: dict[str, Any] = {w: dist_ms(v) for w, v in lat.items()}
    out["lines"] = len(lines)
    out["progress_events"] = sum(per_attempt.values())
    out["lines_without_event"] = missed
    out["attempts_where_lines_differ_from_events"] = mismatched
    return out, ev_time


def latency_parts(lines: list[Line], ev_time: dict[tuple[str, int, int], float],
                  batches: list[list[float]], windows: list[Window]) -> dict[str, Any]:
    """Where a progress line's latency goes, per window: from the time stamp to the watcher
    posting the ``FilesChanged`` that carried it (inotify plus watchfiles' batching), from
    there to the loop taking it up (queue wait: the loop busy with other work), and from there
    to the event's append (the handler reading files and appending events before it)."""
    starts = sorted((b[1], b[0], b[2]) for b in batches)  # (start, posted, end)
    keys = [s for s, _, _ in starts]
    parts: dict[str, dict[str, list[float]]] = {
        w.name: {"watcher": [], "queue": [], "handler": []} for w in windows}
    for ln in lines:
        win = next((w for w in windows if w.has(ln.written)), None)
        t = ev_time.get((ln.task, ln.attempt, ln.tick))
        if win is None or t is None:
            continue
        i = bisect_left(keys, t) - 1  # the batch being handled when the event was appended
        if i < 0:
            continue
        start, posted, end = starts[i]
        if not start <= t <= end + 0.001 or posted < ln.written - 0.001:
            continue  # appended by a tick's sweep or a recheck, not by a watcher batch
        parts[win.name]["watcher"].append(posted - ln.written)
        parts[win.name]["queue"].append(start - posted)
        parts[win.name]["handler"].append(t - start)
    out: dict[str, Any] = {}
    for w in windows:
        out[w.name] = {k: dist_ms(v) for k, v in parts[w.name].items()}
    return out


def batch_sizes(batches: list[list[float]], w: Window) -> dict[str, Any]:
    sizes = [b[3] for b in batches if w.has(b[1])]
    durs = [b[2] - b[1] for b in batches if w.has(b[1])]
    return {"batches": len(sizes), "paths_mean": round(sum(sizes) / len(sizes), 1)
            if sizes else None, "handler": dist_ms(durs)}


# -- the watch TUI -------------------------------------------------------------------------------

def read_watch(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text().splitlines():
        try:
            out.append(json.loads(raw))
        except ValueError:
            continue
    return out


def ui_latency(records: list[dict[str, Any]], ev_time: dict[tuple[str, int, int], float],
               events: list[Ev], windows: list[Window]) -> dict[str, Any]:
    """Per window: progress event's time -> the first table update whose row for that task
    shows that tick or a later one (a status superseded before the screen caught up counts as
    shown by its successor). Both when the table applied the update and when the next screen
    refresh finished."""
    attempt_of: dict[str, int] = {}
    for e in events:
        if e.kind == "attempt_started" and e.task and e.attempt:
            attempt_of[e.task] = e.attempt
    shown: dict[str, list[tuple[float, float, int]]] = defaultdict(list)  # applied, painted, k
    for r in records:
        for task, text in (r.get("rows") or {}).items():
            if isinstance(text, str) and text.startswith("tick ") and text[5:].isdigit():
                shown[task].append((float(r["applied"]), float(r.get("painted") or
                                                               r["applied"]), int(text[5:])))
    applied: dict[str, list[float]] = {w.name: [] for w in windows}
    painted: dict[str, list[float]] = {w.name: [] for w in windows}
    never = 0
    for (task, attempt, k), t in ev_time.items():
        win = next((w for w in windows if w.has(t)), None)
        if win is None or attempt_of.get(task) != attempt:
            continue
        seq = shown.get(task, [])
        times = [a for a, _, _ in seq]
        i = bisect_left(times, t)
        hit = next(((a, p) for a, p, kk in seq[i:] if kk >= k), None)
        if hit is None:
            never += 1
            continue
        applied[win.name].append(hit[0] - t)
        painted[win.name].append(hit[1] - t)
    out: dict[str, Any] = {}
    for w in windows:
        out[w.name] = {"applied": dist_ms(applied[w.name]), "painted": dist_ms(painted[w.name])}
    out["updates"] = len(records)
    out["events_never_shown"] = never
    return out


# -- the supervisor's ticks and commands -----------------------------------------------------------

def read_sup_stats(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def ticks_in(stats: dict[str, Any], w: Window) -> dict[str, Any]:
    ticks = [(float(a), float(b)) for a, b in stats.get("ticks", []) if w.has(float(a))]
    durs = [d for _, d in ticks]
    gaps = [b[0] - a[0] for a, b in pairwise(ticks)]
    over = sum(1 for d in durs if d > 0.1)
    return {"ticks": len(ticks), "length": dist_ms(durs), "over_100ms": over,
            "gap_max_ms": round(max(gaps) * 1000, 1) if gaps else None}


def all_ticks(stats: dict[str, Any]) -> dict[str, Any]:
    durs = [float(b) for _, b in stats.get("ticks", [])]
    return {"ticks": len(durs), "length": dist_ms(durs),
            "over_100ms": sum(1 for d in durs if d > 0.1)}


def handlers_summary(stats: dict[str, Any], top: int = 8, key: str = "handlers"
                     ) -> list[dict[str, Any]]:
    """Message handlers (or tick steps, ``key="steps"``) by total time."""
    rows = [{"name": k, "count": int(v[0]), "total_s": round(float(v[1]), 3),
             "mean_ms": round(float(v[1]) / max(1, int(v[0])) * 1000, 2),
             "max_ms": round(float(v[2]) * 1000, 1)}
            for k, v in (stats.get(key) or {}).items()]
    rows.sort(key=lambda r: -float(r["total_s"]))
    return rows[:top]


_VALUE_OPTS = {"tmux": {"-S", "-L", "-f", "-c", "-T"}, "git": {"-C", "-c"}}


def subcommand(tool: str, args: list[str]) -> str:
    """The subcommand of a ``tmux`` or ``git`` command line (global options skipped)."""
    takes = _VALUE_OPTS.get(tool, set())
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in takes:
            skip = True
            continue
        if a.startswith("-"):
            continue
        return a
    return "?"


def count_calls(lines: list[str], pid: int) -> dict[str, int]:
    """Shim log lines ``<ppid> <tool> <first args>`` -> calls per tool (and per tool and
    subcommand) made by process ``pid``."""
    out: dict[str, int] = defaultdict(int)
    for raw in lines:
        parts = raw.split()
        if len(parts) >= 2 and parts[0] == str(pid):
            out[parts[1]] += 1
            out[f"{parts[1]} {subcommand(parts[1], parts[2:])}"] += 1
    return dict(out)
