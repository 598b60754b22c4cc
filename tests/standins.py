"""Stand-ins behind the supervisor's ports, so one part (or all of them) runs in process on a
fake clock: a runner that records what it is asked and answers from a table, a clock that
moves only when told, worker pools that run their jobs at once, a git that answers nothing, and
ports around a real store and loop. ``Engine`` wires every real part (``run/wiring.py``) around
them: the whole supervisor, ticked by hand.

The store and the loop are the real ones (SQLite in a temporary folder): what a part emits is
checked against a replay of the log like everywhere else. The store stamps each event with the
fake clock, so the times the projection keeps (started, last heard, the breaker's window) are
on the same clock the parts read through ``ports.now()``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from swarmtui import protocol as P
from swarmtui.config import Config
from swarmtui.engine.messages import Message
from swarmtui.engine.ports import Ports, Workers
from swarmtui.engine.run import wiring
from swarmtui.engine.run.loop import Loop
from swarmtui.engine.runners.base import PrepareJob
from swarmtui.engine.runners.bootstrap import Copied
from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.engine.runtime.tmux import PaneInfo
from swarmtui.model import Event, Payload, RunState, TaskSpec, TaskView, project
from swarmtui.model import payloads as p
from swarmtui.store import Store

Ps = ParamSpec("Ps")
T = TypeVar("T")


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class ClockedStore(Store):
    """The real store; an event appended without a time (the loop stamps its own clock's) gets
    ``clock``'s. Nothing here survives a crash, so commits do not wait for the disk
    (``synchronous = OFF``: milliseconds a test)."""

    def __init__(self, path: Path, clock: Callable[[], float]) -> None:
        super().__init__(path)
        self.clock = clock
        self._db.execute("PRAGMA synchronous = OFF")

    def append_many(self, items: list[tuple[Payload, str | None, int | None]], *,
                    run: int | None = None, at: float | None = None) -> list[Event]:
        return super().append_many(items, run=run, at=self.clock() if at is None else at)


class InlineExecutor(ThreadPoolExecutor):
    """A pool that runs each job at once, in the caller's thread: what a worker posts is in the
    loop's queue when ``submit`` returns (``loop.drain()`` hands it on)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)

    def submit(self, fn: Callable[Ps, T], /, *args: Ps.args, **kwargs: Ps.kwargs) -> Future[T]:
        out: Future[T] = Future()
        try:
            out.set_result(fn(*args, **kwargs))
        except BaseException as e:  # kept in the future, as a pool would
            out.set_exception(e)
        return out


class HeldExecutor(ThreadPoolExecutor):
    """A pool whose jobs wait until the test runs them (``run_next``), in the caller's thread:
    what is in flight is exactly what ``held`` lists."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.held: list[Callable[[], None]] = []

    def submit(self, fn: Callable[Ps, T], /, *args: Ps.args, **kwargs: Ps.kwargs) -> Future[T]:
        out: Future[T] = Future()

        def job() -> None:
            try:
                out.set_result(fn(*args, **kwargs))
            except BaseException as e:  # kept in the future, as a pool would
                out.set_exception(e)

        self.held.append(job)
        return out

    def run_next(self) -> None:
        self.held.pop(0)()


class InlineWorkers(Workers):
    """The worker pools, each running its jobs inline (no threads, no waiting)."""

    def __init__(self, post: Callable[[Message], None]) -> None:
        super().__init__(post, git_threads=1, verify_threads=1)
        self.git = self.tmux = self.verify = self.store = self.files = InlineExecutor()


class NoGit(Git):
    """A git that runs nothing: every command fails with ``GitError`` (as git does in a folder
    that is not a repository) and is recorded in ``calls``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[tuple[str, ...]] = []

    def _run(self, *args: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None,
             cwd: Path | None = None) -> tuple[int, str]:
        self.calls.append(args)
        raise GitError(f"git {' '.join(args[:2])}: no git in this test")


@dataclass
class RecordingRunner:
    """A ``Runner`` that starts nothing: it records every call and answers ``snapshot`` from
    ``panes`` (window -> pane), which a test edits to say which agents still run. ``start``
    opens a live pane for the window and ``prepare`` makes the worktree's folder, as the real
    runners do; ``gone`` closes a window (its agent ended)."""

    root: Path
    panes: dict[str, PaneInfo] = field(default_factory=dict)
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    groups_alive: set[int] = field(default_factory=set)
    name: str = "local"

    def agent_dir(self, task: str, attempt: int) -> Path:
        return self.root / ".swarm" / "agents" / f"{task}-{attempt}"

    def worktree(self, task: str, attempt: int) -> Path:
        return self.root / ".swarm" / "worktrees" / f"{task}-{attempt}"

    def prepare(self, job: PrepareJob) -> str:
        self.calls.append(("prepare", (job.task, job.attempt)))
        wt = Path(job.reuse_worktree) if job.reuse_worktree else self.worktree(job.task,
                                                                                job.attempt)
        wt.mkdir(parents=True, exist_ok=True)
        return "0" * 40

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        return Copied()

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        self.calls.append(("start", (window,)))
        pid = 10_000 + len(self.panes)
        self.panes[window] = PaneInfo(session="swarm-test", window_name=window,
                                      window_id=f"@{pid}", window_index=len(self.panes),
                                      pane_id=f"%{pid}", pane_pid=pid, dead=False,
                                      dead_status=None)
        return pid

    def gone(self, window: str) -> None:
        self.panes.pop(window, None)

    def steer(self, task: str, attempt: int, line: bytes) -> bool:
        self.calls.append(("steer", (task, attempt, line)))
        return f"{task}-{attempt}" in self.panes

    def snapshot(self) -> dict[str, PaneInfo]:
        return dict(self.panes)

    def end(self, window: str, *, pgid: int | None, wrapper_pid: int | None,
            hard: bool = False) -> None:
        self.calls.append(("end", (window, hard)))

    def group_alive(self, pgid: int, window: str | None = None) -> bool:
        return pgid in self.groups_alive

    def ensure_session(self) -> None:
        pass

    def close_session(self) -> None:
        pass

    def set_status(self, line: str) -> None:
        self.calls.append(("status", (line,)))

    def attach_argv(self, window: str | None = None) -> list[str]:
        return []

    def place(self, role: str, busy: Mapping[str, int]) -> str | None:
        return "local"

    def track(self, window: str, runner: str) -> None:
        pass

    def unreachable(self) -> dict[str, str | None]:
        return {}

    def settle(self) -> None:
        pass

    def close(self) -> None:
        pass

    def ended(self) -> list[tuple[object, ...]]:
        return [args for name, args in self.calls if name == "end"]

    def started(self) -> list[str]:
        return [str(args[0]) for name, args in self.calls if name == "start"]


def make_ports(root: Path, config: Config, *, clock: FakeClock | None = None,
               run_id: int = 1, git: Git | None = None, runner: RecordingRunner | None = None,
               inline: bool = False, agent_env: Mapping[str, str] | None = None
               ) -> tuple[Ports, Loop]:
    """Ports around a real store in ``root/.swarm`` (on the fake clock) and a loop on the same
    clock, with a recording runner; the loop's queue is drained by the test (``loop.drain()``).
    ``inline``: the worker pools run their jobs at once (see ``InlineWorkers``); ``agent_env``:
    the supervisor's environment as agents get it (``Ports.agent_env``)."""
    clock = clock or FakeClock()
    (root / ".swarm" / "agents").mkdir(parents=True, exist_ok=True)
    store = ClockedStore(root / ".swarm" / "state.db", clock)
    loop = Loop(store, RunState(), run_id, clock=clock)
    workers = InlineWorkers(loop.post) if inline else Workers(loop.post)
    ports = Ports(repo=root, config=config, store=store, log=loop, git=git or Git(root),
                  runner=runner or RecordingRunner(root), workers=workers, clock=clock,
                  agent_env=dict(agent_env or {}))
    return ports, loop


class Engine:
    """Every real part of the supervisor, wired by ``run/wiring.py`` around stand-in ports: a
    recording runner, inline workers, a git that answers nothing (unless one is given) and a
    fake clock. ``tick()`` is one turn of the loop: the tick's steps, then every message they
    caused, until the queue is empty. What an agent would do is done to its files and panes:
    ``exits`` writes the exit record its wrapper would and closes its window."""

    def __init__(self, root: Path, config: Config, *, clock: FakeClock | None = None,
                 git: Git | None = None, target: str = "main",
                 agent_env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.clock = clock or FakeClock()
        self.runner = RecordingRunner(root)
        self.git = git or NoGit(root)
        self.ports, self.loop = make_ports(root, config, clock=self.clock, git=self.git,
                                           runner=self.runner, inline=True,
                                           agent_env=agent_env)
        self.store = self.ports.store
        self.parts = wiring.build(self.ports, self.loop, [])
        self.loop.emit(p.RunStarted(run=1, repo=str(root), base="0" * 40, target=target))

    # -- the scene ----------------------------------------------------------------------------

    def add(self, *specs: TaskSpec) -> None:
        for spec in specs:
            self.loop.emit(p.TaskAdded(spec=spec), spec.id)

    def tick(self) -> None:
        self.loop.tick()
        self.loop.drain()

    def at(self, when: float) -> None:
        """Move the clock to ``when`` (never back) and tick."""
        assert when >= self.clock.now, "the clock never goes back"
        self.clock.now = when
        self.tick()

    def advance(self, seconds: float) -> None:
        self.at(self.clock.now + seconds)

    def exits(self, task: str, attempt: int, record: dict[str, Any] | None = None, *,
              signals: Sequence[dict[str, Any]] = ()) -> None:
        """The attempt's agent ends: its wrapper appends ``signals`` to signals.jsonl, writes
        exit.json (``record`` over a plain exit 1) and its window closes."""
        adir = self.runner.agent_dir(task, attempt)
        with open(adir / P.SIGNALS_FILE, "a", encoding="utf-8") as f:
            for s in signals:
                f.write(json.dumps({"t": self.clock.now, **s}, sort_keys=True) + "\n")
        data: dict[str, Any] = {"how": "exited", "code": 1, "signal": None,
                                "started_at": self.clock.now, "ended_at": self.clock.now,
                                **(record or {})}
        tmp = adir / f".{P.EXIT_FILE}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, adir / P.EXIT_FILE)
        self.runner.gone(P.agent_id(task, attempt))

    # -- what happened ------------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        return self.loop.state

    def task(self, tid: str) -> TaskView:
        return self.state.tasks[tid]

    def events(self, *kinds: str) -> list[Event]:
        return [e for e in self.store.events(0) if not kinds or e.kind in kinds]

    def trail(self, *kinds: str) -> list[tuple[str, str | None, int | None]]:
        """(kind, task, attempt) of the events of ``kinds``, in the log's order."""
        return [(str(e.kind), e.task, e.attempt) for e in self.events(*kinds)]

    def replays(self) -> bool:
        """Whether a replay of the log equals the live state."""
        return project(self.store.events(0)) == self.loop.state
