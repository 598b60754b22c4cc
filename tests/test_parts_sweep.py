"""The periodic sweep on a fake clock: its look at the agents' files is a worker's, so a look
that blocks (a loaded box, a slow disk) holds no tick; the tick takes the look up, so a loop
far behind on its queue still sweeps every few seconds; and no line an agent writes goes
without its event, whatever its file's stat said. Every real part runs in process
(tests/standins.py ``Engine``); there is no watcher, so only the sweep finds what an agent
wrote unless a test posts the watcher's batch itself."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.attempts import looks
from swarmtui.engine.messages import FilesChanged
from swarmtui.engine.runtime import ingest
from swarmtui.model import TaskSpec
from tests.standins import Engine, FakeClock, HeldExecutor
from tests.waiting import wait_until

T0 = 5_000.0


def config() -> Config:
    return config_from_dict({"slots": {"min_free_memory": "0", "reserve": 0},
                             "heartbeat": {"progress_interval": "1h"}}, "test")


def running(tmp: Path, *tasks: str) -> Engine:
    e = Engine(tmp, config(), clock=FakeClock(T0))
    tasks = tasks or ("t",)
    e.add(*(TaskSpec(id=t, title=t, prompt="p", role="worker", agent="claude") for t in tasks))
    e.tick()
    assert e.trail("attempt_started") == [("attempt_started", t, 1) for t in sorted(tasks)]
    return e


def progress_file(e: Engine, task: str = "t") -> Path:
    return e.runner.agent_dir(task, 1) / P.PROGRESS_FILE


def say(e: Engine, *lines: str, task: str = "t") -> None:
    with open(progress_file(e, task), "a", encoding="utf-8") as f:
        f.writelines(f"{line}\n" for line in lines)


def progress(e: Engine, task: str = "t") -> list[str]:
    return [ev.data["status"] for ev in e.events("progress") if ev.task == task]


def count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The agent files the loop opens from now on (the worker's look is not counted)."""
    opened: list[str] = []
    for name in ("stat_under", "read_under", "read_small"):
        real = getattr(ingest, name)

        def counting(*a: Any, _real: Any = real, **kw: Any) -> Any:
            opened.append(Path(str(a[1])).name)
            return _real(*a, **kw)

        monkeypatch.setattr(ingest, name, counting)
    return opened


def test_a_blocked_look_holds_no_tick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = running(tmp_path)
    e.ports.workers.files = ThreadPoolExecutor(1, thread_name_prefix="test-files")
    release, entered = threading.Event(), threading.Event()
    asked: list[int] = []

    def blocking_look(swarm: Path, aids: Sequence[str], since: int) -> looks.Look:
        asked.append(since)
        entered.set()
        release.wait(30)  # the disk answers when the test says
        return looks.look(swarm, aids, since)

    monkeypatch.setattr("swarmtui.engine.attempts.reader.look", blocking_look)
    say(e, "reading the code")
    e.advance(6)  # the sweep is due: its look starts on the worker and blocks there
    wait_until(entered.is_set)
    for _ in range(3):
        e.advance(6)  # ticks complete, sweeps come due, and no second look piles up
    assert progress(e) == [] and len(asked) == 1
    release.set()
    # The next tick after the look is back reads what it found.
    wait_until(lambda: (e.advance(0.5), progress(e))[1] == ["reading the code"])
    e.ports.workers.files.shutdown(wait=True)
    assert e.replays()


def test_the_loop_reads_only_what_the_look_found_new(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    e = running(tmp_path)
    held = e.ports.workers.files = HeldExecutor()
    say(e, "one", "two")
    e.advance(6)
    assert len(held.held) == 1 and progress(e) == []  # the look is out; nothing read yet
    e.advance(6)
    assert len(held.held) == 1  # one look at a time
    held.run_next()
    e.advance(0.5)
    assert progress(e) == ["one", "two"]
    # Nothing new: the next sweep opens no file on the loop (the worker looked).
    opened = count_opens(monkeypatch)
    e.advance(6)
    held.run_next()
    e.advance(0.5)
    assert opened == [] and progress(e) == ["one", "two"]
    # The look saw "three"; "four" came after it, and the watcher's batch read both before
    # the look was taken up: read after the look was asked for, the file is not read again.
    say(e, "three")
    e.advance(6)
    held.run_next()
    say(e, "four")
    e.loop.post(FilesChanged(frozenset({str(progress_file(e))})))
    e.loop.drain()
    assert progress(e) == ["one", "two", "three", "four"]
    assert set(opened) == {P.PROGRESS_FILE}
    by_watcher = len(opened)
    e.advance(0.5)
    assert len(opened) == by_watcher
    # A line written after that read is the next look's to find.
    say(e, "five")
    e.advance(6)
    held.run_next()
    e.advance(0.5)
    assert progress(e) == ["one", "two", "three", "four", "five"]
    assert set(opened) == {P.PROGRESS_FILE}
    assert e.replays()


def turn(e: Engine) -> None:
    """One second of a loop that is far behind: a tick, then the one queued message there is
    time for (``Loop.run`` handles messages between ticks, oldest first)."""
    e.clock.now += 1
    e.loop.tick()
    try:
        msg = e.loop._queue.get_nowait()
    except queue.Empty:
        return
    e.loop.dispatch(msg)


def test_a_long_queue_holds_no_sweep_back_and_no_line_goes_without_its_event(
        tmp_path: Path) -> None:
    """The loss seen at 500 agents under load: the watcher's batches (here: output.log only,
    its progress.md changes missed) queue faster than the loop handles them. A sweep whose
    look waited in that queue came back after more than 50 lines had piled up in the agent's
    progress.md, and the flood rule folded the surplus into one event."""
    e = running(tmp_path)
    batch = FilesChanged(frozenset({str(e.runner.agent_dir("t", 1) / P.OUTPUT_LOG)}))
    for _ in range(120):
        e.loop.post(batch)  # two minutes of the loop's work, queued
    said = [f"step {i}" for i in range(1, 76)]
    for line in said:  # a line every 2 s for 150 s
        say(e, line)
        for _ in range(2):
            e.loop.post(batch)  # output.log keeps changing: the queue stays as long
            turn(e)
    e.tick()
    assert progress(e) == said
    ns = [ev.data["n"] for ev in e.events("progress")]
    assert ns == list(range(1, len(said) + 1))  # none counted but folded away
    assert e.replays()


def test_a_file_read_late_keeps_every_line(tmp_path: Path) -> None:
    """Late for another reason: at 500 agents on a box at a load of 40 to 60, ticks took
    seconds and a sweep's plan several ticks, and a file went 100 s unread though the tick took
    the look up. What a read may fold away is counted from the time since the file's last read
    to the end, so lines written at a line every 2 s all get their event."""
    e = running(tmp_path)
    held = e.ports.workers.files = HeldExecutor()
    e.advance(6)  # the look is out, and stays out for two and a half minutes
    said = [f"step {i}" for i in range(1, 76)]
    for line in said:
        say(e, line)
        e.advance(2)
    assert progress(e) == []
    held.run_next()
    e.advance(0.5)
    assert progress(e) == said
    assert [ev.data["n"] for ev in e.events("progress")] == list(range(1, len(said) + 1))
    assert e.replays()


def test_a_sweep_reads_at_most_so_many_attempts_a_tick(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("swarmtui.engine.attempts.reader.READS_PER_TICK", 1)
    e = running(tmp_path, "a", "b", "c")
    held = e.ports.workers.files = HeldExecutor()
    for task in ("a", "b", "c"):
        say(e, f"{task} works", task=task)
    e.advance(6)
    held.run_next()
    seen = []
    for _ in range(3):
        assert held.held == []  # due again, but the sweep under way is not read out: no look
        e.advance(6)
        seen.append(sum(1 for t in "abc" if progress(e, t)))
    assert seen == [1, 2, 3]
    assert len(held.held) == 1  # read out: the next sweep's look is asked for in that tick
    assert e.replays()


def test_a_look_that_fails_becomes_a_full_read(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    e = running(tmp_path)

    def failing_look(swarm: Path, aids: Sequence[str], since: int) -> looks.Look:
        raise MemoryError("the worker could not look")

    monkeypatch.setattr("swarmtui.engine.attempts.reader.look", failing_look)
    say(e, "reading the code")
    e.advance(6)
    assert progress(e) == ["reading the code"]
    assert e.replays()


def test_a_rewrite_no_stat_can_see_is_read_by_the_full_sweep(tmp_path: Path) -> None:
    """progress.md rewritten in place with its size, time and inode kept: the look cannot tell
    it from the file last read; every ``FULL_EVERY``-th sweep reads the files regardless."""
    e = running(tmp_path)
    path = progress_file(e)
    say(e, "- reading the code")
    e.advance(6)
    assert progress(e) == ["- reading the code"]
    before = os.stat(path)
    with open(path, "r+b") as f:
        f.write(b"- writing the test")  # the same length, over the first line
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size, before.st_mtime_ns, before.st_ino)
    for _ in range(looks.FULL_EVERY):
        e.advance(6)
    assert progress(e) == ["- reading the code", "- writing the test"]
    assert e.events("progress")[-1].data["reread"] is True
    assert e.replays()


def test_a_progress_file_replaced_by_a_rename_is_read(tmp_path: Path) -> None:
    e = running(tmp_path)
    path = progress_file(e)
    say(e, "- one")
    e.advance(6)
    tmp = path.with_name("progress.tmp")
    tmp.write_text("- one\n- two\n")
    os.replace(tmp, path)
    e.advance(6)
    assert progress(e) == ["- one", "- two"]
    assert e.replays()


def test_an_exit_found_by_the_sweep_comes_after_the_last_progress(tmp_path: Path) -> None:
    e = running(tmp_path)
    say(e, "almost done")
    e.exits("t", 1, signals=[{"kind": "hook", "name": "Stop"}])
    e.advance(6)
    trail = [kind for kind, _, _ in e.trail("progress", "agent_exited")]
    assert trail == ["progress", "agent_exited"]
    assert progress(e) == ["almost done"]
    assert e.replays()
