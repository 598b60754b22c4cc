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


@dataclass(frozen=True)
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


def plan(run: RunState, policy: SlotPolicy, now: float, *, dispatch: bool = True,
         memory_ok: bool = True, require_merged: bool = False,
         held_agents: frozenset[str] | set[str] = frozenset()) -> Plan:
    active = [t for t in run.tasks.values() if t.state in ACTIVE]
    used = len(active)
    pool_used: dict[str, int] = {}
    for t in active:
        pool_used[t.spec.role] = pool_used.get(t.spec.role, 0) + 1
    holders: list[TaskView] = list(active)  # tasks whose scope is locked
    order = {tid: i for i, tid in enumerate(run.tasks)}
    waiting = [t for t in run.tasks.values()
               if t.state in (TaskState.PENDING, TaskState.BLOCKED)]
    waiting.sort(key=lambda t: (-t.spec.priority, order[t.id]))
    start: list[str] = []
    block: dict[str, str] = {}
    unblock: list[str] = []
    slot_waits = 0
    for t in waiting:
        reason = dependency_wait(run, t, require_merged)
        if reason is None and t.spec.files:
            for h in holders:
                if h.spec.files and scopes_overlap(t.spec.files, h.spec.files):
                    reason = f"scope overlaps {h.id}"
                    break
        if reason is not None:
            if t.state != TaskState.BLOCKED or t.reason != reason:
                block[t.id] = reason
            continue
        if t.state == TaskState.BLOCKED:
            unblock.append(t.id)
        if t.not_before > now or not dispatch or not memory_ok or t.spec.agent in held_agents:
            continue
        limit = policy.max_agents if may_use_reserve(t, policy) else (
            policy.max_agents - policy.reserve)
        pool = policy.pools.get(t.spec.role, 0)
        if used >= limit or pool_used.get(t.spec.role, 0) >= pool:
            slot_waits += 1
            continue
        start.append(t.id)
        used += 1
        pool_used[t.spec.role] = pool_used.get(t.spec.role, 0) + 1
        holders.append(t)
    return Plan(start=start, block=block, unblock=unblock, waiting_for_slot=slot_waits)
