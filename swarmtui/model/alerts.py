"""Which events raise an alert, which clear one, and how repeats collapse (pure).

An alert is keyed by what it is about (``("health", task)``, ``("breaker",)``, ...). Another
event with the same key while the alert is open adds to its count instead of a new line; an
event that shows the condition has cleared (the agent recovered, the task merged, the breaker
was reset) resolves it. Acknowledging is an event too, so all of it replays.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.model import payloads as p
from swarmtui.model.event import Event
from swarmtui.model.kinds import AlertLevel, DeadWhy, EventKind, Health
from swarmtui.model.labels import HEALTH_LABEL
from swarmtui.model.state import Alert, RunState

_BAD_HEALTH = frozenset({Health.STUCK, Health.CRASHED, Health.ORPHAN, Health.LOST})


@dataclass(frozen=True)
class Raise:
    key: tuple[str, ...]
    level: AlertLevel
    text: str
    bell: bool = False
    ref: str = ""


def _who(ev: Event) -> str:
    if ev.task and ev.attempt:
        return f"{ev.task}-{ev.attempt}"
    return ev.task or "run"


# An alert keeps its whole text (it is cut only where it is drawn); this bound is for
# hostile input alone: far longer than any screen, far shorter than what an agent can write.
ALERT_TEXT_MAX = 4000


def _one_line(text: str, n: int = ALERT_TEXT_MAX) -> str:
    s = " ".join(text.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _raise_task(ev: Event) -> Raise | None:
    pl = ev.payload
    task = ev.task or ""
    if isinstance(pl, p.HealthChanged):
        if pl.health == Health.OK:
            return None
        level = AlertLevel.ERROR if pl.health in _BAD_HEALTH else AlertLevel.WARNING
        note = f": {pl.evidence.note}" if pl.evidence.note else ""
        return Raise(("health", task), level, f"{_who(ev)} is {HEALTH_LABEL[pl.health]}{note}",
                     bell=pl.health == Health.STUCK)
    if isinstance(pl, p.AttemptFailed):
        return Raise(("failed", task), AlertLevel.ERROR,
                     f"{_who(ev)} failed: {_one_line(pl.reason)}", bell=True)
    if isinstance(pl, p.TaskDead):
        what = "needs you" if pl.why == DeadWhy.NEEDS_OPERATOR else "is dead"
        return Raise(("dead", task), AlertLevel.ERROR, f"{task} {what}: {_one_line(pl.reason)}",
                     bell=True)
    if isinstance(pl, p.MergeRefused):
        return Raise(("merge", task), AlertLevel.WARNING,
                     f"{task} merge refused: {_one_line(pl.reason)}")
    if isinstance(pl, p.IntegrationFailed):
        return Raise(("merge", task), AlertLevel.ERROR,
                     f"{task} integration check failed: {_one_line(pl.reason)}")
    if isinstance(pl, p.ResultsInvalid):
        return Raise(("results", task), AlertLevel.WARNING,
                     f"{_who(ev)} wrote an invalid results.json: {_one_line(pl.error)}")
    if isinstance(pl, p.FileRefused):
        return Raise(("file", task, pl.file), AlertLevel.WARNING,
                     f"{_who(ev)} {pl.file} not read: {_one_line(pl.why)}")
    if isinstance(pl, p.TextQuarantined):
        why = ", ".join(r.replace("_", " ") for r in pl.reasons) or "uncertain"
        if pl.source in p.WORK_SOURCES:
            return Raise(("injection", pl.digest), AlertLevel.ERROR,
                         f"{_who(ev)}: its {pl.source} reads like a prompt injection ({why}): "
                         f"\u201c{_one_line(pl.excerpt)}\u201d; the agent may have obeyed "
                         f"one, so its merge is held: `swarmtui approve {pl.qid}` lets it "
                         f"merge, `swarmtui reject {pl.qid}` refuses it", ref=pl.qid,
                         bell=True)
        return Raise(("injection", pl.digest), AlertLevel.ERROR,
                     f"{_who(ev)}: text from its {pl.source} held for review ({why}): "
                     f"\u201c{_one_line(pl.excerpt)}\u201d; `swarmtui approve {pl.qid}` "
                     f"releases it, `swarmtui reject {pl.qid}` drops it", ref=pl.qid)
    if isinstance(pl, p.InjectionFlagged):
        return Raise(("injection", task, pl.source), AlertLevel.ERROR,
                     f"{_who(ev)} {pl.source} flagged as a possible prompt injection "
                     f"({', '.join(pl.flags) or 'no reason given'})")
    if isinstance(pl, p.NetRefused):
        return Raise(("net", task), AlertLevel.WARNING, (
            f"{_who(ev)} tried to reach {pl.host}:{pl.port}, not its API: the sandbox refused "
            "it" if pl.host else f"{_who(ev)}: the sandbox's API proxy refused a connection: "
            f"{_one_line(pl.why)}"))
    if isinstance(pl, p.SpawnRefused):
        return Raise(("spawn", task), AlertLevel.WARNING,
                     f"{task} spawn refused: {_one_line(pl.reason)}")
    if isinstance(pl, p.ContextFit) and pl.level in ("warn", "over"):
        return Raise(("context", task), AlertLevel.ERROR if pl.level == "over"
                     else AlertLevel.WARNING, f"{_who(ev)} context: {_one_line(pl.sentence)}")
    if isinstance(pl, p.ReviewRecorded) and (not pl.ok or pl.verdict != "approve"):
        what = f"review: {pl.verdict}: {_one_line(pl.summary)}" if pl.ok else (
            f"no review: {_one_line(pl.error)}")
        return Raise(("review", task), AlertLevel.WARNING, f"{_who(ev)} {what}")
    if isinstance(pl, p.PermissionAsked):
        return Raise(("ask", task, str(ev.attempt), str(pl.request)), AlertLevel.WARNING,
                     f"{_who(ev)} asks to use {pl.rule or pl.tool} (request #{pl.request}); "
                     f"it waits", bell=True, ref=f"{task}#{pl.request}")
    if isinstance(pl, p.PermissionAnswered) and pl.by == "timeout":
        return Raise(("ask-timeout", task), AlertLevel.WARNING,
                     f"{_who(ev)} request #{pl.request} ({pl.rule or pl.tool}) was denied: "
                     "nobody answered in time")
    if isinstance(pl, p.PermissionDenied):
        return Raise(("permission", task), AlertLevel.WARNING,
                     f"{_who(ev)} needs permission: {pl.rule or pl.tool}")
    if isinstance(pl, p.AgentHook) and pl.event in ("Notification", "StopFailure"):
        what = (f"is waiting for input: {_one_line(pl.message)}" if pl.event ==
                "Notification" else f"stopped on {pl.error or 'an error'}")
        return Raise(("hook", task), AlertLevel.WARNING if pl.event == "Notification"
                     else AlertLevel.ERROR, f"{_who(ev)} {what}", bell=True)
    if isinstance(pl, p.RateLimit) and pl.status == "allowed_warning":
        used = f"{pl.utilization:.0%} of" if pl.utilization is not None else "near"
        return Raise(("usage-warning",), AlertLevel.WARNING,
                     f"usage: {used} the {pl.limit_type.replace('_', ' ')} limit")
    return None


def _raise_run(ev: Event) -> Raise | None:
    pl = ev.payload
    if isinstance(pl, p.BreakerOpened):
        return Raise(("breaker",), AlertLevel.ERROR, f"breaker open: {_one_line(pl.reason)}",
                     bell=True)
    if isinstance(pl, p.BudgetExhausted):
        return Raise(("budget",), AlertLevel.ERROR,
                     f"budget spent: ${pl.spent_usd:.2f} of ${pl.budget_usd:.2f}; no new agents")
    if isinstance(pl, p.MemoryLow):
        avail = "unknown" if pl.available is None else f"{pl.available / 2**30:.1f} GiB"
        return Raise(("memory",), AlertLevel.WARNING,
                     f"memory low ({avail} available): no new agents until it recovers")
    if isinstance(pl, p.DiskFull):
        return Raise(("disk",), AlertLevel.ERROR,
                     f"disk full: {_one_line(pl.error)}; dispatch paused")
    if isinstance(pl, p.UsageLimited):
        return Raise(("usage", pl.account), AlertLevel.WARNING,
                     f"usage-limited{(' (' + pl.account + ')') if pl.account else ''}: "
                     "nothing new starts on it until the limit lifts (an agent with other "
                     "[[accounts]] carries on on a free one)")
    if isinstance(pl, p.AgentHeld):
        return Raise(("held", pl.agent), AlertLevel.ERROR,
                     f"agent {pl.agent} held: {_one_line(pl.reason)}", bell=True)
    if isinstance(pl, p.TmuxServerGone):
        return Raise(("tmux",), AlertLevel.ERROR,
                     f"swarmtui's tmux server went away with {pl.count} agents")
    if isinstance(pl, p.SupervisorCrashed):
        return Raise(("crash",), AlertLevel.ERROR,
                     f"supervisor crashed: {_one_line(pl.error)} (traceback in the event and "
                     "in .swarm/supervisor.log)",
                     bell=True)
    if isinstance(pl, p.RunFinished):
        text = "run finished: " + ("all tasks passed" if pl.ok else "some tasks did not pass")
        return Raise(("finished",), AlertLevel.INFO if pl.ok else AlertLevel.WARNING, text,
                     bell=True)
    return None


def raised_by(ev: Event) -> Raise | None:
    """The alert ``ev`` raises, or None when it is routine."""
    if ev.task is not None:
        return _raise_task(ev)
    return _raise_run(ev)


# Keys an event clears: (key prefix) -> resolved when the event says the condition is over.
def cleared_by(ev: Event) -> list[tuple[str, ...]]:
    k = ev.kind
    t = ev.task or ""
    if k in (EventKind.TASK_MERGED, EventKind.TASK_CANCELLED):
        return [("*", t)]  # everything about the task
    if k == EventKind.HEALTH and ev.get(p.HealthChanged).health == Health.OK:
        return [("health", t)]
    if k == EventKind.ATTEMPT_SPAWNED:
        return [("health", t), ("results", t), ("file", t), ("permission", t), ("hook", t),
                ("ask", t), ("ask-timeout", t)]
    if k == EventKind.PERMISSION_ANSWERED:
        return [("ask", t, str(ev.attempt), str(ev.get(p.PermissionAnswered).request))]
    if k == EventKind.AGENT_EXITED:
        return [("ask", t, str(ev.attempt))]
    if k == EventKind.VERIFY_PASSED:
        return [("failed", t), ("dead", t), ("results", t)]
    if k == EventKind.TASK_REQUEUED and t:
        return [("dead", t), ("merge", t)]
    if k == EventKind.DISPATCH_RESUMED:
        return [("breaker",), ("held",)]
    if k == EventKind.USAGE_LIMIT_LIFTED:
        return [("usage", ev.get(p.UsageLimitLifted).account)]
    if k == EventKind.DISK_OK:
        return [("disk",)]
    if k == EventKind.MEMORY_OK:
        return [("memory",)]
    if k in (EventKind.TEXT_APPROVED, EventKind.TEXT_REJECTED):
        pl = ev.payload
        digest = pl.digest if isinstance(pl, (p.TextApproved, p.TextRejected)) else ""
        return [("injection", digest)]
    if k in (EventKind.RUN_RESUMED, EventKind.RUN_STARTED):
        return [("finished",), ("tmux",)]
    return []


def _matches(key: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    if pattern and pattern[0] == "*":
        return len(key) >= 2 and key[1] == pattern[1]
    return key[: len(pattern)] == pattern


# The kinds that can raise or clear an alert; every other event (progress lines, the bulk of a
# log) leaves alerts alone, and replay skips them here.
_RELEVANT = frozenset({
    EventKind.HEALTH, EventKind.ATTEMPT_FAILED, EventKind.TASK_DEAD, EventKind.MERGE_REFUSED,
    EventKind.INTEGRATION_FAILED, EventKind.RESULTS_INVALID, EventKind.FILE_REFUSED,
    EventKind.INJECTION_FLAGGED, EventKind.SPAWN_REFUSED, EventKind.BREAKER_OPENED,
    EventKind.BUDGET_EXHAUSTED, EventKind.MEMORY_LOW, EventKind.DISK_FULL,
    EventKind.USAGE_LIMITED, EventKind.TMUX_SERVER_GONE, EventKind.RUN_FINISHED,
    EventKind.TASK_MERGED, EventKind.TASK_CANCELLED, EventKind.ATTEMPT_SPAWNED,
    EventKind.VERIFY_PASSED, EventKind.TASK_REQUEUED, EventKind.DISPATCH_RESUMED,
    EventKind.USAGE_LIMIT_LIFTED, EventKind.DISK_OK, EventKind.MEMORY_OK,
    EventKind.RUN_RESUMED, EventKind.RUN_STARTED, EventKind.ALERT_ACKED,
    EventKind.PERMISSION_DENIED, EventKind.AGENT_HOOK, EventKind.RATE_LIMIT,
    EventKind.PERMISSION_ASKED, EventKind.PERMISSION_ANSWERED, EventKind.AGENT_EXITED,
    EventKind.AGENT_HELD, EventKind.CONTEXT_FIT, EventKind.REVIEW,
    EventKind.TEXT_QUARANTINED, EventKind.TEXT_APPROVED, EventKind.TEXT_REJECTED,
    EventKind.SUPERVISOR_CRASHED, EventKind.NET_REFUSED,
})


def fold_alerts(state: RunState, ev: Event) -> None:
    """Apply ``ev`` to the run's alerts, in place."""
    if ev.kind not in _RELEVANT:
        return
    for pattern in cleared_by(ev):
        for key, aid in list(state.alert_keys.items()):
            if _matches(key, pattern):
                state.alerts[aid].resolved = True
                del state.alert_keys[key]
    if isinstance(ev.payload, p.AlertAcked):
        a = state.alerts.get(ev.payload.alert)
        if a is not None:
            a.acked = True
        return
    r = raised_by(ev)
    if r is None:
        return
    existing = state.alert_keys.get(r.key)
    if existing is not None:
        a = state.alerts[existing]
        a.count += 1
        a.text = r.text
        a.last_time = ev.time
        a.last_seq = ev.seq
        a.attempt = ev.attempt
        if r.level == AlertLevel.ERROR:
            a.level = r.level
        return
    state.alerts[ev.seq] = Alert(id=ev.seq, key=r.key, kind=ev.kind, task=ev.task,
                                 attempt=ev.attempt, level=r.level, text=r.text,
                                 first_time=ev.time, last_time=ev.time, last_seq=ev.seq,
                                 bell=r.bell, ref=r.ref)
    state.alert_keys[r.key] = ev.seq
