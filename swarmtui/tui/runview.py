"""The top bar, the slots panel and the alerts worklist, computed from the run state (pure).

Like the rows (``view.py``), these are small frozen values the feed thread builds and compares,
so the UI redraws a panel only when what it shows has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from swarmtui.config import Config
from swarmtui.engine.accounts.choose import held_until
from swarmtui.model import ACTIVE, TERMINAL, RunState, TaskState
from swarmtui.model.labels import RUN_LABEL, STATE_LABEL
from swarmtui.render import format_age
from swarmtui.tui.view import Row, clip

# -- the top bar ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    repo: str = ""
    target: str = ""
    base: str = ""
    run: int = 0
    status: str = "loading"  # a run state, or "orphaned", "usage_limited", "loading", "no_run"
    status_text: str = "loading…"
    used: int = 0
    max: int = 0
    reserve: int = 0
    queue: int = 0
    cost: float = 0.0
    budget: float = 0.0
    elapsed: str = "-"
    read_only: bool = False
    done: int = 0  # tasks in a terminal state
    total: int = 0
    needs: int = 0  # tasks that need the operator (attention.need_of)
    merges: int = 0  # tasks merged so far: the target moved when this grows
    paused: bool = False  # dispatch paused or the breaker open (p resumes)


def _status(state: RunState, now: float, live: bool, config: Config | None = None
            ) -> tuple[str, str]:
    status = str(state.status)
    text = RUN_LABEL.get(state.status, status)
    if status not in ("finished", "stopped"):
        if not live:
            crash = state.last_crash
            if crash is not None and not crash.resumed:
                when = datetime.fromtimestamp(crash.time).strftime("%H:%M")
                return "orphaned", f"supervisor crashed at {when}: {crash.error[:48]}"
            return "orphaned", "no supervisor"
        until = state.usage_limited_until if config is None else held_until(state, config, now)
        if until is not None and until > now:
            return "usage_limited", ("usage-limited until "
                                     + datetime.fromtimestamp(until).strftime("%H:%M"))
    return status, text


@dataclass(frozen=True)
class Tally:
    """The top bar's sums over every task: what a walk of all tasks gives (the feed keeps
    one while only events that change none of these arrive)."""

    used: int = 0
    queue: int = 0
    done: int = 0
    merges: int = 0
    cost: float = 0.0


def tally(state: RunState) -> Tally:
    used = queue = done = merges = 0
    cost = 0.0
    for t in state.tasks.values():
        used += t.state in ACTIVE
        queue += t.state in (TaskState.PENDING, TaskState.BLOCKED)
        done += t.state in TERMINAL
        merges += t.merged_at is not None
        cost += t.cost_usd
    return Tally(used, queue, done, merges, cost)


def make_header(state: RunState, config: Config, now: float, *, repo: str, live: bool,
                read_only: bool, rows: dict[str, Row] | None = None,
                sums: Tally | None = None) -> Header:
    status, text = _status(state, now, live, config) if state.run else ("no_run",
                                                                        "no run yet")
    c = sums or tally(state)
    text += " · agents NOT sandboxed" if state.unsandboxed and state.run else ""
    if status == "finished" and c.used:
        text += f" ({c.used} running again)"  # an operator's retry after the run finished
    elapsed = "-"
    if state.started_at is not None:
        elapsed = format_age((state.ended_at or now) - state.started_at)
    return Header(repo=repo, target=state.target or "-", base=(state.base or "")[:8],
                  run=state.run, status=status, status_text=text, used=c.used,
                  max=config.slots.max_agents, reserve=config.slots.reserve, queue=c.queue,
                  cost=c.cost, budget=config.budget.max_cost_usd, elapsed=elapsed,
                  read_only=read_only, done=c.done, total=len(state.tasks),
                  needs=sum(1 for r in (rows or {}).values() if r.needs_you),
                  merges=c.merges, paused=state.paused or state.breaker_open)


# -- the slots panel -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    role: str
    used: int
    max: int
    queued: int


@dataclass(frozen=True)
class Node:
    depth: int
    task: str
    state: str  # the state's class name (state--<state>)
    label: str  # the state in words
    role: str
    subtree: int  # descendants so far (what the subtree budget counts)


@dataclass(frozen=True)
class Slots:
    used: int
    max: int
    reserve: int
    pools: tuple[Pool, ...]
    tree: tuple[Node, ...]
    subtree_budget: int
    max_depth: int


def make_slots(state: RunState, config: Config) -> Slots:
    tasks = state.tasks
    roles = list(config.slots.pools)
    pools = []
    for role in roles + sorted({t.spec.role for t in tasks.values()} - set(roles)):
        mine = [t for t in tasks.values() if t.spec.role == role]
        pools.append(Pool(role, sum(1 for t in mine if t.state in ACTIVE),
                          config.slots.pools.get(role, 0),
                          sum(1 for t in mine if t.state in (TaskState.PENDING,
                                                             TaskState.BLOCKED))))

    def descendants(tid: str) -> int:
        kids = tasks[tid].children if tid in tasks else []
        return sum(1 + descendants(k) for k in kids)

    nodes: list[Node] = []

    def walk(tid: str, depth: int) -> None:
        t = tasks[tid]
        nodes.append(Node(depth, tid, str(t.state), STATE_LABEL[t.state], t.spec.role,
                          descendants(tid)))
        for k in t.children:
            if k in tasks:
                walk(k, depth + 1)

    for t in tasks.values():
        if t.spec.parent is None and (t.children or t.spec.role == "orchestrator"):
            walk(t.id, 0)
    used = sum(1 for t in tasks.values() if t.state in ACTIVE)
    return Slots(used=used, max=config.slots.max_agents, reserve=config.slots.reserve,
                 pools=tuple(pools), tree=tuple(nodes),
                 subtree_budget=config.slots.subtree_budget, max_depth=config.slots.max_depth)


# -- alerts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertItem:
    """One open alert of the projection (``RunState.alerts``), as the worklist shows it."""

    id: int
    time: float  # of its newest repeat
    kind: str
    task: str | None
    attempt: int | None
    text: str  # terminal-safe, one line
    level: str  # "error", "warning" or "information" (Textual's notification severities)
    count: int
    acked: bool
    bell: bool
    ref: str  # what approve/reject name, for a held text

    @property
    def held_text(self) -> bool:
        return self.kind == "text_quarantined" and bool(self.ref)


def make_alerts(state: RunState) -> tuple[AlertItem, ...]:
    """Open alerts, newest first; resolved ones are gone (the projection resolves them)."""
    out = [AlertItem(id=a.id, time=a.last_time, kind=str(a.kind), task=a.task,
                     attempt=a.attempt, text=clip(a.text), level=str(a.level), count=a.count,
                     acked=a.acked, bell=a.bell, ref=a.ref)
           for a in state.alerts.values() if not a.resolved]
    out.sort(key=lambda a: (-a.time, -a.id))
    return tuple(out)
