"""Dispatch: each tick, start what may start, inside every budget and gate.

Gates, each visible as an event when it closes: paused, breaker open, usage limits (per
account: an agent on ``[[accounts]]`` waits while none of them is free, any other while its
``account``, by default its name, is limited), cost budget, free memory, disk full. The slot
plan itself is pure (``scheduler.plan``); attempts still holding a slot after they ended in the
log (their process has not exited yet) shrink the budget, so ``max_agents`` is never exceeded.
"""

from __future__ import annotations

from swarmtui.engine.accounts.choose import waits
from swarmtui.engine.intents import (
    Ask,
    CheckDiskRecovered,
    DiskIsFull,
    IsStopping,
    MergePending,
    SpawnMany,
)
from swarmtui.engine.ports import Ports
from swarmtui.engine.run import scheduler
from swarmtui.model import DeadWhy, Event, EventKind, TaskState
from swarmtui.model import payloads as p

# Events that cannot change what may start: a tick after only these (the bulk of a busy run's
# log) plans nothing new. Anything else, or REPLAN_S passing (backoffs and limits expire with
# time), plans again.
_IDLE_KINDS = frozenset({
    EventKind.PROGRESS, EventKind.HEALTH, EventKind.DIFF, EventKind.FORECAST,
    EventKind.API_RETRY, EventKind.CONTEXT_FILL, EventKind.CHECK_RAN, EventKind.SCOPE_DRIFT,
    EventKind.AGENT_ACTIVITY,
})
REPLAN_S = 1.0
_WAITING = frozenset({TaskState.PENDING, TaskState.BLOCKED})
# Spawns per tick: a fleet started at once is spread over ticks, so no tick holds the loop
# long; more per tick would not start sooner (the git workers take them a few at a time).
SPAWNS_PER_TICK = 100


class Dispatcher:
    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        c = ports.config.slots
        self.policy = scheduler.SlotPolicy(max_agents=c.max_agents, reserve=c.reserve,
                                           reserve_priority=c.reserve_priority,
                                           pools=dict(c.pools))
        self._dirty = True
        self._planned_at = float("-inf")
        self._gates: tuple[bool, frozenset[str]] | None = None

    def heard(self, ev: Event) -> None:
        if ev.kind not in _IDLE_KINDS:
            self._dirty = True

    def step(self, now: float) -> None:
        if self.ask(IsStopping()):
            return  # the run is being stopped: nothing new starts
        self._lift_usage_limits(now)
        dispatch = self._gates_open()
        st = self.ports.state
        limited = {acct for acct, lim in st.usage_limits.items() if lim.until > now}
        cfg = self.ports.config
        # An agent on [[accounts]] waits only while none of them is free (limited or capped).
        # Where roles or tasks name their own accounts, the spawn holds each task instead.
        own = any(r.accounts for r in cfg.role_settings.values()) or any(
            t.spec.accounts for t in st.tasks.values())
        held = {a for a, ac in cfg.agents.items()
                if (not own and waits(st, cfg, a, now) if ac.accounts
                    else cfg.account_of(a) in limited)}
        held |= set(st.held_agents)
        gates = (dispatch, frozenset(held))
        if not self._dirty and gates == self._gates and (
                now - self._planned_at < REPLAN_S or not any(
                    t.state in _WAITING for t in st.tasks.values())):
            # Nothing that decides what may start has changed since the last plan; time alone
            # (a backoff, a limit running out) matters only to a task waiting to start.
            return
        self._dirty, self._gates, self._planned_at = False, gates, now
        self.propagate_dead_dependencies()
        lingering = st.slots_used() - sum(1 for t in st.tasks.values()
                                          if t.state in (TaskState.RUNNING, TaskState.VERIFYING))
        policy = self.policy
        if lingering:
            policy = scheduler.SlotPolicy(max_agents=max(0, policy.max_agents - lingering),
                                          reserve=policy.reserve,
                                          reserve_priority=policy.reserve_priority,
                                          pools=policy.pools)
        plan = scheduler.plan(st, policy, now, dispatch=dispatch, memory_ok=not st.memory_low,
                              require_merged=self.ports.config.merge.auto, held_agents=held)
        for tid, reason in plan.block.items():
            self.ports.emit(p.TaskBlocked(reason=reason), tid)
        for tid in plan.unblock:
            if tid not in plan.start:
                self.ports.emit(p.TaskUnblocked(), tid)
        start = plan.start[:SPAWNS_PER_TICK]
        if len(plan.start) > len(start):
            self._dirty = True  # the rest next tick, planned again
        if start:  # one transaction (one fsync) for the tick's spawn events
            self.ask(SpawnMany(tuple(self.ports.task(tid) for tid in start)))

    def _lift_usage_limits(self, now: float) -> None:
        for account, lim in list(self.ports.state.usage_limits.items()):
            if now >= lim.until:
                self.ports.emit(p.UsageLimitLifted(until=lim.until, account=account))

    def _gates_open(self) -> bool:
        ports = self.ports
        st = ports.state
        open_ = not (st.paused or st.breaker_open)
        budget = ports.config.budget.max_cost_usd
        if budget > 0:
            spent = sum(t.cost_usd for t in st.tasks.values())
            if spent >= budget:
                open_ = False
                if not st.budget_exhausted:
                    ports.emit(p.BudgetExhausted(spent_usd=round(spent, 4), budget_usd=budget))
        mem = ports.free_memory()
        floor = ports.config.slots.min_free_memory
        low = mem is not None and mem < floor
        if low and not st.memory_low:
            ports.emit(p.MemoryLow(available=mem, floor=floor))
        elif not low and st.memory_low:
            ports.emit(p.MemoryOk(available=mem))
        if self.ask(DiskIsFull()):
            self.ask(CheckDiskRecovered())
            open_ = open_ and not self.ask(DiskIsFull())
        return open_

    def propagate_dead_dependencies(self) -> None:
        ports = self.ports
        auto = ports.config.merge.auto
        for t in list(ports.state.tasks.values()):
            if t.state not in (TaskState.PENDING, TaskState.BLOCKED):
                continue
            for dep in t.spec.depends_on:
                d = ports.state.tasks.get(dep)
                if d is None:
                    continue
                if d.state in (TaskState.DEAD, TaskState.CANCELLED):
                    ports.emit(p.TaskDead(reason=f"dependency {dep} is {d.state}",
                                        why=DeadWhy.DEPENDENCY), t.id)
                    break
                if (auto and d.state == TaskState.PASSED and d.merge_note
                        and not self.ask(MergePending(dep))):
                    # Auto-merge refused it: this task would build on work that is not there.
                    ports.emit(p.TaskDead(reason=f"dependency {dep} passed but was not merged "
                                        f"({d.merge_note[:120]}); merge it, then retry {t.id}",
                                        why=DeadWhy.DEPENDENCY_UNMERGED), t.id)
                    break
