"""What needs the operator (model/attention.py): each kind on a crafted state, the order, the
command that acts on it, and the typed note kind it reads, folded from the agent CLI's signals."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmtui.model import (
    Cause,
    DeadWhy,
    Event,
    Health,
    NoteKind,
    RunState,
    TaskSpec,
    TaskState,
    TaskView,
    UsageLimit,
    apply,
)
from swarmtui.model.attention import NONE_RANK, RANKS, Need, NeedKind, need_of, needs_you
from swarmtui.model.state import Asked, Held
from tests.test_tui_world import NOW, T0, build_world

ACCOUNT = "acct"


def task(tid: str = "t", **kw: object) -> TaskView:
    spec = TaskSpec(id=tid, title=tid, prompt=tid, role="worker", agent="claude")
    return TaskView(spec=spec, **kw)  # type: ignore[arg-type]


def need(t: TaskView, state: RunState | None = None, now: float = NOW) -> Need | None:
    state = state or RunState()
    state.tasks.setdefault(t.id, t)
    return need_of(t, state, ACCOUNT, now)


def held_text(task_id: str) -> Held:
    return Held(qid="q-abcd1234", digest="d", task=task_id, attempt=1, source="results",
                reasons=["instructions to the model"], excerpt="...", first_seq=1)


# One crafted task per kind: (the task, the state around it) -> (kind, text, command).
CASES: dict[str, tuple[TaskView, RunState | None, NeedKind, str, str | None]] = {
    "prompt held": (task(state=TaskState.PENDING, held="q-00ff00ff"), None, NeedKind.HELD,
                    "prompt held for review (q-00ff00ff): approve or reject it",
                    "swarmtui approve q-00ff00ff"),
    "text held": (task(state=TaskState.RUNNING, attempt=1),
                  RunState(quarantine={"q-abcd1234": held_text("t")}), NeedKind.HELD,
                  "text from its results held for review (q-abcd1234): approve or reject it",
                  "swarmtui approve q-abcd1234"),
    "asks": (task(state=TaskState.RUNNING, attempt=1, asks=[
        Asked(2, "Bash", '{"command": "git push"}', "Bash(git push:*)", 0.0, 900.0)]), None,
        NeedKind.ASKS, "asks to use Bash(git push:*)", "swarmtui allow 't#2'"),
    "denied": (task(state=TaskState.RUNNING, attempt=1, denied=["Bash(git add:*)"]), None,
               NeedKind.PERMISSION, "needs permission: Bash(git add:*)",
               "swarmtui retry t --allow 'Bash(git add:*)'"),
    "permission cause": (task(state=TaskState.FAILED, cause=Cause.NEEDS_PERMISSION,
                              reason="the agent asked for a tool it may not use"), None,
                         NeedKind.PERMISSION,
                         "needs permission: the agent asked for a tool it may not use",
                         "swarmtui retry t"),
    "waiting for input": (task(state=TaskState.RUNNING, attempt=1,
                               note_kind=NoteKind.WAITING_INPUT, note="waiting for input"),
                          None, NeedKind.INPUT, "waiting for input", "swarmtui attach"),
    "waiting for permission": (task(state=TaskState.RUNNING, attempt=1,
                                    note_kind=NoteKind.WAITING_PERMISSION,
                                    note="waiting for permission"),
                               None, NeedKind.INPUT, "waiting for permission",
                               "swarmtui attach"),
    "forecast conflict": (task(state=TaskState.PASSED, forecast={
        "target": "conflict", "files": ["a.py"]}), None, NeedKind.CONFLICT,
        "merge conflict with the target in a.py", "swarmtui resolve t"),
    "merge conflict": (task(state=TaskState.PASSED, conflicts=["b.py"]), None,
                       NeedKind.CONFLICT, "merge conflict in b.py", "swarmtui resolve t"),
    "merge refused": (task(state=TaskState.PASSED, merge_note="the target moved"), None,
                      NeedKind.CONFLICT, "merge refused: the target moved",
                      "swarmtui merge t"),
    "dead": (task(state=TaskState.DEAD, dead_why=DeadWhy.NEEDS_OPERATOR,
                  reason="blocked: no API key"), None, NeedKind.DEAD,
             "needs you: blocked: no API key", "swarmtui retry t"),
    "agent held": (task(state=TaskState.PENDING),
                   RunState(held_agents={"claude": "5 failures in 10 minutes"}),
                   NeedKind.AGENT_HELD, "agent claude held: 5 failures in 10 minutes",
                   "swarmtui resume"),
    "stuck": (task(state=TaskState.RUNNING, attempt=1, health=Health.STUCK), None,
              NeedKind.STUCK, "stuck", "swarmtui retry t"),
    "quiet": (task(state=TaskState.RUNNING, attempt=1, health=Health.QUIET), None,
              NeedKind.QUIET, "quiet", "swarmtui attach"),
    "usage limited (note)": (task(state=TaskState.RUNNING, attempt=1,
                                  note_kind=NoteKind.USAGE_LIMITED,
                                  note="usage-limited (five hour)"),
                             None, NeedKind.USAGE, "usage-limited", None),
    "usage limited (cause)": (task(state=TaskState.FAILED, cause=Cause.USAGE_LIMITED),
                              RunState(usage_limits={ACCOUNT: UsageLimit(NOW + 3600,
                                                                         "five_hour")}),
                              NeedKind.USAGE, "usage-limited until ", None),
    "failed": (task(state=TaskState.FAILED, cause=Cause.CRASHED, reason="exit 1"), None,
               NeedKind.FAILED, "failed: exit 1", "swarmtui retry t"),
    "stale": (task(state=TaskState.PASSED, health=Health.STALE_RESULT), None, NeedKind.STALE,
              "passed, waiting to be merged", "swarmtui merge t"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_need(case: str) -> None:
    t, state, kind, text, command = CASES[case]
    got = need(t, state)
    assert got is not None
    assert (got.kind, got.command) == (kind, command)
    assert got.text.startswith(text) if text.endswith(" ") else got.text == text
    assert got.rank == RANKS[kind] < NONE_RANK


def test_every_kind_has_a_case_and_a_rank() -> None:
    assert {c[2] for c in CASES.values()} == set(NeedKind) == set(RANKS)


def test_the_words_of_a_note_decide_nothing() -> None:
    """A note that reads like waiting for input or a usage limit, with no such kind, needs
    nothing; the kind alone is enough, whatever the words."""
    for words in ("waiting for input", "waiting for permission", "usage-limited (five hour)"):
        assert need(task(state=TaskState.RUNNING, attempt=1, note=words,
                         note_kind=NoteKind.API_RETRY)) is None
    got = need(task(state=TaskState.RUNNING, attempt=1, note="(words changed)",
                    note_kind=NoteKind.WAITING_INPUT))
    assert got is not None and got.kind == NeedKind.INPUT


def test_nothing_needed_from_healthy_or_finished_tasks() -> None:
    assert need(task(state=TaskState.RUNNING, attempt=1)) is None
    assert need(task(state=TaskState.MERGED, denied=["Bash"])) is None
    assert need(task(state=TaskState.PASSED)) is None
    assert need(task(state=TaskState.PENDING)) is None
    # A waiting agent whose task ended does not wait for anyone any more.
    assert need(task(state=TaskState.PASSED, note_kind=NoteKind.WAITING_INPUT)) is None


def test_needs_you_lists_the_most_urgent_first_then_in_task_order() -> None:
    state = RunState()
    for t in (task("a", state=TaskState.FAILED, reason="x"),
              task("b", state=TaskState.RUNNING, attempt=1, health=Health.STUCK),
              task("c", state=TaskState.RUNNING, attempt=1),
              task("d", state=TaskState.FAILED, reason="y"),
              task("e", state=TaskState.RUNNING, attempt=1, denied=["Bash"])):
        state.tasks[t.id] = t
    got = needs_you(state, lambda agent: ACCOUNT, NOW)
    assert [(t.id, n.kind) for t, n in got] == [
        ("e", "permission"), ("b", "stuck"), ("a", "failed"), ("d", "failed")]


def test_the_note_kind_is_folded_from_the_signal_and_replays_the_same(tmp_path: Path) -> None:
    """The hook's notification, a refused usage limit and a progress line set and clear the
    typed note kind; folding the log event by event gives what a replay gives."""
    w = build_world(tmp_path)
    w.ev("agent_hook", "parser", 1, at=740, event="Notification",
         notification_type="permission_prompt", message="Claude needs your permission")
    parser = w.store.replay().tasks["parser"]
    assert (parser.note_kind, parser.note) == (NoteKind.WAITING_PERMISSION,
                                               "waiting for permission")
    w.ev("agent_hook", "docs", 1, at=741, event="Notification",
         notification_type="idle_prompt", message="Claude is waiting for your input")
    w.ev("rate_limit", "flaky", 1, at=742, status="rejected", limit_type="five_hour")
    state = w.store.replay()
    assert state.tasks["docs"].note_kind == NoteKind.WAITING_INPUT
    needs = {t.id: n for t, n in needs_you(state, lambda agent: agent, NOW)}
    assert needs["parser"].kind == NeedKind.INPUT and needs["docs"].kind == NeedKind.INPUT
    w.ev("progress", "parser", 1, at=743, status="Back at work", n=9)
    live = RunState()
    for ev in w.store.events(0, run=1):
        apply(live, ev)
    replayed = w.store.replay()
    assert live == replayed
    assert replayed.tasks["parser"].note_kind is None and replayed.tasks["parser"].note == ""


def test_setup_notes_have_kinds() -> None:
    state = RunState()
    spec = TaskSpec(id="t", title="t", prompt="t", role="worker", agent="claude")
    evs = [("task_added", None, {"spec": spec.to_dict(), "attempt_base": 0}),
           ("attempt_spawned", 1, {"window": "t-1", "agent": "claude", "worktree": "/w",
                                   "branch": "swarm/t-1"}),
           ("setup", 1, {"phase": "start"})]
    for seq, (kind, attempt, data) in enumerate(evs, 1):
        apply(state, Event.make(seq=seq, time=T0 + seq, kind=kind, task="t", attempt=attempt,
                                data=data))
    assert state.tasks["t"].note_kind == NoteKind.SETUP_RUNNING
    apply(state, Event.make(seq=9, time=T0 + 9, kind="setup", task="t", attempt=1,
                            data={"phase": "failed", "code": 2}))
    t = state.tasks["t"]
    assert (t.note_kind, t.note) == (NoteKind.SETUP_FAILED, "worktree setup failed (exit 2)")
