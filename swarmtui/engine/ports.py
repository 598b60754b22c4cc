"""The ports: the only way a part of the supervisor reaches the world outside it.

A part gets the ports and the loop's ``ask`` (for what another part owns, see ``intents``) and
nothing else: it holds no other part. Everything here is the outside world or the run's log:
the repository, the run's config, the store and the log's projection, git, the runner, the
agents' protocol folders, the worker pools and the clock. A test builds its own ports around
stand-ins (a fake clock, a recording runner) and drives one part in process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from swarmtui import protocol as P
from swarmtui.config import Config
from swarmtui.engine.messages import Message
from swarmtui.engine.runners.base import Runner
from swarmtui.engine.runtime import reaper
from swarmtui.engine.runtime.files import free_memory_bytes, read_key_file
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.runtime.ingest import AgentFolders, AttemptFiles
from swarmtui.model import Event, Payload, RunState
from swarmtui.model.state import TaskView
from swarmtui.secrets import Redactor, secret_values
from swarmtui.store import Store


class RunLog(Protocol):
    """The run's event log as parts see it (the loop implements it): ``emit`` is the only way
    state changes, and ``state`` is the projection of what was emitted."""

    state: RunState
    run_id: int

    def emit(self, payload: Payload, task: str | None = None,
             attempt: int | None = None) -> Event: ...

    def emit_many(self, items: list[tuple[Payload, str | None, int | None]]) -> list[Event]: ...

    def transaction(self) -> AbstractContextManager[None]: ...


class Workers:
    """Thread pools for blocking work; results come back to the loop as messages."""

    def __init__(self, post: Callable[[Message], None], *, git_threads: int = 4,
                 verify_threads: int = 32) -> None:
        self.post = post
        self.git = ThreadPoolExecutor(git_threads, thread_name_prefix="swarm-git")
        self.tmux = ThreadPoolExecutor(1, thread_name_prefix="swarm-tmux")
        self.verify = ThreadPoolExecutor(verify_threads, thread_name_prefix="swarm-verify")
        self.store = ThreadPoolExecutor(1, thread_name_prefix="swarm-snapshot")
        # The sweep's look at agents' files (engine/attempts/looks.py): its own thread, so a
        # look never waits behind worktrees being made or a snapshot being written.
        self.files = ThreadPoolExecutor(1, thread_name_prefix="swarm-files")
        # Parts with threads of their own end here too (pushes still queued go out first).
        self.closers: list[Callable[[], None]] = []

    def run(self, pool: ThreadPoolExecutor, fn: Callable[[], Message | None],
            on_error: Callable[[BaseException], Message | None]) -> Future[None]:
        """Run ``fn`` in ``pool`` and post what it returns (or what ``on_error`` makes of an
        exception): a worker never raises into nowhere."""

        def job() -> None:
            try:
                msg = fn()
            except BaseException as e:  # noqa: BLE001 - reported to the loop, never lost
                msg = on_error(e)
            if msg is not None:
                self.post(msg)

        return pool.submit(job)

    def post_later(self, delay: float, msg: Message) -> None:
        """Post ``msg`` to the loop in ``delay`` seconds, sooner than the next tick may come (a
        daemon timer: one still waiting when the run ends goes with the process)."""
        timer = threading.Timer(delay, self.post, args=(msg,))
        timer.daemon = True
        timer.start()

    def shutdown(self) -> None:
        for pool in (self.git, self.tmux, self.verify, self.store, self.files):
            pool.shutdown(wait=False, cancel_futures=True)
        for close in self.closers:
            close()
        reaper.end_all()  # a running verify ends now (with all it started), not after the run


@dataclass
class Ports:
    repo: Path
    config: Config
    store: Store
    log: RunLog
    git: Git
    runner: Runner
    workers: Workers
    clock: Callable[[], float]
    agent_env: dict[str, str] = field(default_factory=dict)  # the caller's env, by pass_env
    free_memory: Callable[[], int | None] = free_memory_bytes  # this machine's, in bytes
    folders: AgentFolders = field(init=False)

    def __post_init__(self) -> None:
        self.folders = AgentFolders(self.swarm)

    # Shorthands through the ports, so parts read as what they do.

    @property
    def state(self) -> RunState:
        return self.log.state

    @property
    def swarm(self) -> Path:
        return self.repo / P.SWARM_DIR

    def now(self) -> float:
        return self.clock()

    def emit(self, payload: Payload, task: str | None = None,
             attempt: int | None = None) -> Event:
        return self.log.emit(payload, task, attempt)

    def emit_many(self, items: list[tuple[Payload, str | None, int | None]]) -> list[Event]:
        return self.log.emit_many(items)

    def transaction(self) -> AbstractContextManager[None]:
        return self.log.transaction()

    def task(self, tid: str) -> TaskView:
        return self.state.tasks[tid]

    def files_of(self, task: str, attempt: int) -> AttemptFiles:
        """The attempt's protocol folder; for the task's current attempt a new reader carries
        on after what the log says was read (a restarted supervisor)."""
        t = self.state.tasks.get(task)
        if t is not None and t.attempt == attempt:
            return self.folders.of(task, attempt, lines=t.progress_lines,
                                   offset=t.progress_offset, signals_offset=t.signals_offset)
        return self.folders.of(task, attempt)

    def submit(self, pool: ThreadPoolExecutor, fn: Callable[[], Message | None],
               on_error: Callable[[BaseException], Message | None]) -> Future[None]:
        return self.workers.run(pool, fn, on_error)


def redactor_for(ports: Ports) -> Redactor:
    """What redacts the run's secrets (the caller's and every agent's) from agent text."""
    values = secret_values(ports.agent_env)
    for agent in ports.config.agents.values():
        values += secret_values(agent.env, agent.secret_env)
    for acct in ports.config.accounts:  # [[accounts]] keys, from the environment or a file
        try:
            values.append(ports.agent_env.get(acct.env, "") if acct.env else read_key_file(
                acct.file))
        except OSError:
            pass  # unreadable now: the attempt that needs it fails to start, saying why
    return Redactor(values)
