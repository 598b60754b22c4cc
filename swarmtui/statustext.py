"""`swarmtui status` as text, from the status object alone (the one `status --json` prints).

The table is drawn from that object and the run's own state word, never from the projection:
so the answer read from the supervisor's status file (`swarmtui/statusfile.py`) and the answer
folded from the log print the same text by construction, and this module loads nothing but
``datetime`` and the terminal-safety helper (the fast path of `status` must not import the model,
pydantic or the engine).
"""

from __future__ import annotations

import time
from datetime import datetime

from swarmtui.textsafe import term_safe

TYPE_CHECKING = False  # not typing's: `status` need not import typing (4 ms) to draw a table
if TYPE_CHECKING:
    from typing import Any


def short(v: Any, n: int = 80) -> str:
    """``v`` on one line, cut to ``n`` characters with an ellipsis."""
    s = " ".join(str(v).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def format_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def crash_text(at: float, error: str, resumed: bool, *, hint: bool = True) -> str:
    """The supervisor's last crash, for people: when, what, and where the traceback is."""
    when = datetime.fromtimestamp(at).strftime("%H:%M")
    after = "; the run was resumed since" if resumed else (
        "; `swarmtui attach` restarts it" if hint else "")
    return (f"the supervisor crashed at {when}: {error} (traceback in .swarm/supervisor.log)"
            f"{after}")


def accounts_line(accounts: list[dict[str, Any]]) -> str:
    """``accounts: work (claude) 2 running $1.20 · home (claude) limited until 14:05 $0.40 of
    $5.00``: each account's use, limit and spend, for people."""
    parts = []
    for a in accounts:
        bits = [f"{a['name']} ({a['cli'] or '?'})"]
        if a["in_use"]:
            bits.append(f"{a['in_use']} running")
        if a["limited_until"] is not None:
            until = datetime.fromtimestamp(a["limited_until"]).strftime("%H:%M")
            bits.append(f"limited until {until}")
        cap = f" of ${a['max_cost_usd']:.2f}" if a["max_cost_usd"] else ""
        bits.append(f"${a['spend_usd']:.2f}{cap}" + (" (cap reached)" if a["capped"] else ""))
        parts.append(" ".join(bits))
    return "accounts: " + " · ".join(parts)


def _note(r: dict[str, Any]) -> str:
    """The most useful words for a task row: why it waits or failed, else its last progress."""
    if r["state"] in ("blocked", "failed", "dead", "cancelled"):
        return str(r["reason"])
    if r["state"] == "pending":
        return f"retry after: {r['reason']}" if r["reason"] else "queued"
    return str(r["last_progress"] if r["state"] in ("running", "verifying") else r["summary"])


def status_text(obj: dict[str, Any], status: str) -> str:
    """The status table. ``obj`` is the status object; ``status`` the run's own state word
    (``obj["run"]["state"]`` says "orphaned" instead when no supervisor holds an unfinished
    run, and the table says "(no supervisor)" beside the real word)."""
    run, slots = obj["run"], obj["slots"]
    now = time.time()
    head = (f"run {run['id']}: {status}{'' if run['supervisor'] else ' (no supervisor)'}  "
            f"target {run['target'] or '-'}  slots {slots['used']}/{slots['max']} "
            f"(reserve {slots['reserve']})  elapsed "
            f"{format_age((run['ended_at'] or now) - (run['started_at'] or now))}")
    if run["breaker_open"]:
        head += f"\nbreaker open: {run['breaker_reason']}"
    crash = run["last_crash"]
    if crash is not None:
        head += "\n" + crash_text(crash["time"], crash["error"], crash["resumed"])
    if obj["accounts"]:
        head += "\n" + accounts_line(obj["accounts"])
    cols = ["id", "state", "try", "role", "health", "last progress"]
    lines = [head, ""]
    data = [[r["id"], r["state"], f"{r['attempt']}/{r['max_attempts']}", r["role"],
             short(r["health_text"], 40) if r.get("health") in ("context", "check_failing")
             or r.get("drift") else r["health"], short(_note(r), 50)] for r in obj["tasks"]]
    widths = [max([len(c)] + [len(str(row[i])) for row in data]) for i, c in enumerate(cols)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for row in data:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    held = obj["held"]
    if held:
        lines += ["", f"held text ({len(held)}): kept out of prompts until "
                  "`swarmtui approve QID` or `swarmtui reject QID`"]
        for h in held:
            lines.append(f"  {h['qid']}  {h['task'] or '-'}  {h['source']}: "
                         f"{short(', '.join(h['reasons']), 40)}  \"{short(h['excerpt'], 60)}\"")
    return term_safe("\n".join(lines), multiline=True)
