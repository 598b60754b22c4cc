"""Which waiting tasks may start now (pure).

Order: priority (high first), then the order tasks were added. A task starts only when its
dependencies have passed, its declared file scope overlaps no running task's, a slot is free in
the fleet budget and in its role's pool, and (unless it is manual or high-priority) the reserve
stays untouched. Dependency and scope waits make a task ``blocked`` with the reason; waiting
for a slot keeps it ``pending``.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.engine.scope import scopes_overlap
from swarmtui.model import ACTIVE, RunState, TaskState, TaskView

SATISFIED = frozenset({TaskState.PASSED, TaskState.MERGED})


@dataclass(frozen=True)
class SlotPolicy:
    max_agents: int
    reserve: int
    reserve_priority: int
    pools: dict[str, int]


@dataclass
class Plan:
    start: list[str]  # task ids to spawn now, in order
    block: dict[str, str]  # task id -> reason (newly or still blocked)
    unblock: list[str]  # blocked tasks whose reason has gone
    waiting_for_slot: int


def may_use_reserve(t: TaskView, policy: SlotPolicy) -> bool:
    return t.spec.manual or t.spec.priority >= policy.reserve_priority


def dependency_wait(run: RunState, t: TaskView, require_merged: bool = False) -> str | None:
    """Why ``t`` still waits for a dependency, or None. With auto-merge on, a dependency counts
    only once merged, so the dependent starts from a target that holds its work."""
    ok = frozenset({TaskState.MERGED}) if require_merged else SATISFIED
    for dep in t.spec.depends_on:
        d = run.tasks.get(dep)
        if d is None:
            continue  # validated at load: an unknown name is an already-passing feature
        if d.state not in ok:
            return f"waiting for {dep} ({d.state})"
    return None


def _lingering(run: RunState) -> set[str]:
    """Tasks with an attempt whose process may still exist although the log has moved on
    (killed, lost, retried): kill before spawn applies per task too, so a task never has two
    live agents, and such an attempt still holds its task's file scope."""
    out: set[str] = set()
    for a in run.attempts.values():
        if a.exit is None:
            t = run.tasks.get(a.task)
            if t is not None and not (t.state in ACTIVE and t.attempt == a.attempt):
                out.add(a.task)
    return out


def _scope_wait(t: TaskView, holders: list[TaskView]) -> str | None:
    if not t.spec.files:
        return None
    for h in holders:
        if h.id != t.id and h.spec.files and scopes_overlap(t.spec.files, h.spec.files):
            return f"scope overlaps {h.id}"
    return None


@dataclass
class _Budget:
    policy: SlotPolicy
    used: int
    pool_used: dict[str, int]

    def fits(self, t: TaskView) -> bool:
        p = self.policy
        limit = p.max_agents if may_use_reserve(t, p) else p.max_agents - p.reserve
        return self.used < limit and self.pool_used.get(t.spec.role, 0) < p.pools.get(
            t.spec.role, 0)

    def take(self, t: TaskView) -> None:
        self.used += 1
        self.pool_used[t.spec.role] = self.pool_used.get(t.spec.role, 0) + 1

    @classmethod
    def of(cls, policy: SlotPolicy, active: list[TaskView]) -> _Budget:
        """The budget with the slots of the ``active`` tasks taken."""
        budget = cls(policy, len(active), {})
        for t in active:
            budget.pool_used[t.spec.role] = budget.pool_used.get(t.spec.role, 0) + 1
        return budget


def _scope_holders(run: RunState, active: list[TaskView], lingering: set[str]) -> list[TaskView]:
    """Tasks whose scope is locked: the active ones and those with a lingering process."""
    return [*active, *(run.tasks[tid] for tid in lingering if run.tasks[tid] not in active)]


def _prompt_wait(t: TaskView) -> str | None:
    """A spawned task whose prompt the injection screen held waits for the operator."""
    if not t.held:
        return None
    return f"its prompt is held for review: `swarmtui approve {t.held}` or `reject {t.held}`"


def _waiting(run: RunState) -> list[TaskView]:
    """Pending and blocked tasks, by priority (high first), then in the order they were added."""
    order = {tid: i for i, tid in enumerate(run.tasks)}
    return sorted((t for t in run.tasks.values()
                   if t.state in (TaskState.PENDING, TaskState.BLOCKED)),
                  key=lambda t: (-t.spec.priority, order[t.id]))


def _held_back(t: TaskView, now: float, held_agents: frozenset[str] | set[str],
               lingering: set[str]) -> bool:
    """Whether ``t``, free to start, must still wait: for its retry backoff, for its agent to
    be released, or for an earlier attempt's process to end."""
    return t.not_before > now or t.spec.agent in held_agents or t.id in lingering


def plan(run: RunState, policy: SlotPolicy, now: float, *, dispatch: bool = True,
         memory_ok: bool = True, require_merged: bool = False,
         held_agents: frozenset[str] | set[str] = frozenset()) -> Plan:
    """Which waiting tasks start now, which are newly blocked or unblocked, and how many wait
    for a slot (see the module docstring for the order and the gates)."""
    active = [t for t in run.tasks.values() if t.state in ACTIVE]
    budget = _Budget.of(policy, active)
    lingering = _lingering(run)
    holders = _scope_holders(run, active, lingering)
    out = Plan(start=[], block={}, unblock=[], waiting_for_slot=0)
    gates_open = dispatch and memory_ok
    for t in _waiting(run):
        reason = (_prompt_wait(t) or dependency_wait(run, t, require_merged)
                  or _scope_wait(t, holders))
        if reason is not None:
            if t.state != TaskState.BLOCKED or t.reason != reason:
                out.block[t.id] = reason
            continue
        if t.state == TaskState.BLOCKED:
            out.unblock.append(t.id)
        if not gates_open or _held_back(t, now, held_agents, lingering):
            continue
        if not budget.fits(t):
            out.waiting_for_slot += 1
            continue
        out.start.append(t.id)
        budget.take(t)
        holders.append(t)
    return out
