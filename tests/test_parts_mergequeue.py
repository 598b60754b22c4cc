"""The merge queue in process: tasks enqueued in some order merge one at a time, in queue order,
into a real git repository (tmp_path; git is fast). The part runs on a real loop and store with
its merge worker held by the test (tests/standins.py ``HeldExecutor``), so what is in flight
at each tick is exactly what the test lets run; a failed integration goes through the real
outcomes part."""

from __future__ import annotations

import subprocess
from pathlib import Path

from swarmtui.config import config_from_dict
from swarmtui.engine.attempts.outcomes import Outcomes
from swarmtui.engine.integrate.mergequeue import MergeQueue
from swarmtui.engine.intents import EnqueueMerge, FailAttempt, MergePending
from swarmtui.engine.messages import MergeDone
from swarmtui.engine.run.loop import Loop
from swarmtui.engine.runtime.git import Git
from swarmtui.model import TaskSpec, TaskState, project
from swarmtui.model import payloads as p
from tests.standins import FakeClock, HeldExecutor, make_ports

# Each task's branch adds its own file; c also rewrites the line b rewrites (a conflict once b
# has landed).
BRANCHES = {"a": {"a.txt": "a\n"}, "b": {"b.txt": "b\n", "shared.txt": "from b\n"},
            "c": {"c.txt": "c\n", "shared.txt": "from c\n"}}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def repository(root: Path) -> str:
    """main with one commit, and a branch swarm/<task>-1 per task; returns main's commit."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    (root / "shared.txt").write_text("base\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    base = git(root, "rev-parse", "HEAD")
    for tid, files in BRANCHES.items():
        git(root, "checkout", "-qb", f"swarm/{tid}-1", base)
        for name, text in files.items():
            (root / name).write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"work of {tid}")
    git(root, "checkout", "-q", "main")
    Git(root).ensure_excluded("/.swarm/")
    return base


class World:
    """The merge queue part on a real loop, store and git; its git worker held."""

    def __init__(self, root: Path) -> None:
        base = repository(root)
        cfg = config_from_dict({"merge": {"method": "merge"}}, "test")
        self.ports, self.loop = make_ports(root, cfg, clock=FakeClock(1000.0), inline=True)
        self.worker = HeldExecutor()
        self.ports.workers.git = self.worker
        self.queue = MergeQueue(self.ports, self.loop.ask, [])
        loop: Loop = self.loop
        loop.owns(EnqueueMerge, self.queue.enqueue_it)
        loop.owns(MergePending, self.queue.is_pending)
        loop.owns(FailAttempt, Outcomes(self.ports).fail_attempt)
        loop.on(MergeDone, self.queue.done)
        loop.every_tick(self.queue.step)
        loop.emit(p.RunStarted(run=1, repo=str(root), base=base, target="main"))
        for tid in BRANCHES:
            self.passed(tid, base)

    def passed(self, tid: str, base: str) -> None:
        """The events a real run records for a task whose attempt 1 passed verification."""
        emit = self.loop.emit
        emit(p.TaskAdded(spec=TaskSpec(id=tid, title=f"task {tid}", prompt="p", role="worker",
                                       agent="claude")), tid)
        emit(p.AttemptSpawned(window=f"{tid}-1", worktree=f"/w/{tid}-1", branch=f"swarm/{tid}-1",
                              agent="claude", base=base), tid, 1)
        emit(p.AttemptStarted(start_commit=base), tid, 1)
        emit(p.Results(status="done", summary=f"did {tid}",
                       files_modified=sorted(BRANCHES[tid])), tid, 1)
        emit(p.AgentExited(how="exited", code=0), tid, 1)
        emit(p.VerifyStarted(command=""), tid, 1)
        emit(p.VerifyPassed(), tid, 1)

    def tick(self) -> None:
        self.loop.tick()
        self.loop.drain()

    def finish_merge(self) -> None:
        """The merge in flight ends (the worker runs it) and its outcome reaches the loop."""
        self.worker.run_next()
        self.loop.drain()

    def trail(self) -> list[tuple[str, str | None]]:
        kinds = {"merge_queued", "merge_started", "task_merged", "merge_refused",
                 "integration_failed"}
        return [(str(e.kind), e.task) for e in self.ports.store.events(0) if e.kind in kinds]


def merging(w: World) -> str | None:
    m = w.ports.state.merging
    return m.task if m is not None else None


def test_enqueued_tasks_merge_one_at_a_time_in_queue_order(tmp_path: Path) -> None:
    w = World(tmp_path)
    for tid in ("b", "c", "a"):
        w.loop.ask(EnqueueMerge(w.ports.task(tid), auto=False, by="test"))
    assert [m.task for m in w.ports.state.merge_queue] == ["b", "c", "a"]
    assert all(w.loop.ask(MergePending(t)) for t in "abc")
    w.tick()
    # b is merging; however often the loop ticks, nothing else starts until it is done.
    w.tick()
    w.tick()
    assert len(w.worker.held) == 1
    assert w.trail()[3:] == [("merge_started", "b")]
    assert merging(w) == "b"
    w.finish_merge()
    assert w.trail()[-1] == ("task_merged", "b") and merging(w) is None
    w.tick()
    assert len(w.worker.held) == 1
    w.finish_merge()  # c conflicts with b, which is on main now: refused, and the queue goes on
    w.tick()
    w.finish_merge()
    w.tick()
    assert w.worker.held == []
    assert w.trail() == [
        ("merge_queued", "b"), ("merge_queued", "c"), ("merge_queued", "a"),
        ("merge_started", "b"), ("task_merged", "b"),
        ("merge_started", "c"), ("merge_refused", "c"),
        ("merge_started", "a"), ("task_merged", "a")]
    refused = w.ports.store.events(0, kind="merge_refused")
    assert refused[0].data["conflicts"] == ["shared.txt"]
    st = w.ports.state
    assert {t: st.tasks[t].state for t in "abc"} == {
        "a": TaskState.MERGED, "b": TaskState.MERGED, "c": TaskState.PASSED}
    assert st.merge_queue == [] and not any(w.loop.ask(MergePending(t)) for t in "abc")
    # main moved twice: b's merge commit, then a's on top of it, as the events say.
    merged = {e.task: e.data["commit"] for e in w.ports.store.events(0, kind="task_merged")}
    history = git(tmp_path, "rev-list", "--first-parent", "main").splitlines()
    assert history == [merged["a"], merged["b"], w.ports.state.base]
    assert (tmp_path / "a.txt").exists() and (tmp_path / "b.txt").exists()
    assert not (tmp_path / "c.txt").exists()
    assert (tmp_path / "shared.txt").read_text() == "from b\n"
    assert project(w.ports.store.events(0)) == w.loop.state
