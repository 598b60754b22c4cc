"""Reading events written by swarmtui 0.1 (schema 1), whose payloads were untyped dicts.

Their runs stay readable (``events``, ``status``, the ledger across runs) and resumable. Each
old payload is mapped onto its kind's new type once, when read: fields the new type does not
know are dropped and the fields it needs are derived. This is the only place that reads the
wording of old messages, because schema 1 recorded nothing else.
"""

from __future__ import annotations

from typing import Any

from swarmtui.model import payloads as p
from swarmtui.model.kinds import Cause, DeadWhy, EventKind, ExitHow

_OLD_CAUSES: tuple[tuple[str, Cause], ...] = (
    ("crashed", Cause.CRASHED), ("stuck", Cause.STUCK), ("verify failed", Cause.VERIFY_FAILED),
    ("agent reported failed", Cause.REPORTED_FAILED),
    ("agent reported blocked", Cause.REPORTED_BLOCKED), ("lost", Cause.LOST),
    ("orphan", Cause.ORPHANED), ("could not start", Cause.COULD_NOT_START),
    ("integration failed", Cause.INTEGRATION_FAILED), ("usage limited", Cause.USAGE_LIMITED),
    ("killed: cancelled", Cause.CANCELLED), ("killed: the run was stopped", Cause.STOPPED),
    ("killed for a retry", Cause.RETRIED), ("killed", Cause.KILLED),
)


def _old_cause(reason: str) -> Cause:
    for prefix, cause in _OLD_CAUSES:
        if reason.startswith(prefix):
            return cause
    return Cause.CRASHED


def _attempt_failed(d: dict[str, Any]) -> dict[str, Any]:
    counts = bool(d.get("counts", True))
    return {"cause": _old_cause(str(d.get("reason", ""))), "reason": str(d.get("reason", "")),
            "counts_attempt": counts, "counts_breaker": counts, "health": d.get("health")}


def _agent_exited(d: dict[str, Any]) -> dict[str, Any]:
    reason = str(d.get("reason") or "exited")
    how = (ExitHow.ORPHANED if reason == "orphan" else ExitHow.VANISHED if "vanished" in reason
           else ExitHow.TERMINATED if d.get("signal") or reason.startswith("terminated")
           else ExitHow.EXITED)
    out = {k: d.get(k) for k in ("code", "signal", "tokens", "cost_usd", "error")}
    return {"how": how, **out}


def _health(d: dict[str, Any]) -> dict[str, Any]:
    known = set(p.HealthEvidence.model_fields)
    evidence = {k: v for k, v in d.items() if k in known}
    if "note" in evidence:
        evidence["note"] = str(evidence["note"])
    return {"health": d.get("health"), "evidence": evidence}


def _task_dead(d: dict[str, Any]) -> dict[str, Any]:
    reason = str(d.get("reason", ""))
    why = (DeadWhy.DEPENDENCY if reason.startswith("dependency") and "not merged" not in reason
           else DeadWhy.DEPENDENCY_UNMERGED if reason.startswith("dependency")
           else DeadWhy.NEEDS_OPERATOR if "needs an operator" in reason else DeadWhy.GAVE_UP)
    return {"reason": reason, "why": why}


_FIXES = {
    EventKind.ATTEMPT_FAILED: _attempt_failed,
    EventKind.AGENT_EXITED: _agent_exited,
    EventKind.HEALTH: _health,
    EventKind.TASK_DEAD: _task_dead,
}


def upgrade(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An old payload as its kind's new type expects it (unknown kinds are left as they are)."""
    try:
        k = EventKind(kind)
    except ValueError:
        return data
    fix = _FIXES.get(k)
    if fix is not None:
        data = fix(data)
    fields = p.PAYLOADS[k].model_fields
    return {key: v for key, v in data.items() if (key in fields and v is not None)
            or (key in fields and fields[key].default is None)}
