"""The periodic sweep on a fake clock: its look at the agents' files is a worker's, so a look
that blocks (a loaded box, a slow disk) holds no tick, and the loop reads only what the look
found new. Every real part runs in process (tests/standins.py ``Engine``); there is no watcher,
so only the sweep can find what an agent wrote."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.attempts import looks
from swarmtui.engine.messages import SweepLooked
from swarmtui.engine.runtime import ingest
from swarmtui.model import TaskSpec
from tests.standins import Engine, FakeClock, HeldExecutor
from tests.waiting import wait_until

T0 = 5_000.0


def config() -> Config:
    return config_from_dict({"slots": {"min_free_memory": "0", "reserve": 0},
                             "heartbeat": {"progress_interval": "1h"}}, "test")


def running(tmp: Path) -> Engine:
    e = Engine(tmp, config(), clock=FakeClock(T0))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    assert e.trail("attempt_started") == [("attempt_started", "t", 1)]
    return e


def say(e: Engine, *lines: str) -> None:
    with open(e.runner.agent_dir("t", 1) / P.PROGRESS_FILE, "a", encoding="utf-8") as f:
        f.writelines(f"{line}\n" for line in lines)


def progress(e: Engine) -> list[str]:
    return [ev.data["status"] for ev in e.events("progress")]


def test_a_blocked_look_holds_no_tick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = running(tmp_path)
    e.ports.workers.files = ThreadPoolExecutor(1, thread_name_prefix="test-files")
    release, entered = threading.Event(), threading.Event()

    def blocking_look(swarm: Path, aids: Sequence[str]) -> SweepLooked:
        entered.set()
        release.wait(30)  # the disk answers when the test says
        return looks.look(swarm, aids)

    monkeypatch.setattr("swarmtui.engine.attempts.reader.look", blocking_look)
    say(e, "reading the code")
    e.advance(6)  # the sweep is due: its look starts on the worker and blocks there
    wait_until(entered.is_set)
    for _ in range(3):
        e.advance(6)  # ticks complete, sweeps come due, and no second look piles up
    assert progress(e) == []
    release.set()
    wait_until(lambda: (e.loop.drain(), progress(e))[1] == ["reading the code"])
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
    e.loop.drain()
    assert progress(e) == ["one", "two"]
    # Nothing new: the next sweep opens no file on the loop (the worker looked).
    opened: list[str] = []
    for name in ("stat_under", "read_under", "read_small"):
        real = getattr(ingest, name)

        def counting(*a: Any, _real: Any = real, **kw: Any) -> Any:
            opened.append(str(a[1]))
            return _real(*a, **kw)

        monkeypatch.setattr(ingest, name, counting)
    e.advance(6)
    held.run_next()
    e.loop.drain()
    assert opened == [] and progress(e) == ["one", "two"]
    say(e, "three")
    e.advance(6)
    held.run_next()
    e.loop.drain()
    assert progress(e) == ["one", "two", "three"]
    assert {Path(o).name for o in opened} == {P.PROGRESS_FILE}
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
