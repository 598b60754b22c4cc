"""Tests for swarmtui.engine.run.scheduler.plan: slots, reserve, pools, dependencies, scope locks,
ordering and backoff. Run states are built by folding events with model.apply."""

from __future__ import annotations

from typing import Any

import pytest

from swarmtui.engine.run.scheduler import Plan, SlotPolicy, plan
from swarmtui.model import (
    CAUSE_POLICY,
    Cause,
    DeadWhy,
    Event,
    RunState,
    TaskSpec,
    TaskState,
    apply,
)

NOW = 1_700_000_000.0


def failed(cause: Cause = Cause.CRASHED, reason: str = "crashed") -> dict[str, Any]:
    """The data of an attempt_failed event for ``cause`` (counted as its policy says)."""
    pol = CAUSE_POLICY[cause]
    return {"cause": cause, "reason": reason, "counts_attempt": pol.counts_attempt,
            "counts_breaker": pol.counts_breaker}


class Run:
    """A RunState driven only through events, as the supervisor would drive it."""

    def __init__(self) -> None:
        self.state = RunState()
        self.seq = 0

    def ev(self, kind: str, task: str | None = None, attempt: int | None = None,
           **data: Any) -> Run:
        self.seq += 1
        apply(self.state, Event.make(seq=self.seq, time=NOW - 1000 + self.seq, kind=kind,
                                     task=task, attempt=attempt, data=data, run=1))
        return self

    def add(self, tid: str, *, role: str = "worker", files: tuple[str, ...] = (),
            depends_on: tuple[str, ...] = (), priority: int = 0, manual: bool = False) -> Run:
        spec = TaskSpec(id=tid, title=tid, prompt=f"do {tid}", role=role, agent="claude",
                        files=files, depends_on=depends_on, priority=priority, manual=manual)
        return self.ev("task_added", tid, spec=spec.to_dict())

    def running(self, tid: str) -> Run:
        n = self.state.tasks[tid].attempt + 1
        return self.ev("attempt_spawned", tid, n, window=f"@{tid}{n}", worktree=f"/wt/{tid}-{n}",
                       branch=f"swarm/{tid}-{n}", agent="claude")

    def fail(self, tid: str, cause: Cause = Cause.CRASHED, reason: str = "crashed", *,
             exited: bool = True) -> Run:
        """The attempt failed; with ``exited`` its process is also gone (the usual case)."""
        a = self.state.tasks[tid].attempt
        self.ev("attempt_failed", tid, a, **failed(cause, reason))
        return self.ev("agent_exited", tid, a, how="exited", code=1) if exited else self

    def passed(self, tid: str) -> Run:
        self.running(tid)
        a = self.state.tasks[tid].attempt
        self.ev("verify_started", tid, a).ev("verify_passed", tid, a)
        return self.ev("agent_exited", tid, a, how="exited", code=0)


def policy(max_agents: int = 4, reserve: int = 0, reserve_priority: int = 10,
           **pools: int) -> SlotPolicy:
    return SlotPolicy(max_agents=max_agents, reserve=reserve, reserve_priority=reserve_priority,
                      pools=pools or {"worker": 100, "reviewer": 100})


def test_never_exceeds_max_agents_counting_active() -> None:
    """Running and verifying tasks use slots; only the free ones are filled."""
    r = Run()
    for i in range(7):
        r.add(f"t{i}")
    r.running("t0").running("t1")
    r.ev("verify_started", "t1", 1)
    p = plan(r.state, policy(max_agents=4), NOW)
    assert p.start == ["t2", "t3"]
    assert p.waiting_for_slot == 3
    assert p.block == {} and p.unblock == []


def test_full_fleet_starts_nothing() -> None:
    """With every slot taken, every waiting task waits for a slot."""
    r = Run()
    for i in range(3):
        r.add(f"t{i}").running(f"t{i}")
    r.add("w1").add("w2", manual=True, priority=99)
    p = plan(r.state, policy(max_agents=3, reserve=1), NOW)
    assert p.start == [] and p.waiting_for_slot == 2


def test_reserve_only_for_manual_or_high_priority() -> None:
    """Ordinary tasks leave the reserve free; a manual task may take it."""
    r = Run()
    r.add("n1").add("n2").add("n3").add("m", manual=True)
    p = plan(r.state, policy(max_agents=3, reserve=1), NOW)
    assert p.start == ["n1", "n2", "m"]
    assert p.waiting_for_slot == 1


@pytest.mark.parametrize(("priority", "uses_reserve"), [(9, False), (10, True), (11, True)])
def test_reserve_priority_threshold(priority: int, uses_reserve: bool) -> None:
    """Priority >= reserve_priority may use the reserve; below it may not."""
    r = Run()
    r.add("busy").running("busy")
    r.add("hi", priority=priority)
    p = plan(r.state, policy(max_agents=2, reserve=1, reserve_priority=10), NOW)
    assert p.start == (["hi"] if uses_reserve else [])
    assert p.waiting_for_slot == (0 if uses_reserve else 1)


def test_per_role_pools() -> None:
    """A role's pool caps its tasks even when the fleet has room."""
    r = Run()
    r.add("rev0", role="reviewer").running("rev0")
    r.add("rev1", role="reviewer").add("w1").add("rev2", role="reviewer").add("w2").add("w3")
    p = plan(r.state, policy(max_agents=10, worker=2, reviewer=1), NOW)
    assert p.start == ["w1", "w2"]
    assert p.waiting_for_slot == 3  # rev1, rev2 (pool) and w3 (pool)


def test_role_without_pool_never_starts() -> None:
    """A role missing from the pools has no slots."""
    r = Run()
    r.add("x", role="stranger")
    p = plan(r.state, policy(max_agents=4, worker=4), NOW)
    assert p.start == [] and p.waiting_for_slot == 1


def test_dependency_blocks_with_reason() -> None:
    """A task whose dependency has not passed is blocked with a reason naming it."""
    r = Run()
    r.add("base").add("next", depends_on=("base",))
    p = plan(r.state, policy(), NOW)
    assert p.start == ["base"]
    assert p.block == {"next": "waiting for base (pending)"}
    r.ev("task_blocked", "next", reason=p.block["next"]).running("base")
    p = plan(r.state, policy(), NOW)
    # The reason changed (base is running now), so it is reported again with the new one.
    assert p.block == {"next": "waiting for base (running)"}
    r.ev("task_blocked", "next", reason=p.block["next"])
    assert plan(r.state, policy(), NOW).block == {}  # same reason: nothing new to report


@pytest.mark.parametrize("dep_state", ["failed", "dead", "cancelled", "verifying"])
def test_dependency_not_passed_keeps_blocking(dep_state: str) -> None:
    """Only passed or merged dependencies satisfy a task."""
    r = Run()
    r.add("base").add("next", depends_on=("base",)).running("base")
    if dep_state == "failed":
        r.fail("base", reason="x")
    elif dep_state == "dead":
        r.fail("base").ev("task_dead", "base", 1, reason="gave up", why=DeadWhy.GAVE_UP)
    elif dep_state == "cancelled":
        r.ev("task_cancelled", "base", 1, reason="cancelled")
    else:
        r.ev("verify_started", "base", 1)
    p = plan(r.state, policy(), NOW)
    assert p.start == []
    assert p.block == {"next": f"waiting for base ({dep_state})"}


def test_dependency_passed_or_merged_releases() -> None:
    """Once the dependency passed (or merged), the blocked task is unblocked and started."""
    r = Run()
    r.add("base").add("next", depends_on=("base",))
    r.ev("task_blocked", "next", reason="waiting for base (pending)")
    r.passed("base")
    p = plan(r.state, policy(), NOW)
    assert p.unblock == ["next"] and p.start == ["next"] and p.block == {}
    r.ev("task_merged", "base", 1, branch="swarm/base-1", target="main", commit="c0ffee")
    assert plan(r.state, policy(), NOW).start == ["next"]


def test_unknown_dependency_is_satisfied() -> None:
    """A dependency the run does not know (an already-passing feature) does not block."""
    r = Run()
    r.add("t", depends_on=("feature-0",))
    p = plan(r.state, policy(), NOW)
    assert p.start == ["t"] and p.block == {}


def test_scope_overlap_with_running_blocks() -> None:
    """A task whose files overlap a running task's is blocked naming that task."""
    r = Run()
    r.add("holder", files=("src/**",)).running("holder")
    r.add("w", files=("src/a.py",)).add("free", files=("docs/*.md",)).add("noscope")
    p = plan(r.state, policy(), NOW)
    assert p.block == {"w": "scope overlaps holder"}
    assert p.start == ["free", "noscope"]


def test_two_waiting_with_overlapping_scope_only_first_starts() -> None:
    """Of two waiting tasks that overlap, only the first starts; the second is blocked on it."""
    r = Run()
    r.add("a", files=("docs/*.md",)).add("b", files=("docs/guide.md",))
    p = plan(r.state, policy(), NOW)
    assert p.start == ["a"]
    assert p.block == {"b": "scope overlaps a"}


def test_task_without_start_does_not_lock_scope() -> None:
    """A waiting task that did not start (no slot) holds no scope lock over later ones."""
    r = Run()
    r.add("busy").running("busy")
    r.add("a", files=("x/**",)).add("m", files=("x/1",), manual=True)
    p = plan(r.state, policy(max_agents=2, reserve=1), NOW)
    assert p.start == ["m"]
    assert p.block == {}
    assert p.waiting_for_slot == 1


def test_priority_then_insertion_order() -> None:
    """Higher priority starts first; equal priorities keep the order they were added in."""
    r = Run()
    r.add("low").add("mid1", priority=2).add("high", priority=5).add("mid2", priority=2)
    assert plan(r.state, policy(max_agents=3), NOW).start == ["high", "mid1", "mid2"]
    assert plan(r.state, policy(max_agents=10), NOW).start == ["high", "mid1", "mid2", "low"]


def test_not_before_in_future_waits() -> None:
    """A requeued task waits for its backoff time, and starts once it has passed."""
    r = Run()
    r.add("t").running("t")
    r.fail("t", reason="crash")
    r.ev("task_requeued", "t", 1, not_before=NOW + 30)
    p = plan(r.state, policy(), NOW)
    assert p.start == [] and p.waiting_for_slot == 0
    assert plan(r.state, policy(), NOW + 30).start == ["t"]


@pytest.mark.parametrize("kw", [{"dispatch": False}, {"memory_ok": False},
                                {"dispatch": False, "memory_ok": False}])
def test_no_dispatch_or_low_memory_starts_nothing(kw: dict[str, bool]) -> None:
    """Paused dispatch or low memory start nothing but still report blocks and unblocks."""
    r = Run()
    r.add("a").add("b", depends_on=("a",)).add("c", depends_on=("gone",))
    r.ev("task_blocked", "c", reason="scope overlaps zzz")
    p = plan(r.state, policy(), NOW, **kw)
    assert p == Plan(start=[], block={"b": "waiting for a (pending)"}, unblock=["c"],
                     waiting_for_slot=0)


def test_blocked_task_whose_reason_vanished_is_unblocked() -> None:
    """A task blocked on scope is unblocked once the holder is no longer active."""
    r = Run()
    r.add("holder", files=("src/**",)).add("w", files=("src/a.py",))
    r.running("holder").ev("task_blocked", "w", reason="scope overlaps holder")
    p = plan(r.state, policy(), NOW)
    assert p.unblock == [] and p.block == {} and p.start == []
    r.ev("verify_started", "holder", 1).ev("verify_passed", "holder", 1)
    r.ev("agent_exited", "holder", 1, how="exited", code=0)
    p = plan(r.state, policy(), NOW)
    assert p.unblock == ["w"] and p.start == ["w"]
    # With no slot free it is still unblocked, but does not start.
    r2 = Run()
    r2.add("other").running("other")
    r2.add("w", files=("src/a.py",)).ev("task_blocked", "w", reason="scope overlaps holder")
    p2 = plan(r2.state, policy(max_agents=1), NOW)
    assert p2.unblock == ["w"] and p2.start == [] and p2.waiting_for_slot == 1


def test_only_pending_and_blocked_are_candidates() -> None:
    """Failed, dead, passed, merged and cancelled tasks are never started by plan."""
    r = Run()
    r.add("f").running("f").fail("f")
    r.add("d").ev("task_dead", "d", reason="dependency x died", why=DeadWhy.DEPENDENCY)
    r.add("c").ev("task_cancelled", "c", reason="cancelled")
    r.add("p").passed("p")
    p = plan(r.state, policy(), NOW)
    assert p == Plan(start=[], block={}, unblock=[], waiting_for_slot=0)
    assert {t.state for t in r.state.tasks.values()} == {
        TaskState.FAILED, TaskState.DEAD, TaskState.CANCELLED, TaskState.PASSED}


def test_an_attempt_whose_process_lingers_holds_its_slot_its_scope_and_its_task() -> None:
    """Kill before spawn: a failed attempt whose agent has not exited yet keeps its slot and
    its file scope, and its task gets no new attempt until it has."""
    r = Run()
    r.add("a", files=("src/x.py",)).add("b", files=("src/x.py",)).add("c")
    r.running("a").fail("a", exited=False)
    r.ev("task_requeued", "a", 1, not_before=0.0)
    p = plan(r.state, policy(max_agents=2), NOW)
    assert "a" not in p.start  # its first agent may still be running
    assert p.block.get("b") == "scope overlaps a" and p.start == ["c"]
    assert r.state.slots_used() == 1
    r.ev("agent_exited", "a", 1, how="terminated", signal="SIGTERM")
    p = plan(r.state, policy(max_agents=2), NOW)
    assert p.start == ["a", "c"] and "b" in p.block
