"""What the screen shows, computed from the run state (pure: no Textual, no I/O).

The feed thread turns a ``RunState`` into these small frozen values; comparing them is how it
finds the table cells that changed, so the UI touches only those. Styles are names of component
classes (``state--running``), coloured by theme variables in ``app.tcss``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from swarmtui.config import Config
from swarmtui.model import ACTIVE, Event, Health, RunState, TaskState, TaskView
from swarmtui.model.alerts import raised_by
from swarmtui.render import format_age, task_row
from swarmtui.textsafe import term_safe


@dataclass(frozen=True)
class Cell:
    text: str
    style: str | None = None
    # Differently styled fragments (e.g. "+12" and "-3"); when set they replace ``text``.
    parts: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    max_width: int = 0  # 0: as wide as the widest value


# Left to right in order of what matters at a glance: at 80 columns the first seven fit.
COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", 24),
    Column("state", "STATE"),
    Column("try", "TRY"),
    Column("health", "HEALTH"),
    Column("runtime", "RUN"),
    Column("age", "AGE"),
    Column("progress", "LAST PROGRESS", 32),
    Column("title", "TITLE", 26),
    Column("role", "ROLE", 12),
    Column("outputs", "OUT"),
    Column("diff", "DIFF"),
    Column("cost", "COST"),
    Column("merge", "MERGE", 18),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)

STATE_RANK = {s: i for i, s in enumerate((
    TaskState.RUNNING, TaskState.VERIFYING, TaskState.FAILED, TaskState.DEAD, TaskState.BLOCKED,
    TaskState.PENDING, TaskState.PASSED, TaskState.MERGED, TaskState.CANCELLED))}
HEALTH_CLASS = {
    Health.OK: "ok", Health.QUIET: "warn", Health.UNPRODUCTIVE: "warn",
    Health.STALE_RESULT: "warn", Health.STUCK: "bad", Health.CRASHED: "bad",
    Health.ORPHAN: "bad", Health.LOST: "bad",
}
HEALTH_RANK = {"ok": 0, "warn": 1, "bad": 2}

# Sort modes in the order ``s`` cycles through them; each names what the row's key holds.
SORT_MODES = ("added", "state", "health", "age", "runtime", "cost", "id")


@dataclass(frozen=True)
class Row:
    task: str
    cells: tuple[Cell, ...]
    order: int  # position in the task file / order added
    state_rank: int
    health_rank: int
    age: float
    runtime: float
    cost: float
    search: str  # lower-case text the filter matches against

    def sort_key(self, mode: str) -> tuple[Any, ...]:
        if mode == "state":
            return (self.state_rank, self.order)
        if mode == "health":
            return (-self.health_rank, self.state_rank, self.order)
        if mode == "age":
            return (-self.age, self.order)
        if mode == "runtime":
            return (-self.runtime, self.order)
        if mode == "cost":
            return (-self.cost, self.order)
        if mode == "id":
            return (self.task,)
        return (self.order,)


def _clip(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if not n or len(s) <= n else s[: n - 1] + "…"


def note(t: TaskView) -> str:
    """The most useful words about a task: why it waits or failed, else its last progress."""
    st = t.state
    if st in (TaskState.BLOCKED, TaskState.FAILED, TaskState.DEAD, TaskState.CANCELLED):
        return t.reason
    if st == TaskState.PENDING:
        return f"retry: {t.reason}" if t.reason else "queued"
    if st in ACTIVE:
        return t.last_progress
    return t.summary


def forecast_cell(fc: dict[str, Any] | None) -> Cell:
    if not fc or not fc.get("target"):
        return Cell("-")
    others = fc.get("conflicts_with") or []
    text = str(fc["target"])
    if others:
        text += " ≠" + ",".join(others)
    if fc.get("out_of_scope"):
        text += " +scope"
    style = "forecast--conflict" if fc["target"] == "conflict" or others else "forecast--clean"
    return Cell(text, style)


def make_row(t: TaskView, order: int, max_attempts: int, now: float) -> Row:
    r = task_row(t, max_attempts, now)
    active = t.state in ACTIVE
    hclass = HEALTH_CLASS.get(t.health, "ok")
    show_health = active or t.health != Health.OK
    age = r["last_progress_age_s"] if active else None
    if active and age is None and t.started_at is not None:
        age = now - t.started_at  # no progress line yet: silent since the start
    diff = t.diff
    diff_cell = Cell("-") if not diff else Cell(
        "", parts=((f"+{diff.get('insertions', 0)}", "diff--add"), (" ", None),
                   (f"-{diff.get('deletions', 0)}", "diff--del")))
    cost = float(t.cost_usd or 0.0)
    cells = (
        Cell(t.id, "cell--id"),
        Cell(str(t.state), f"state--{t.state}"),
        Cell(f"{r['attempt']}/{r['max_attempts']}"),
        Cell(str(t.health) if show_health else "", f"health--{hclass}"),
        Cell(format_age(r["runtime_s"]) if r["runtime_s"] is not None else "-"),
        Cell(format_age(age) if age is not None else "-", f"health--{hclass}" if active and
             hclass != "ok" else None),
        Cell(_clip(note(t), COLUMNS[6].max_width)),
        Cell(_clip(t.spec.title, COLUMNS[7].max_width)),
        Cell(_clip(t.spec.role, COLUMNS[8].max_width)),
        Cell("-" if t.outputs is None else str(t.outputs)),
        diff_cell,
        Cell(f"${cost:.2f}" if cost else "-"),
        forecast_cell(t.forecast),
    )
    search = " ".join((t.id, t.spec.title, t.spec.role, str(t.state), str(t.health),
                       note(t))).lower()
    return Row(task=t.id, cells=cells, order=order, state_rank=STATE_RANK.get(t.state, 99),
               health_rank=HEALTH_RANK[hclass] if show_health else 0, age=age or 0.0,
               runtime=r["runtime_s"] or 0.0, cost=cost, search=search)


def make_rows(state: RunState, config: Config, now: float) -> dict[str, Row]:
    ma = config.retry.max_attempts
    return {t.id: make_row(t, i, ma, now) for i, t in enumerate(state.tasks.values())}


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


def make_header(state: RunState, config: Config, now: float, *, repo: str, live: bool,
                read_only: bool) -> Header:
    status = str(state.status)
    text = {"running": "running", "paused": "paused", "breaker_open": "breaker open",
            "finished": "finished", "stopped": "stopped"}.get(status, status)
    if status not in ("finished", "stopped"):
        if not live:
            status, text = "orphaned", "no supervisor"
        elif (until := state.usage_limited_until) is not None and until > now:
            status = "usage_limited"
            text = "usage-limited until " + datetime.fromtimestamp(until).strftime("%H:%M")
    if state.run == 0:
        status, text = "no_run", "no run yet"
    used = sum(1 for t in state.tasks.values() if t.state in ACTIVE)
    queue = sum(1 for t in state.tasks.values()
                if t.state in (TaskState.PENDING, TaskState.BLOCKED))
    elapsed = "-"
    if state.started_at is not None:
        elapsed = format_age((state.ended_at or now) - state.started_at)
    return Header(repo=repo, target=state.target or "-", base=(state.base or "")[:8],
                  run=state.run, status=status, status_text=text, used=used,
                  max=config.slots.max_agents, reserve=config.slots.reserve, queue=queue,
                  cost=sum(t.cost_usd for t in state.tasks.values()),
                  budget=config.budget.max_cost_usd, elapsed=elapsed, read_only=read_only)


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
    state: str
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
        nodes.append(Node(depth, tid, str(t.state), t.spec.role, descendants(tid)))
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
class Alert:
    seq: int
    time: float
    kind: str
    task: str | None
    text: str
    level: str  # "error", "warning" or "information" (Textual's notification severities)
    bell: bool  # stuck, failed, run finished: worth a sound


def alert_of(ev: Event) -> Alert | None:
    r = raised_by(ev)
    if r is None:
        return None
    return Alert(ev.seq, ev.time, str(ev.kind), ev.task, term_safe(r.text), str(r.level),
                 r.bell)
