"""Tests for swarmtui.model: the transition table, event projection and TaskSpec round trips."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from swarmtui.errors import IllegalTransition, SwarmError
from swarmtui.model import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    Cause,
    DeadWhy,
    Event,
    EventSchemaError,
    ExitHow,
    Health,
    RunState,
    RunStatus,
    TaskSpec,
    TaskState,
    apply,
    can_transition,
    check_transition,
    next_state,
    project,
)

LEGAL = sorted((src, dst) for src, dsts in TRANSITIONS.items() for dst in dsts)
ILLEGAL = sorted(
    (src, dst)
    for src, dst in itertools.product(TaskState, TaskState)
    if dst not in TRANSITIONS[src]
)


def spec(tid: str, **kw: Any) -> TaskSpec:
    d: dict[str, Any] = {"id": tid, "title": f"title {tid}", "prompt": f"do {tid}",
                         "role": "worker", "agent": "claude"}
    d.update(kw)
    return TaskSpec(**d)


def spawned(window: str, tid: str = "t", n: int = 1) -> dict[str, Any]:
    """The data of an attempt_spawned event."""
    return {"window": window, "worktree": f"/wt/{tid}-{n}", "branch": f"swarm/{tid}-{n}",
            "agent": "claude"}


def started(base: str = "main", repo: str = "/r", **kw: Any) -> dict[str, Any]:
    """The data of a run_started event (``run`` is the Log's run unless given)."""
    return {"repo": repo, "base": base, "target": base, **kw}


class Log:
    """Builds events with increasing seq and time, as the store would."""

    def __init__(self, run: int = 1, t0: float = 1_700_000_000.0) -> None:
        self.run = run
        self.seq = 0
        self.now = t0
        self.events: list[Event] = []

    def add(self, kind: str, task: str | None = None, attempt: int | None = None,
            *, run: int | None = None, dt: float = 1.0, **data: Any) -> Event:
        self.seq += 1
        self.now += dt
        run = self.run if run is None else run
        if kind == "run_started":
            data.setdefault("run", run)
        ev = Event.make(seq=self.seq, time=self.now, kind=kind, task=task, attempt=attempt,
                        data=data, run=run)
        self.events.append(ev)
        return ev


# -- the transition table ---------------------------------------------------------------------


def test_table_covers_every_state() -> None:
    """Every state has an entry, and the cross product splits into legal and illegal pairs."""
    assert set(TRANSITIONS) == set(TaskState)
    assert len(LEGAL) + len(ILLEGAL) == len(TaskState) ** 2
    assert LEGAL and ILLEGAL


@pytest.mark.parametrize(("src", "dst"), LEGAL, ids=[f"{s}->{d}" for s, d in LEGAL])
def test_legal_transition_accepted(src: TaskState, dst: TaskState) -> None:
    """Each transition listed in TRANSITIONS passes check_transition."""
    assert can_transition(src, dst)
    check_transition("t1", src, dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL, ids=[f"{s}->{d}" for s, d in ILLEGAL])
def test_illegal_transition_refused(src: TaskState, dst: TaskState) -> None:
    """Each pair not in TRANSITIONS raises IllegalTransition naming the task and both states."""
    assert not can_transition(src, dst)
    with pytest.raises(IllegalTransition) as info:
        check_transition("task-x7", src, dst)
    msg = str(info.value)
    assert "task-x7" in msg
    assert f"from {src.value} to {dst.value}" in msg
    assert isinstance(info.value, SwarmError)


def test_terminal_states_are_final_or_revivable_only_by_retry() -> None:
    """Merged and cancelled allow nothing; the message says so."""
    assert TRANSITIONS[TaskState.MERGED] == frozenset()
    assert TRANSITIONS[TaskState.CANCELLED] == frozenset()
    with pytest.raises(IllegalTransition, match=r"nothing \(terminal\)"):
        check_transition("t", TaskState.MERGED, TaskState.PENDING)
    assert {TaskState.RUNNING, TaskState.VERIFYING} == ACTIVE
    assert not (ACTIVE & TERMINAL)


# -- projection -------------------------------------------------------------------------------


def realistic_run() -> tuple[Log, dict[str, float]]:
    """A run with a parent task, a dependent task and a spawned child; returns the log and
    the times of some events."""
    log = Log(run=1)
    at: dict[str, float] = {}
    at["start"] = log.add("run_started", **started(tasks_file="tasks.toml"), run=1).time
    log.add("task_added", "t1", spec=spec("t1", files=["src/**"], verify="pytest",
                                          priority=2).to_dict())
    log.add("task_added", "t2", spec=spec("t2", depends_on=["t1"]).to_dict())
    log.add("task_blocked", "t2", reason="waiting for t1 (pending)")
    at["spawn1"] = log.add("attempt_spawned", "t1", 1, **spawned("@3", "t1")).time
    log.add("task_added", "t1a", spec=spec("t1a", parent="t1", depth=1, manual=True,
                                           source="spawn:t1-1").to_dict())
    log.add("progress", "t1", 1, status="reading code", n=1)
    at["progress2"] = log.add("progress", "t1", 1, status="writing", outputs=2, n=2).time
    log.add("health", "t1", 1, health="quiet", evidence={"silent_s": 130.0})
    at["progress3"] = log.add("progress", "t1", 1, status="still writing", n=3).time
    log.add("health", "t1", 1, health="ok")
    at["results"] = log.add("results", "t1", 1, status="done", summary="did t1").time
    log.add("agent_exited", "t1", 1, how="exited", cost_usd=0.25, tokens=1000, code=0)
    log.add("verify_started", "t1", 1)
    log.add("verify_passed", "t1", 1, tail="3 passed")
    log.add("task_unblocked", "t2")
    # The child: a counted failure, a requeue with a note, then an uncounted failure and death.
    log.add("attempt_spawned", "t1a", 1, **spawned("@4", "t1a"))
    at["child_crashed"] = log.add("attempt_failed", "t1a", 1, cause="crashed", reason="crashed",
                                  counts_attempt=True, counts_breaker=True,
                                  health="crashed").time
    log.add("task_requeued", "t1a", 1, note="try the other API", not_before=1_700_000_100.0)
    at["spawn_child2"] = log.add("attempt_spawned", "t1a", 2, **spawned("@5", "t1a", 2)).time
    at["child_failed"] = log.add("attempt_failed", "t1a", 2, cause="killed",
                                 reason="killed by operator", counts_attempt=False,
                                 counts_breaker=False).time
    log.add("task_dead", "t1a", 2, reason="gave up after operator kill", why="needs_operator")
    log.add("dispatch_paused")
    log.add("breaker_opened", reason="5 failures within 600s")
    log.add("dispatch_resumed")
    at["end"] = log.add("run_finished", ok=False).time
    return log, at


def test_project_realistic_run() -> None:
    """Projecting a full run yields the expected run and task fields."""
    log, at = realistic_run()
    st = project(log.events)
    assert st.run == 1
    assert (st.repo, st.base, st.target, st.tasks_file) == ("/r", "main", "main", "tasks.toml")
    assert st.started_at == at["start"]
    assert st.ended_at == at["end"]
    assert st.status == RunStatus.FINISHED
    assert not st.paused and not st.breaker_open and st.breaker_reason == ""
    assert st.last_seq == log.seq
    assert [t.id for t in st.ordered()] == ["t1", "t2", "t1a"]

    t1 = st.tasks["t1"]
    assert t1.state == TaskState.PASSED
    assert t1.attempt == 1
    assert t1.window == "@3"
    assert t1.started_at == at["spawn1"]
    assert t1.last_progress_at == at["progress3"]
    assert t1.last_progress == "still writing"
    assert t1.progress_lines == 3
    assert t1.outputs == 2  # a line without outputs keeps the last count
    assert t1.health == Health.OK
    assert t1.summary == "did t1"
    assert t1.result_status == "done"
    assert t1.result_at == at["results"]
    assert t1.verify_tail == "3 passed"
    assert t1.cost_usd == pytest.approx(0.25)
    assert t1.tokens == 1000
    assert t1.ended_at is not None
    assert t1.children == ["t1a"]
    assert t1.spec.files == ("src/**",) and t1.spec.priority == 2

    t2 = st.tasks["t2"]
    assert t2.state == TaskState.PENDING
    assert t2.reason == ""
    assert t2.attempt == 0
    assert t2.spec.depends_on == ("t1",)

    child = st.tasks["t1a"]
    assert child.state == TaskState.DEAD
    assert child.spec.parent == "t1" and child.spec.depth == 1 and child.spec.manual
    assert child.attempt == 2
    assert child.failures == 1  # counts_attempt=False did not count
    assert child.reason == "gave up after operator kill"
    assert child.cause == Cause.KILLED  # the newest attempt's cause
    assert child.dead_why == DeadWhy.NEEDS_OPERATOR
    assert child.retry_note == "try the other API"
    assert child.not_before == 1_700_000_100.0
    assert child.window == "@5"
    assert child.started_at == at["spawn_child2"]
    assert child.ended_at == at["child_failed"]
    assert child.health == Health.OK  # reset by the second spawn
    assert st.active() == []
    # Every attempt is on record, with how its process ended (when that was seen).
    assert sorted(st.attempts) == ["t1-1", "t1a-1", "t1a-2"]
    a = st.attempts["t1-1"]
    assert (a.window, a.worktree, a.branch, a.agent) == ("@3", "/wt/t1-1", "swarm/t1-1",
                                                         "claude")
    assert a.exit == ExitHow.EXITED and st.attempts["t1a-2"].exit is None
    # Only the counted failure entered the breaker's window, and resuming cleared it.
    assert st.breaker_window == []


def test_project_intermediate_states() -> None:
    """Prefixes of the log show running, verifying, blocked and the pause/breaker statuses."""
    log, at = realistic_run()
    kinds = [e.kind for e in log.events]

    def upto(kind: str, nth: int = 1) -> RunState:
        idx = [i for i, k in enumerate(kinds) if k == kind][nth - 1]
        return project(log.events[: idx + 1])

    s = upto("task_blocked")
    assert s.tasks["t2"].state == TaskState.BLOCKED
    assert s.tasks["t2"].reason == "waiting for t1 (pending)"
    s = upto("health")
    assert s.tasks["t1"].health == Health.QUIET
    assert s.tasks["t1"].state == TaskState.RUNNING
    assert [t.id for t in s.active()] == ["t1"]
    s = upto("verify_started")
    assert s.tasks["t1"].state == TaskState.VERIFYING
    s = upto("attempt_failed")
    child = s.tasks["t1a"]
    assert child.state == TaskState.FAILED
    assert child.failures == 1
    assert child.reason == "crashed"
    assert child.cause == Cause.CRASHED
    assert child.health == Health.CRASHED
    assert s.breaker_window == [at["child_crashed"]]
    s = upto("attempt_failed", 2)
    assert s.tasks["t1a"].failures == 1 and s.tasks["t1a"].cause == Cause.KILLED
    assert s.breaker_window == [at["child_crashed"]]  # counts_breaker=False
    s = upto("task_requeued")
    assert s.tasks["t1a"].state == TaskState.PENDING
    assert s.tasks["t1a"].reason == "crashed"  # a requeue without a reason keeps the old one
    s = upto("dispatch_paused")
    assert s.paused and s.status == RunStatus.PAUSED
    s = upto("breaker_opened")
    assert s.breaker_open and s.breaker_reason == "5 failures within 600s"
    assert s.status == RunStatus.BREAKER_OPEN
    assert s.breaker_window == [at["child_crashed"]]
    s = upto("dispatch_resumed")
    assert s.status == RunStatus.RUNNING
    assert not s.paused and not s.breaker_open and s.breaker_reason == ""
    assert s.ended_at is None


def test_project_filters_by_run() -> None:
    """project(events, run=n) ignores the events of other runs."""
    log, _ = realistic_run()
    log.add("run_started", run=2, **started("dev", tasks_file="b.toml"))
    log.add("task_added", "t9", run=2, spec=spec("t9").to_dict())
    log.add("attempt_spawned", "t9", 1, run=2, **spawned("@9", "t9"))
    one = project(log.events, run=1)
    two = project(log.events, run=2)
    assert set(one.tasks) == {"t1", "t2", "t1a"}
    assert one.status == RunStatus.FINISHED
    assert set(two.tasks) == {"t9"}
    assert two.run == 2 and two.base == "dev"
    assert two.status == RunStatus.RUNNING
    assert two.tasks["t9"].state == TaskState.RUNNING
    # The filter also holds when a run-2 event refers to a run-1 task id.
    log.add("verify_passed", "t1", 1, run=2)
    assert project(log.events, run=1).tasks["t1"].state == TaskState.PASSED


def test_illegal_event_raises_at_replay() -> None:
    """A log that jumps a task from pending straight to passed fails to replay."""
    log = Log()
    log.add("run_started", run=1, **started())
    log.add("task_added", "t1", spec=spec("t1").to_dict())
    log.add("verify_passed", "t1", 1)
    with pytest.raises(IllegalTransition, match=r"t1.*from pending to passed"):
        project(log.events)


def test_merged_task_cannot_be_requeued_in_a_log() -> None:
    """A requeue after merge is caught at replay, not silently applied."""
    log = Log()
    log.add("task_added", "t1", spec=spec("t1").to_dict())
    log.add("attempt_spawned", "t1", 1, **spawned("@1", "t1"))
    log.add("verify_started", "t1", 1)
    log.add("verify_passed", "t1", 1)
    log.add("task_merged", "t1", 1, branch="swarm/t1-1", target="main", commit="c0ffee")
    assert project(log.events).tasks["t1"].state == TaskState.MERGED
    log.add("task_requeued", "t1", 1)
    with pytest.raises(IllegalTransition):
        project(log.events)


def test_events_for_unknown_tasks_are_ignored() -> None:
    """An event naming a task the run does not know changes nothing and does not raise."""
    log = Log()
    log.add("task_added", "t1", spec=spec("t1").to_dict())
    ev = log.add("verify_passed", "ghost", 1)
    st = project(log.events)
    assert next_state(st, ev) is None
    assert set(st.tasks) == {"t1"} and st.tasks["t1"].state == TaskState.PENDING


def test_next_state_and_apply_in_place() -> None:
    """next_state predicts the state an event moves to; apply mutates and returns the state."""
    log = Log()
    st = RunState()
    same = apply(st, log.add("task_added", "t1", spec=spec("t1").to_dict()))
    assert same is st
    ev = log.add("attempt_spawned", "t1", None, **spawned("@1", "t1"))
    assert next_state(st, ev) == TaskState.RUNNING
    apply(st, ev)
    assert st.tasks["t1"].attempt == 1  # no attempt number: the next one
    assert next_state(st, log.add("progress", "t1", 1, status="x", n=1)) is None


def test_attempt_base_continues_numbering() -> None:
    """A task added with attempt_base continues attempt numbers from there."""
    log = Log()
    log.add("task_added", "t1", spec=spec("t1").to_dict(), attempt_base=3)
    st = project(log.events)
    assert st.tasks["t1"].attempt == 3 and st.tasks["t1"].attempt_base == 3
    log.add("attempt_spawned", "t1", None, **spawned("@1", "t1", 4))
    assert project(log.events).tasks["t1"].attempt == 4


def test_run_stopped_and_resumed() -> None:
    """run_stopped ends the run; run_resumed brings it back to running."""
    log = Log()
    log.add("run_started", run=1, **started())
    stop = log.add("run_stopped")
    st = project(log.events)
    assert st.status == RunStatus.STOPPED and st.ended_at == stop.time
    log.add("dispatch_paused")
    assert project(log.events).status == RunStatus.STOPPED  # a finished run stays finished
    log.add("run_resumed")
    st = project(log.events)
    assert st.status == RunStatus.PAUSED and st.ended_at is None


def test_copy_is_deep() -> None:
    """RunState.copy does not share task views with the original."""
    log, _ = realistic_run()
    st = project(log.events)
    cp = st.copy()
    assert cp == st
    cp.tasks["t1"].children.append("zzz")
    assert st.tasks["t1"].children == ["t1a"]


# -- TaskSpec ---------------------------------------------------------------------------------


def test_taskspec_round_trip_full() -> None:
    """Every field survives to_dict -> JSON -> from_dict."""
    s = TaskSpec(id="f-3", title="Feature 3", prompt="implement it", role="reviewer",
                 agent="codex", files=("src/a.py", "docs/**"), verify="make test",
                 depends_on=("f-1", "f-2"), max_attempts=5, priority=7, source="spawn:f-1-2",
                 parent="f-1", depth=2, manual=True, feature={"file": "features.json",
                                                             "index": 3})
    d = s.to_dict()
    assert d["files"] == ["src/a.py", "docs/**"] and d["depends_on"] == ["f-1", "f-2"]
    back = TaskSpec.from_dict(json.loads(json.dumps(d)))
    assert back == s
    assert isinstance(back.files, tuple) and isinstance(back.depends_on, tuple)


def test_taskspec_round_trip_minimal_and_unknown_keys() -> None:
    """Defaults round-trip, and keys from a newer writer are ignored, not fatal."""
    s = spec("t1")
    assert TaskSpec.from_dict(s.to_dict()) == s
    d = s.to_dict() | {"from_the_future": 1}
    d["files"] = None
    assert TaskSpec.from_dict(d) == s


# -- typed payloads ---------------------------------------------------------------------------


def test_event_make_validates_against_the_kind() -> None:
    """Event.make types its payload by kind; unknown kinds, unknown fields and missing required
    fields are refused naming the kind, and ``data`` is the plain-JSON view."""
    ev = Event.make(1, 2.0, "attempt_failed", "t1", 1,
                    {"cause": "stuck", "reason": "no progress", "counts_attempt": True,
                     "counts_breaker": True})
    assert ev.kind == "attempt_failed"
    assert ev.payload.cause == Cause.STUCK  # type: ignore[attr-defined]
    assert ev.data["cause"] == "stuck" and ev.data["health"] is None
    with pytest.raises(EventSchemaError, match="unknown event kind 'tick'"):
        Event.make(1, 2.0, "tick")
    with pytest.raises(EventSchemaError, match=r"task_dead.*why"):
        Event.make(1, 2.0, "task_dead", "t1", data={"reason": "gave up"})
    with pytest.raises(EventSchemaError, match=r"agent_exited.*reason"):
        Event.make(1, 2.0, "agent_exited", "t1", 1, {"how": "exited", "reason": "exited"})
    with pytest.raises(EventSchemaError, match=r"agent_exited.*how"):
        Event.make(1, 2.0, "agent_exited", "t1", 1, {"how": "vaporised"})
