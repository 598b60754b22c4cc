"""The run as `swarmtui status` shows it, from the projection: the part that only the log knows.

``view`` builds the status object from a run's state and config at one moment, leaving out what
only the reader can know when it answers: whether a supervisor holds the run, the repository's
path as the reader found it, the target branch's commit now (a git call, which the loop never
makes) and so whether each forecast is stale, and the ages that grow with the clock. Those are
filled by ``swarmtui.statusfile.finish``, the same function for both ways `status` answers:
folded from the log in the CLI's own process, or read from the file the supervisor writes with
this view (``engine/run/statuswriter.py``). One builder, one finisher: the two answers cannot
drift apart.

Every container in the result is new (nothing shared with the projection), so the supervisor may
serialise it on a worker while the loop goes on changing the state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarmtui.config import Config
from swarmtui.engine.accounts.choose import in_use, limit_account, limited_until, spend
from swarmtui.model import ACTIVE, RunState
from swarmtui.model.attention import needs_you
from swarmtui.render import task_row

# Per task row: (last progress time, start of an attempt still running) or None each; the
# reader turns them into ``last_progress_age_s`` and ``runtime_s`` at its own ``now``.
Anchor = tuple[float | None, float | None]


def forecast_obj(fc: dict[str, Any] | None, tip: str | None) -> dict[str, Any] | None:
    """A task's merge forecast as the forecast part recorded it (no git call here); ``stale``
    says the target has moved since (a new forecast follows within seconds)."""
    if fc is None:
        return None
    made_on = str(fc.get("target_commit") or "")
    return {"target": fc.get("target"), "files": list(fc.get("files") or []),
            "conflicts_with": list(fc.get("conflicts_with") or []),
            "out_of_scope": list(fc.get("out_of_scope") or []),
            "reverts": list(fc.get("reverts") or []), "head": fc.get("head") or None,
            "target_commit": made_on or None,
            "stale": bool(made_on and tip and made_on != tip)}


def view(state: RunState, config: Config, now: float) -> tuple[dict[str, Any], list[Anchor]]:
    """The status object of ``state`` at ``now`` without the reader's parts (see the module),
    and each task row's clock anchors. ``run.state`` holds the run's own state word."""
    rows = [task_row(t, config.retry.max_attempts, now) for t in state.tasks.values()]
    anchors: list[Anchor] = []
    for row, t in zip(rows, state.tasks.values(), strict=True):
        rec = state.attempts.get(f"{t.id}-{t.attempt}")
        row["host"] = rec.runner if rec is not None else None  # where its attempt runs
        # What its newest attempt runs: the agent config, its CLI and its account (a usage
        # limit may have moved it to another account, even another CLI's).
        ran = rec.agent if rec is not None else t.spec.agent
        row["attempt_agent"], row["account"] = ran, rec.account if rec is not None else None
        row["cli"] = config.agents[ran].adapter if ran in config.agents else "generic"
        row["forecast"] = forecast_obj(t.forecast, None)
        running = t.started_at is not None and t.state in ACTIVE and not t.ended_at
        anchors.append((t.last_progress_at, t.started_at if running else None))
    queued = sum(1 for t in state.tasks.values() if str(t.state) in ("pending", "blocked"))
    limits = {acct: {"until": lim.until, "type": lim.limit_type}
              for acct, lim in state.usage_limits.items()}
    alerts = [{"id": a.id, "task": a.task, "attempt": a.attempt, "kind": str(a.kind),
               "level": str(a.level), "text": a.text, "count": a.count, "acked": a.acked}
              for a in state.open_alerts()]
    obj = {
        "run": {"id": state.run, "state": str(state.status), "supervisor": False, "repo": "",
                "base": state.base, "target": state.target, "target_tip": None,
                "last_crash": None if state.last_crash is None else {
                    "time": state.last_crash.time, "error": state.last_crash.error,
                    "resumed": state.last_crash.resumed},
                "started_at": state.started_at,
                "ended_at": state.ended_at, "paused": state.paused,
                "breaker_open": state.breaker_open, "breaker_reason": state.breaker_reason,
                "usage_limited_until": state.usage_limited_until, "usage_limits": limits,
                "disk_full": state.disk_full, "queued": queued,
                "unsandboxed": state.unsandboxed,
                "config": state.settings.config_path if state.settings else None,
                "cost_usd": round(sum(t.cost_usd for t in state.tasks.values()), 4),
                "last_seq": state.last_seq},
        "slots": {"used": state.slots_used(), "max": config.slots.max_agents,
                  "reserve": config.slots.reserve,
                  "pools": {role: {"max": n, "used": sum(
                      1 for t in state.tasks.values() if t.state in ACTIVE and t.spec.role == role)}
                      for role, n in config.slots.pools.items()}},
        "merge_queue": [m.task for m in state.merge_queue],
        "agents": agents_obj(config),
        "accounts": accounts_obj(config, state, now),
        "alerts": alerts,
        "held": [{"qid": h.qid, "task": h.task, "attempt": h.attempt, "source": h.source,
                  "reasons": list(h.reasons), "excerpt": h.excerpt, "count": h.count}
                 for h in state.quarantine.values() if h.state == "held"],
        "needs_you": [{"task": t.id, "kind": str(need.kind), "text": need.text,
                       "command": need.command}
                      for t, need in needs_you(state, _accounts(state, config, now), now)],
        "tasks": rows,
    }
    return obj, anchors


def _accounts(state: RunState, config: Config, now: float) -> Callable[[str], str]:
    """``limit_account`` for each agent config, worked out once per view: a fleet has a few
    agent configs and hundreds of tasks (asked per task, it was half of the view at 500)."""
    seen: dict[str, str] = {}

    def account_of(agent: str) -> str:
        if agent not in seen:
            seen[agent] = limit_account(state, config, agent, now)
        return seen[agent]

    return account_of


def valid_until(state: RunState, now: float) -> float | None:
    """Until when ``view(state, ..., now)`` stays true as time passes with no new event: the
    first usage limit to lapse (after it, accounts and "needs you" read differently). None:
    for ever."""
    ends = [lim.until for lim in state.usage_limits.values() if lim.until > now]
    return min(ends) if ends else None


def accounts_obj(config: Config, state: RunState, now: float) -> list[dict[str, Any]]:
    """Each [[accounts]] entry (and any account the log names that the config no longer has):
    its CLI, attempts running on it, until when a usage limit holds it, what its attempts
    cost and its cap. Never where its key is, nor the key."""
    names: list[tuple[str, str, float]] = [(a.name, a.cli, a.max_cost_usd)
                                           for a in config.accounts]
    known = {n for n, _, _ in names}
    names += [(n, "", 0.0) for n in sorted({a.account for a in state.attempts.values()
                                            if a.account and a.account not in known})]
    out = []
    for name, cli, cap in names:
        spent = round(spend(state, name), 4)
        out.append({"name": name, "cli": cli, "in_use": in_use(state, name),
                    "limited_until": limited_until(state, name, now), "spend_usd": spent,
                    "max_cost_usd": cap or None, "capped": bool(cap) and spent >= cap})
    return out


def agents_obj(config: Config) -> dict[str, Any]:
    """Each configured agent's adapter and what its CLI does and does not tell swarmtui (the
    adapter's capability set), so a gap is shown rather than silent."""
    from swarmtui.engine.adapters import capabilities
    from swarmtui.engine.adapters.base import Can

    out: dict[str, Any] = {}
    for name, agent in sorted(config.agents.items()):
        can = capabilities(agent.adapter)
        out[name] = {"adapter": agent.adapter, "can": sorted(str(c) for c in can),
                     "cannot": sorted(str(c) for c in set(Can) - can)}
    return out
