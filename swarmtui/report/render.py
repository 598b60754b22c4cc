"""A run report as plain text (for the CLI) and as JSON.

JSON (``report_json``; print it with ``json.dumps(obj, sort_keys=True)``), schema 1. Keys are
stable: new ones may be added, none is renamed or removed without a new ``schema``. Times are
unix seconds, durations seconds, money US dollars; ``null`` where a figure does not exist (no
merged task, no wall time).

* ``schema``: 1
* ``run``: ``id``, ``repo``, ``target``, ``status`` (the run's state in the log), ``live``
  (the log does not say it ended), ``started_at``, ``ended_at``, ``wall_s``
* ``totals``: ``cost_usd`` (agents and reviews), ``agent_cost_usd``, ``review_cost_usd``,
  ``tokens``, ``tasks``, ``attempts``, ``priced_attempts`` (those whose exit record carried a
  cost: an agent that reports none counts $0), ``merged``, ``states`` (task state -> count)
* ``cost_per_merged_task_usd``: the whole spend over the tasks merged
* ``waste``: ``cost_usd``, ``tokens``, ``agent_s``, ``attempts`` (ids), ``share`` (of the
  agents' spend): every attempt whose outcome is failed, killed, lost or discarded
* ``by_role``: role -> ``cost_usd``, ``tokens``, ``attempts``, ``agent_s``
* ``by_account``: ``[[accounts]]`` name -> ``cost_usd``, ``tokens``, ``attempts``,
  ``agent_s`` of the attempts that ran on it; ``by_cli``: the same per agent CLI (adapter)
* ``by_model``: model -> ``input``, ``output``, ``cache_read``, ``cache_write``, ``cost_usd``
* ``unpriced_models``: models that reported tokens but neither a cost nor a price
* ``failures_by_cause``: cause -> attempts that ended with it
* ``retries``, ``retries_by_cause``: attempts that follow an earlier attempt of their task, by
  what ended that one (a cause, ``resolve`` for a resolver after a passing attempt, or
  ``operator`` for a retry of a passing attempt)
* ``slots``: ``peak``, ``peak_at``, ``mean`` (slot-seconds over wall time), ``mean_busy``
  (over the time at least one slot was in use), ``busy_s``, ``max_agents``, ``reserve``,
  ``utilisation`` (mean over max_agents)
* ``time``: ``wall_s``, ``agent_s`` (the sum over attempts), ``parallelism`` (agent_s / wall_s)
* ``reviews``: ``count``, ``cost_usd``, ``tokens_in``, ``tokens_out``, ``by_verdict``,
  ``errors``
* ``tasks``: list of ``id``, ``title``, ``role``, ``agent``, ``state``, ``attempts`` (ids),
  ``result_attempt``, ``first_spawn_at``, ``end_at``, ``lead_time_s``, ``cost_usd``,
  ``review_cost_usd``, ``tokens``
* ``attempts``: list, by start, of ``id``, ``task``, ``attempt``, ``role``, ``agent``,
  ``start``, ``end``, ``exited``, ``duration_s``, ``outcome`` (merged, passed, failed, killed,
  lost, discarded, unfinished), ``cause``, ``cause_class`` (agent, check, api, setup),
  ``style``, ``reason``, ``exit_how``, ``tokens``, ``cost_usd``, ``priced``,
  ``cost_estimated`` (true when the cost is the price table's, not the agent CLI's), ``models``,
  ``summary``, ``retry_after``, ``merged_at``, ``lane``, ``wasted``, ``account``, ``cli``
* ``merges``: list of ``task``, ``attempt``, ``time``, ``landed_late``
* ``timeline``: ``start``, ``end``, ``lanes`` (attempt ids per lane)
"""

from __future__ import annotations

import textwrap
from typing import Any

from swarmtui.report.figures import AttemptFigures, Report, Spend, TaskFigures, Usage
from swarmtui.report.fmt import (
    cut_middle,
    distinct_cut,
    duration,
    one_line,
    percent,
    ratio,
    usd,
)
from swarmtui.report.timeline import plain, terminal_timeline

SCHEMA = 1


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(float(x), digits)


def _usage(u: Usage) -> dict[str, Any]:
    return {"input": u.input, "output": u.output, "cache_read": u.cache_read,
            "cache_write": u.cache_write, "cost_usd": _r(u.cost_usd)}


def _spend(v: Spend) -> dict[str, Any]:
    return {"cost_usd": _r(v.cost_usd), "tokens": v.tokens, "attempts": v.attempts,
            "agent_s": _r(v.agent_s, 3)}


def _attempt(a: AttemptFigures) -> dict[str, Any]:
    return {
        "id": a.id, "task": a.task, "attempt": a.attempt, "role": a.role, "agent": a.agent,
        "start": _r(a.start, 3), "end": _r(a.end, 3), "exited": a.exited,
        "duration_s": _r(a.duration_s, 3), "outcome": str(a.outcome),
        "cause": str(a.cause) if a.cause is not None else None,
        "cause_class": str(a.cause_class) if a.cause_class is not None else None,
        "style": a.style, "reason": a.reason, "exit_how": a.exit_how, "tokens": a.tokens,
        "cost_usd": _r(a.cost_usd), "priced": a.priced, "cost_estimated": a.cost_estimated,
        "models": {k: _usage(u) for k, u in a.models.items()}, "summary": a.summary,
        "retry_after": a.retry_after, "merged_at": _r(a.merged_at, 3), "lane": a.lane,
        "wasted": a.wasted, "account": a.account, "cli": a.cli,
    }


def _task(t: TaskFigures) -> dict[str, Any]:
    return {
        "id": t.id, "title": t.title, "role": t.role, "agent": t.agent, "state": t.state,
        "attempts": [a.id for a in t.attempts], "result_attempt": t.result_attempt,
        "first_spawn_at": _r(t.first_spawn_at, 3), "end_at": _r(t.end_at, 3),
        "lead_time_s": _r(t.lead_time_s, 3), "cost_usd": _r(t.cost_usd),
        "review_cost_usd": _r(t.review_cost_usd), "tokens": t.tokens,
    }


def report_json(r: Report) -> dict[str, Any]:
    """The report as plain JSON data (see the module docstring for the keys)."""
    s = r.slots
    return {
        "schema": SCHEMA,
        "run": {"id": r.run, "repo": r.repo, "target": r.target, "status": r.status,
                "live": r.live, "started_at": _r(r.started_at, 3),
                "ended_at": _r(r.ended_at, 3), "wall_s": _r(r.wall_s, 3)},
        "totals": {"cost_usd": _r(r.cost_usd), "agent_cost_usd": _r(r.agent_cost_usd),
                   "review_cost_usd": _r(r.reviews.cost_usd), "tokens": r.tokens,
                   "tasks": len(r.tasks), "attempts": len(r.attempts),
                   "priced_attempts": r.priced_attempts, "merged": r.merged,
                   "states": dict(r.states)},
        "cost_per_merged_task_usd": _r(r.cost_per_merged_task),
        "waste": {"cost_usd": _r(r.waste.cost_usd), "tokens": r.waste.tokens,
                  "agent_s": _r(r.waste.agent_s, 3), "attempts": list(r.waste_ids),
                  "share": _r(r.waste_share, 4)},
        "by_role": {k: _spend(v) for k, v in r.by_role.items()},
        "by_model": {k: _usage(u) for k, u in r.by_model.items()},
        "by_account": {k: _spend(v) for k, v in r.by_account.items()},
        "by_cli": {k: _spend(v) for k, v in r.by_cli.items()},
        "unpriced_models": list(r.unpriced_models),
        "failures_by_cause": dict(r.failures_by_cause),
        "retries": r.retries,
        "retries_by_cause": dict(r.retries_by_cause),
        "slots": {"peak": s.peak, "peak_at": _r(s.peak_at, 3), "mean": _r(s.mean, 4),
                  "mean_busy": _r(s.mean_busy, 4), "busy_s": _r(s.busy_s, 3),
                  "max_agents": s.max_agents, "reserve": s.reserve,
                  "utilisation": _r(s.utilisation, 4)},
        "time": {"wall_s": _r(r.wall_s, 3), "agent_s": _r(r.agent_s, 3),
                 "parallelism": _r(r.parallelism, 4)},
        "reviews": {"count": r.reviews.count, "cost_usd": _r(r.reviews.cost_usd),
                    "tokens_in": r.reviews.tokens_in, "tokens_out": r.reviews.tokens_out,
                    "by_verdict": dict(r.reviews.by_verdict), "errors": r.reviews.errors},
        "tasks": [_task(t) for t in r.tasks],
        "attempts": [_attempt(a) for a in r.attempts],
        "merges": [{"task": m.task, "attempt": m.attempt, "time": _r(m.time, 3),
                    "landed_late": m.landed_late} for m in r.merges],
        "timeline": {"start": _r(r.started_at, 3), "end": _r(r.ended_at, 3),
                     "lanes": [list(lane) for lane in r.lanes]},
    }


# -- text ------------------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def headline(r: Report) -> list[str]:
    """The figures that say what parallelism cost and bought, one per line."""
    s = r.slots
    # A finished run with work after it (a late task, a resolver) is running again.
    live = " (still running)" if r.live and r.status in ("finished", "stopped") else ""
    waste_share = f" ({percent(r.waste_share)} of agent spend)" if r.waste_share is not None \
        else ""
    roles = "; ".join(f"{one_line(k)} {usd(v.cost_usd)} in {_n(v.attempts, 'attempt')}"
                      for k, v in r.by_role.items()) or "none"
    lines = [
        f"run {r.run} on {one_line(r.target) or '(no target)'}: {r.status}{live}, "
        f"{_n(len(r.tasks), 'task')}, {_n(len(r.attempts), 'attempt')}; tasks end "
        f"{_counts(r.states)}",
        f"spend         {usd(r.cost_usd)} ({r.tokens:,} tokens"
        f"{'' if r.priced_attempts else '; no attempt reported a cost'}); reviews "
        f"{usd(r.reviews.cost_usd)}",
        f"per merged    {usd(r.cost_per_merged_task)} ({r.merged} merged)",
        f"waste         {usd(r.waste.cost_usd)}{waste_share}, {r.waste.tokens:,} tokens, "
        f"{duration(r.waste.agent_s)} of agent time in {_n(len(r.waste_ids), 'attempt')}"
        + (f": {', '.join(r.waste_ids)}" if r.waste_ids else ""),
        f"by role       {roles}",
        f"retries       {r.retries}: {_counts(r.retries_by_cause)}",
        f"failures      {_counts(r.failures_by_cause)}",
        f"slots         peak {s.peak} of {s.max_agents} (reserve {s.reserve}), mean "
        f"{ratio(s.mean)} over the run, {ratio(s.mean_busy)} while busy",
        f"time          wall {duration(r.wall_s)}, agents {duration(r.agent_s)}: "
        f"parallelism {ratio(r.parallelism)}x",
    ]
    for label, spend in (("by account    ", r.by_account), ("by CLI        ", r.by_cli)):
        if r.by_account and spend:  # a run on [[accounts]]: whose money, and which CLI's
            lines.append(label + "; ".join(f"{one_line(k)} {usd(v.cost_usd)} in "
                                           f"{_n(v.attempts, 'attempt')}"
                                           for k, v in spend.items()))
    if r.by_model:
        lines.append("by model      " + "; ".join(
            f"{one_line(k, 40)} {usd(u.cost_usd)} ({u.tokens:,} tokens)"
            for k, u in r.by_model.items()))
    if r.unpriced_models:
        lines.append("no price for  " + ", ".join(one_line(m, 40) for m in r.unpriced_models))
    if r.reviews.count:
        lines.append(f"reviews       {r.reviews.count}: {_counts(r.reviews.by_verdict)}"
                     f"{f', {r.reviews.errors} failed' if r.reviews.errors else ''}")
    return lines


# The attempts table: the fixed columns after ID and OUTCOME (start, time, tokens, cost).
_FIXED = len(" +1234567 1234567 12345678 12345678")
_LABEL = 14  # the headline's labels ("spend         ")


def _columns(r: Report, width: int) -> tuple[int, int, int]:
    """The widths of the ID and OUTCOME columns of the attempts table at ``width``, and the
    ID cut's tail: no two attempts' ids look the same once cut."""
    room = max(20, width - 2 - _FIXED - 2)
    idw, tail = distinct_cut((one_line(a.id) for a in r.attempts),
                             max(10, min(24, room * 2 // 5)))
    return idw, max(10, min(24, room - idw)), tail


def _attempt_line(a: AttemptFigures, t0: float, width: int, cols: tuple[int, int, int]
                  ) -> str:
    idw, whatw, tail = cols
    what = one_line(str(a.outcome) + (f" ({a.cause})" if a.cause is not None else ""), whatw)
    cost = ("~" if a.cost_estimated else "") + usd(a.cost_usd) if a.priced else "-"
    head = (f"  {cut_middle(one_line(a.id), idw, tail):<{idw}} {what:<{whatw}} "
            f"+{duration(a.start - t0):<7} {duration(a.duration_s):>7} {a.tokens:>8,} "
            f"{cost:>8}")
    note = a.reason or a.summary
    room = width - len(head) - 2
    return head + (f"  {one_line(note, room)}" if note and room > 10 else "")


def attempt_lines(r: Report, width: int) -> list[str]:
    """Every attempt, task by task, under a header; each line at most ``width`` wide."""
    cols = _columns(r, width)
    idw, whatw, _ = cols
    head = (f"  {'attempt':<{idw}} {'outcome':<{whatw}} {'start':<8} {'time':>7} "
            f"{'tokens':>8} {'cost':>8}")
    lines = [head + ("  reason or summary" if len(head) + 19 <= width else "")]
    for t in r.tasks:
        lead = f", {duration(t.lead_time_s)} from first spawn" if t.lead_time_s is not None \
            else ""
        lines += _wrap(f"{one_line(t.id)} [{one_line(t.role)}] {t.state}: "
                       f"{_n(len(t.attempts), 'attempt')}, "
                       f"{usd(t.cost_usd + t.review_cost_usd)}{lead}", width, 2)
        lines += [_attempt_line(a, r.started_at, width, cols) for a in t.attempts]
    return lines


def _wrap(line: str, width: int, indent: int) -> list[str]:
    """``line`` wrapped at ``width`` (long words broken), later lines indented."""
    return textwrap.wrap(line, width, subsequent_indent=" " * indent,
                         break_on_hyphens=False) or [""]


def headline_lines(r: Report, width: int) -> list[str]:
    """The headline figures wrapped to ``width``, continuation lines under the values."""
    return [w for line in headline(r) for w in _wrap(line, width, _LABEL)]


def report_text(r: Report, width: int = 100) -> str:
    """The report for a terminal: the headline figures, the timeline and every attempt; no
    line wider than ``width`` (40 at least)."""
    width = max(40, width)
    lines = headline_lines(r, width)
    lines += ["", "timeline (one lane per slot in use)"]
    lines += plain(terminal_timeline(r, width))
    lines += ["", *attempt_lines(r, width)]
    return "\n".join(lines)
