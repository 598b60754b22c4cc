"""The fleet's goal table (issue 24) and the check mode of bench/fleet.py.

Each row is one figure, read from a run's results at N = 10, 100 and 500, with the goal where
the table sets one. ``check`` prints the table and every figure that falls short, and says
whether the run met them all: a regression gate to run by hand (`python bench/fleet.py
--check`), like agent-deck's fleet benchmark. Timing never enters a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet_report import Res, fmt, get

CHECK_NS = (10, 100, 500)


def _tick(r: Res) -> float | None:
    """The longest tick of the loop, idle or busy (the sweep included)."""
    vals = [get(r, "phases", k, "ticks", "length", "max") for k in ("idle", "busy")]
    found = [float(v) for v in vals if v is not None]
    return max(found) if found else None


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    read: Callable[[Res], Any]
    goals: dict[int, float]  # N -> the most it may be

    def value(self, r: Res) -> float | None:
        v = self.read(r)
        return None if v is None else float(v)


FIGURES: tuple[Figure, ...] = (
    Figure("whole supervision, busy, % of a core", "%",
           lambda r: get(r, "phases", "busy", "cpu_pct", "whole"), {100: 25.0, 500: 40.0}),
    Figure("supervisor with its children / polling baseline, idle", "",
           lambda r: r.get("supervision_over_baseline"), {100: 0.05}),
    Figure("swarmtui watch CPU, idle fleet", "%",
           lambda r: get(r, "phases", "idle", "cpu_pct", "watch"), {100: 5.0, 500: 10.0}),
    Figure("status --json wall", " ms",
           lambda r: get(r, "status_json_ms", "median"), {500: 150.0}),
    Figure("spawn N attempts, launch to all running", " s",
           lambda r: r.get("spawn_s"), {100: 5.0, 500: 25.0}),
    Figure("event latency p99, busy", " ms",
           lambda r: get(r, "event_latency", "busy", "p99"), {500: 250.0}),
    Figure("longest tick, idle and busy", " ms", _tick, {500: 100.0}),
)
# Measured by bench/bench_tui.py (a headless app over a recorded fleet), not by this run.
ELSEWHERE = ("watch key-to-screen p95 at N = 100 (goal <= 100 ms): python bench/bench_tui.py",)


def rows(results: list[Res]) -> tuple[list[list[str]], list[str]]:
    """The table (figure, then one cell per N: the value and its goal) and what falls short."""
    by_n = {int(r["n"]): r for r in results if "phases" in r}
    table = [["figure", *(f"N={n}" for n in CHECK_NS)]]
    short: list[str] = []
    for fig in FIGURES:
        cells = [fig.name]
        for n in CHECK_NS:
            r = by_n.get(n)
            goal = fig.goals.get(n)
            v = fig.value(r) if r is not None else None
            if v is None:
                cells.append("not run" if r is None else "not measured")
                if goal is not None:
                    short.append(f"{fig.name} at N={n}: not measured (goal <= {goal:g}"
                                 f"{fig.unit})")
                continue
            cell = f"{fmt(v)}{fig.unit}"
            if goal is not None:
                ok = v <= goal
                cell += f" (<= {goal:g}: {'pass' if ok else 'MISS'})"
                if not ok:
                    short.append(f"{fig.name} at N={n}: {fmt(v)}{fig.unit}, goal <= "
                                 f"{goal:g}{fig.unit}")
            cells.append(cell)
        table.append(cells)
    bad = [n for n, r in by_n.items()
           if (get(r, "correctness", "lines_without_event") or 0) > 0
           or (get(r, "correctness", "stuck_kills") or 0) > 0]
    if bad:
        short.append(f"progress lines without their event, or agents killed as stuck, at N={bad}")
    return table, short


def check_text(results: list[Res]) -> tuple[str, bool]:
    """The goal table as text, the shortfalls, and whether every goal was met."""
    table, short = rows(results)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    lines += ["", *(f"also: {e}" for e in ELSEWHERE), ""]
    if short:
        lines += ["falls short:", *(f"  - {s}" for s in short)]
    else:
        lines.append("every goal met")
    return "\n".join(lines), not short


def check_md(results: list[Res]) -> str:
    table, short = rows(results)
    out = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    out += ["| " + " | ".join(row) + " |" for row in table[1:]]
    out += ["", *(f"Also: {e}." for e in ELSEWHERE), ""]
    out += [f"- falls short: {s}" for s in short] or ["Every goal met."]
    return "\n".join(out)
