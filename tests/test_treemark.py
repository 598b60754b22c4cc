"""Skipping git when nothing moved: the marks of ``runtime/treemark.py`` on real repositories and
worktrees, the watchdog's productivity sample and the forecast's ref read that rely on them, and
the gathering of the watcher's batches while one waits in the loop's queue."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from swarmtui import statusfile
from swarmtui.config import config_from_dict
from swarmtui.engine.attempts import watchdog as watchdog_mod
from swarmtui.engine.integrate.forecast import REFS_FULL_EVERY, _Refs
from swarmtui.engine.messages import FilesPending, Wake
from swarmtui.engine.run.gather import Gather
from swarmtui.engine.run.runconfig import settings_for
from swarmtui.engine.run.statuswriter import ASKED_GAP, CHATTER_EVERY_S, EVERY_S
from swarmtui.engine.runners.base import PrepareJob
from swarmtui.engine.runtime import treemark
from swarmtui.engine.runtime.git import DiffStat, Git
from swarmtui.model import TaskSpec
from swarmtui.model import payloads as p
from tests.conftest import git
from tests.standins import Engine, FakeClock, RecordingRunner
from tests.waiting import wait_until

GIT_DIR = frozenset({".git"})


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled as soon as they are written (the tests below change sizes or
    entries, which a clock tick cannot hide, rather than wait out ``RACY_S``)."""
    monkeypatch.setattr(treemark, "RACY_S", 0.0)


def linked(repo: Path, name: str = "wt1", branch: str = "swarm/t-1") -> Path:
    wt = repo.parent / name
    git(repo, "worktree", "add", "-q", "-b", branch, str(wt), "main")
    return wt


def wt_mark(repo: Path, wt: Path, branch: str = "swarm/t-1") -> int | None:
    files = treemark.worktree_files(repo / ".git", wt, branch)
    assert files is not None
    return treemark.mark(wt, files, skip_top=GIT_DIR)


@pytest.mark.usefixtures("settled")
def test_a_worktree_mark_moves_with_every_change_git_diff_sees_and_not_with_git_reading_it(
        git_repo: Path) -> None:
    wt = linked(git_repo)
    g = Git(git_repo)
    m0 = wt_mark(git_repo, wt)
    assert m0 is not None
    g.diff_stat(wt, "main")
    g.head_of(wt)
    assert wt_mark(git_repo, wt) == m0  # the sample's own git calls leave the mark be
    steps: list[tuple[str, Any]] = [
        ("an edit", lambda: (wt / "shared.txt").write_text("line 1\nline 2 changed\n")),
        ("a new untracked file", lambda: (wt / "new.txt").write_text("x\n")),
        ("a file in a new folder", lambda: (wt / "d").mkdir() or (wt / "d" / "f").write_text("")),
        ("git add", lambda: git(wt, "add", "-A")),
        ("a commit", lambda: git(wt, "-c", "user.name=t", "-c", "user.email=t@t", "commit",
                                 "-q", "-m", "work")),
        ("a removal", lambda: (wt / "README.md").unlink()),
    ]
    seen = {m0}
    for what, change in steps:
        change()
        m = wt_mark(git_repo, wt)
        assert m is not None and m not in seen, what
        seen.add(m)
    assert g.diff_stat(wt, "main").files == 4  # shared.txt, new.txt, d/f, README.md


def test_a_mark_is_withheld_while_an_entry_is_younger_than_the_racy_window(
        git_repo: Path) -> None:
    wt = linked(git_repo)
    (wt / "fresh.txt").write_text("just now\n")
    assert wt_mark(git_repo, wt) is None  # a same-size rewrite in this clock tick could hide


@pytest.mark.usefixtures("settled")
def test_a_mark_follows_no_link_and_gives_up_on_a_huge_tree(git_repo: Path,
                                                            tmp_path: Path) -> None:
    wt = linked(git_repo)
    big = tmp_path / "big"
    big.mkdir()
    for i in range(50):
        (big / f"f{i}").write_text("")
    os.symlink(big, wt / "link")
    files = treemark.worktree_files(git_repo / ".git", wt, "swarm/t-1")
    assert treemark.mark(wt, files or [], skip_top=GIT_DIR, limit=20) is not None
    (big / "f0").write_text("changed behind the link\n")
    m = treemark.mark(wt, files or [], skip_top=GIT_DIR, limit=20)
    assert m == treemark.mark(wt, files or [], skip_top=GIT_DIR, limit=20)
    assert treemark.mark(big, limit=20) is None  # 50 entries: git is cheaper than the walk


def test_worktree_files_refuse_an_entry_that_is_not_this_worktrees(git_repo: Path) -> None:
    wt = linked(git_repo)
    other = linked(git_repo, "wt2", "swarm/t-2")
    os.rename(git_repo / ".git" / "worktrees" / "wt2", git_repo / ".git" / "worktrees" / "x")
    os.rename(git_repo / ".git" / "worktrees" / "wt1", git_repo / ".git" / "worktrees" / "wt2")
    assert treemark.worktree_files(git_repo / ".git", other, "swarm/t-2") is None
    assert treemark.worktree_files(git_repo / ".git", wt, "swarm/t-1") is None


class CountingGit(Git):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def _run(self, *args: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None,
             cwd: Path | None = None) -> tuple[int, str]:
        self.calls.append(args[0])
        return super()._run(*args, ok=ok, env=env, cwd=cwd)

    def diff_stat(self, worktree: Path, base: str) -> DiffStat:
        self.calls.append("sample")
        return super().diff_stat(worktree, base)


@pytest.mark.usefixtures("settled")
def test_refs_are_read_again_only_when_a_ref_moved(git_repo: Path) -> None:
    g, refs = CountingGit(git_repo), _Refs()
    git(git_repo, "branch", "swarm/a", "main")
    heads, target = refs.read(g, "main")
    assert list(heads) == ["swarm/a"] and target == git(git_repo, "rev-parse", "main").strip()
    assert g.calls == ["for-each-ref", "rev-parse"]
    assert refs.read(g, "main") == (heads, target) and len(g.calls) == 2  # nothing moved
    git(git_repo, "branch", "swarm/b", "main")
    assert set(refs.read(g, "main")[0]) == {"swarm/a", "swarm/b"} and len(g.calls) == 4
    git(git_repo, "pack-refs", "--all")  # loose refs gone, packed-refs written
    assert set(refs.read(g, "main")[0]) == {"swarm/a", "swarm/b"} and len(g.calls) == 6
    (git_repo / "more.txt").write_text("more\n")
    git(git_repo, "add", "more.txt")
    git(git_repo, "commit", "-q", "-m", "more")
    tip = git(git_repo, "rev-parse", "main").strip()
    assert refs.read(g, "main")[1] == tip and len(g.calls) == 8
    for _ in range(REFS_FULL_EVERY - 1):
        refs.read(g, "main")
    assert len(g.calls) == 8
    refs.read(g, "main")  # unmoved, but read all the same now and then
    assert len(g.calls) == 10


class WorktreeRunner(RecordingRunner):
    """Prepares a real linked worktree on the attempt's branch (``git worktree add``)."""

    def prepare(self, job: PrepareJob) -> str:
        self.calls.append(("prepare", (job.task, job.attempt)))
        wt = self.worktree(job.task, job.attempt)
        git(self.root, "worktree", "add", "-q", "-b", job.branch, str(wt), job.start)
        return git(self.root, "rev-parse", "HEAD").strip()


@pytest.mark.usefixtures("settled")
def test_the_productivity_sample_runs_git_only_when_the_worktree_moved(git_repo: Path) -> None:
    git(git_repo, "config", "user.name", "t")
    git(git_repo, "config", "user.email", "t@t")
    (git_repo / ".git" / "info").mkdir(exist_ok=True)
    with open(git_repo / ".git" / "info" / "exclude", "a") as f:
        f.write(".swarm/\n")
    cfg = config_from_dict({"slots": {"min_free_memory": "0", "reserve": 0},
                            "heartbeat": {"progress_interval": "10s", "quiet_after": 100,
                                          "stuck_after": 101, "auto_kill": False}},
                           "test")
    g = CountingGit(git_repo)
    e = Engine(git_repo, cfg, clock=FakeClock(5_000.0), git=g)
    e.runner = WorktreeRunner(git_repo)
    e.ports.runner = e.runner
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    wt = Path(e.state.attempts["t-1"].worktree)
    assert wt.is_dir() and e.state.attempts["t-1"].started

    def samples_after(seconds: float) -> int:
        before = g.calls.count("sample")
        e.advance(seconds)
        return g.calls.count("sample") - before

    e.advance(10)  # the watchdog meets the attempt; its first sample lands in an interval
    assert samples_after(10) == 1  # the first sample: no mark to compare with
    assert samples_after(10) == 0 and samples_after(10) == 0  # nothing moved: no git
    (wt / "shared.txt").write_text("line 1\nchanged\n")
    (wt / "new.txt").write_text("new\n")
    assert samples_after(10) == 1
    assert e.task("t").diff == {"files": 2, "insertions": 1, "deletions": 2}
    assert e.events("diff")[-1].data["files"] == 2
    reused = [samples_after(10) for _ in range(watchdog_mod.FULL_EVERY - 1)]
    assert reused == [0] * (watchdog_mod.FULL_EVERY - 1)
    assert samples_after(10) == 1  # unmoved, but sampled with git all the same now and then
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "work")
    head = git(wt, "rev-parse", "HEAD").strip()
    assert samples_after(10) == 1  # the index and the branch moved: new.txt is committed now
    assert e.events("diff")[-1].data["head"] == head
    assert e.task("t").diff == {"files": 2, "insertions": 2, "deletions": 2}
    assert e.replays()


def test_batches_join_the_one_still_queued_and_start_a_new_one_once_it_is_taken() -> None:
    posted: list[FilesPending] = []
    gather = Gather(posted.append)
    gather.add({"a/progress.md"})
    gather.add({"b/progress.md", "a/progress.md"})
    assert len(posted) == 1
    assert gather.take(posted[0]) == frozenset({"a/progress.md", "b/progress.md"})
    gather.add({"c/exit.json"})
    assert len(posted) == 2 and gather.take(posted[1]) == frozenset({"c/exit.json"})


def test_no_batch_is_lost_between_threads() -> None:
    posted: list[FilesPending] = []
    lock = threading.Lock()
    got: set[str] = set()

    def post(msg: FilesPending) -> None:
        with lock:
            posted.append(msg)

    gather = Gather(post)

    def watcher(k: int) -> None:
        for i in range(2000):
            gather.add({f"{k}/{i}"})

    threads = [threading.Thread(target=watcher, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    taken = 0
    while any(t.is_alive() for t in threads) or taken < len(posted):
        with lock:
            queue = posted[taken:]
        for msg in queue:
            got |= gather.take(msg)
        taken += len(queue)
    assert got == {f"{k}/{i}" for k in range(3) for i in range(2000)}


def one_task_engine(root: Path) -> Engine:
    """A run of one task ``t`` on the stand-ins, its clock at 5,000 s."""
    cfg = config_from_dict({"slots": {"min_free_memory": "0", "reserve": 0}}, "test")
    e = Engine(root, cfg, clock=FakeClock(5_000.0))
    e.loop.emit(p.RunResumed(settings=settings_for(cfg, "")))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    return e


def written(root: Path) -> int:
    """The log position of the status file the supervisor last wrote."""
    got = statusfile.read(root)
    assert got is not None
    return int(got[0]["seq"])


def test_a_status_file_waits_longer_for_chatter_than_for_news(tmp_path: Path) -> None:
    e = one_task_engine(tmp_path)

    e.tick()  # spawns t; its start is recorded after the tick's status step
    e.advance(EVERY_S)
    assert written(tmp_path) == e.state.last_seq
    e.advance(EVERY_S)
    before = e.state.last_seq
    e.loop.emit(p.Progress(status="working", n=1), "t", 1)  # chatter only
    e.advance(EVERY_S)
    assert written(tmp_path) == before  # a reader finding it behind nudges, as it always did
    e.advance(CHATTER_EVERY_S - EVERY_S)
    assert written(tmp_path) == e.state.last_seq
    e.advance(CHATTER_EVERY_S)
    news = e.loop.emit(p.TaskAdded(spec=TaskSpec(id="u", title="u", prompt="p", role="worker",
                                                 agent="claude", depends_on=("t",))), "u")
    e.advance(EVERY_S)
    assert written(tmp_path) >= news.seq


def test_a_reader_nudging_between_writes_gets_its_file_without_waiting_for_a_tick(
        tmp_path: Path) -> None:
    """A nudge inside the gap between asked-for writes is served when the gap ends, not at the
    next tick (a second away by default: longer than a reader waits before it reads the log)."""
    e = one_task_engine(tmp_path)

    e.tick()
    e.advance(EVERY_S)
    e.loop.dispatch(Wake("a reader"))  # asked: written at once
    e.loop.drain()
    assert written(tmp_path) == e.state.last_seq
    news = e.loop.emit(p.TaskAdded(spec=TaskSpec(id="u", title="u", prompt="p", role="worker",
                                                 agent="claude", depends_on=("t",))), "u")
    e.loop.dispatch(Wake("the next reader"))  # inside the gap: not yet
    e.loop.drain()
    assert written(tmp_path) < news.seq
    e.clock.now += ASKED_GAP  # the gap passes; no tick comes

    def served() -> bool:
        e.loop.drain()  # what the timer posted, as the loop's queue would hand it over
        return written(tmp_path) >= news.seq

    wait_until(served, 10, "the file the reader waits for, before any tick")
