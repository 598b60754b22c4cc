"""What the supervisor's parts share: the run's config, the loop, the store and the ports.

Parts reach the outside world only through the ports held here (the runner, git, the worker
pools), so each part can be driven by a test with stand-ins and a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from swarmtui import protocol as P
from swarmtui.config import Config
from swarmtui.engine.attempts.ingest import AttemptFiles
from swarmtui.engine.messages import Message
from swarmtui.engine.run.loop import Loop
from swarmtui.engine.runners.base import Runner
from swarmtui.engine.runtime import reaper
from swarmtui.engine.runtime.git import Git
from swarmtui.model import Event, Payload, RunState
from swarmtui.model.state import TaskView
from swarmtui.store import Store

if TYPE_CHECKING:
    from swarmtui.engine.attempts.liveness import Liveness
    from swarmtui.engine.attempts.outcomes import Outcomes
    from swarmtui.engine.attempts.reader import AttemptReader
    from swarmtui.engine.attempts.spawn import Spawner
    from swarmtui.engine.guard.holds import Holds
    from swarmtui.engine.health.disk import DiskGuard
    from swarmtui.engine.health.window import ContextWatch
    from swarmtui.engine.integrate.forecast import ForecastDriver
    from swarmtui.engine.integrate.mergequeue import MergeQueue
    from swarmtui.engine.integrate.resolver import Resolver
    from swarmtui.engine.integrate.verification import Verifier
    from swarmtui.engine.review.reviews import Reviews
    from swarmtui.engine.run.finish import Finisher
    from swarmtui.engine.run.inbox import Commands

T = TypeVar("T")


class Workers:
    """Thread pools for blocking work; results come back to the loop as messages."""

    def __init__(self, post: Callable[[Message], None], *, git_threads: int = 4,
                 verify_threads: int = 32) -> None:
        self.post = post
        self.git = ThreadPoolExecutor(git_threads, thread_name_prefix="swarm-git")
        self.tmux = ThreadPoolExecutor(1, thread_name_prefix="swarm-tmux")
        self.verify = ThreadPoolExecutor(verify_threads, thread_name_prefix="swarm-verify")
        self.store = ThreadPoolExecutor(1, thread_name_prefix="swarm-snapshot")
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

    def shutdown(self) -> None:
        for pool in (self.git, self.tmux, self.verify, self.store):
            pool.shutdown(wait=False, cancel_futures=True)
        for close in self.closers:
            close()
        reaper.end_all()  # a running verify ends now (with all it started), not after the run


@dataclass
class Ctx:
    repo: Path
    config: Config
    store: Store
    loop: Loop
    git: Git
    runner: Runner
    workers: Workers
    agent_env: dict[str, str] = field(default_factory=dict)  # the caller's env, by pass_env
    files: dict[str, AttemptFiles] = field(default_factory=dict)  # by agent id
    exit_when_done: bool = False
    finished_ok: bool | None = None
    # The parts, set by the supervisor once built (they refer to each other through here).
    liveness: Liveness = field(init=False)
    attempt_reader: AttemptReader = field(init=False)
    verifier: Verifier = field(init=False)
    merges: MergeQueue = field(init=False)
    spawner: Spawner = field(init=False)
    commands: Commands = field(init=False)
    resolver: Resolver = field(init=False)
    disk: DiskGuard = field(init=False)
    failures: Outcomes = field(init=False)
    reviews: Reviews = field(init=False)
    holds: Holds = field(init=False)
    finisher: Finisher = field(init=False)
    forecasts: ForecastDriver = field(init=False)
    context_watch: ContextWatch | None = field(default=None, init=False)  # set by the watchdog

    @property
    def state(self) -> RunState:
        return self.loop.state

    @property
    def swarm(self) -> Path:
        return self.repo / P.SWARM_DIR

    def now(self) -> float:
        return self.loop.clock()

    def emit(self, payload: Payload, task: str | None = None,
             attempt: int | None = None) -> Event:
        return self.loop.emit(payload, task, attempt)

    def emit_many(self, items: list[tuple[Payload, str | None, int | None]]) -> list[Event]:
        return self.loop.emit_many(items)

    def task(self, tid: str) -> TaskView:
        return self.state.tasks[tid]

    def files_of(self, task: str, attempt: int) -> AttemptFiles:
        aid = P.agent_id(task, attempt)
        f = self.files.get(aid)
        if f is None:
            f = self.files[aid] = AttemptFiles(self.swarm, aid)
            t = self.state.tasks.get(task)
            if t is not None and t.attempt == attempt:
                # Carry on after what the log says was read (a restarted supervisor).
                if t.progress_lines:
                    f.resume(t.progress_lines, t.progress_offset)
                f.signals_offset = t.signals_offset
        return f

    def max_attempts(self, t: TaskView) -> int:
        return t.spec.max_attempts or self.config.retry.max_attempts

    def submit(self, pool: ThreadPoolExecutor, fn: Callable[[], Message | None],
               on_error: Callable[[BaseException], Message | None]) -> Any:
        return self.workers.run(pool, fn, on_error)
