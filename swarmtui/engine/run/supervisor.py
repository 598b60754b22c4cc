"""The supervisor: builds the parts around one loop and opens (or resumes) a run.

It owns nothing itself. The loop owns the queue, ``emit`` and the tick; each part owns one job
(inbox commands, reading attempt files, liveness, spawning, health, verification, the merge
queue, forecasts, alerts, finishing) and every piece of run state is the projection of the log.
A resumed run keeps the settings it was started with (its config, path and content, and its
environment policy); the caller's config is only compared with it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from swarmtui import faults
from swarmtui import protocol as P
from swarmtui.config import Config
from swarmtui.engine.integrate.ledger import entries_from_events
from swarmtui.engine.messages import FilesChanged, FilesPending, HelperCrashed, WatcherRestarted
from swarmtui.engine.ports import Ports, Workers
from swarmtui.engine.run import wiring
from swarmtui.engine.run.footing import Footing, LostFooting
from swarmtui.engine.run.gather import Gather
from swarmtui.engine.run.loop import Listener, Loop
from swarmtui.engine.run.runconfig import config_differences, config_of_run, settings_for
from swarmtui.engine.run.tracelog import (
    close_supervisor_log,
    describe_crash,
    log,
    open_supervisor_log,
    thread_name,
)
from swarmtui.engine.run.wiring import Parts
from swarmtui.engine.runners.base import Runner, RunnerError, ServerGone
from swarmtui.engine.runners.hosts import make_runner
from swarmtui.engine.runners.local import LocalRunner
from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.engine.runtime.tmux import Tmux
from swarmtui.engine.runtime.wake import WakeListener
from swarmtui.engine.runtime.watch import DirWatcher
from swarmtui.errors import InputError
from swarmtui.model import RunSettings, RunState, RunStatus, TaskSpec
from swarmtui.model import payloads as p
from swarmtui.secrets import redact_config
from swarmtui.store import Store


class HelperThreadDied(Exception):
    """Raised on the loop for a helper thread's exception (its ``__cause__``)."""

    def __init__(self, thread: str) -> None:
        super().__init__(f"thread {thread} raised")
        self.thread = thread


class Supervisor:
    def __init__(self, repo: Path, config: Config, store: Store, tmux: Tmux, *,
                 agent_env: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time,
                 runner: Runner | None = None) -> None:
        self.repo = Path(repo)
        self.caller_config = config
        self.config = config  # replaced by the run's own config when a run is resumed
        self.store = store
        self.tmux = tmux
        self.git = Git(self.repo)
        self.runner: Runner = runner or LocalRunner(self.repo, tmux, self.git)
        self._runner_given = runner is not None  # otherwise the run's config says ([[hosts]])
        self.clock = clock
        self.agent_env = dict(os.environ if agent_env is None else agent_env)
        self.loop = Loop(store, RunState(), 0, clock=clock)
        self.ports: Ports | None = None
        self.parts: Parts | None = None
        self.exit_when_done = False
        self.config_differs: list[str] = []
        self.reload_config = False  # a resumed run takes the caller's config instead of its own
        self.how = ""
        self._watcher: DirWatcher | None = None
        self._wake: WakeListener | None = None
        self._listeners: list[Listener] = []
        self.lost: LostFooting | None = None  # set when the repository or the store went away
        self.crashed: str = ""  # "<type>: <message>" when the loop died of an exception

    # -- compatibility for callers that follow events --------------------------------------

    @property
    def listeners(self) -> list[Listener]:
        return self.loop.listeners

    @property
    def state(self) -> RunState:
        return self.loop.state

    @property
    def run_id(self) -> int:
        return self.loop.run_id

    @property
    def stop_requested(self) -> Any:
        return self.loop.stop_requested

    @property
    def finished_ok(self) -> bool | None:
        return self.parts.finisher.finished_ok if self.parts is not None else None

    # -- opening ----------------------------------------------------------------------------

    def open_run(self, tasks: list[TaskSpec], tasks_file: str) -> str:
        """Start a new run or resume the unfinished one; returns "new" or "resumed"."""
        swarm = P.swarm_dir(self.repo)
        old = os.umask(0o077)
        try:
            (swarm / P.AGENTS_DIR).mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(old)
        # Everything under .swarm (logs, prompts, worktrees, held text) is its owner's alone;
        # a run made by an older version gets tightened here.
        swarm.chmod(0o700)
        self.git.ensure_excluded(f"/{P.SWARM_DIR}/")
        current = self.store.current_run()
        prior = self.store.replay(current) if current else None
        if prior is not None and prior.status not in (RunStatus.FINISHED, RunStatus.STOPPED):
            self._resume(current, prior, tasks)
            return "resumed"
        self._start(current + 1, tasks, tasks_file)
        return "new"

    def _start(self, run_id: int, tasks: list[TaskSpec], tasks_file: str) -> None:
        if not self.git.has_commits():
            raise InputError(f"{self.repo}: the repository has no commits yet; agents need a "
                             "base to branch from (commit something first, e.g. `git commit "
                             "--allow-empty -m init`)")
        base = self.git.head_commit()
        target = self.config.merge.target or self.git.current_branch() or ""
        self.loop.state = RunState()
        self.loop.run_id = run_id
        used = self._attempts_used()
        ports, _ = self._build()
        ports.emit(p.RunStarted(run=run_id, repo=str(self.repo), base=base, target=target,
                              tasks_file=tasks_file, pid=os.getpid(),
                              settings=settings_for(self.config, tasks_file)))
        self._check_sandbox(ports)
        for spec in tasks:
            ports.emit(p.TaskAdded(spec=spec, attempt_base=used.get(spec.id, 0)), spec.id)

    def _check_sandbox(self, ports: Ports) -> None:
        """Said once per start: a run whose agents are not sandboxed says so (the TUI's top bar,
        ``status``), never silently."""
        from swarmtui.engine.sandbox.policy import run_check

        checked = run_check(self.config)
        if checked.off:
            log.warning("agents not sandboxed (%s): %s", ", ".join(checked.off), checked.why)
        ports.emit(checked)

    def _resume(self, run_id: int, prior: RunState, tasks: list[TaskSpec]) -> None:
        self.loop.state = prior
        self.loop.run_id = run_id
        new_settings: RunSettings | None = None
        if self.reload_config or prior.settings is None:
            self.config = self.caller_config
            new_settings = settings_for(self.config, prior.tasks_file)
        else:
            self.config = config_of_run(prior.settings, self.caller_config)
            self.config_differs = config_differences(
                prior.settings.config, redact_config(self.caller_config.to_dict()))
        ports, parts = self._build()
        ports.emit(p.RunResumed(pid=os.getpid(), settings=new_settings,
                              caller_config_differs=self.config_differs))
        self._check_sandbox(ports)
        for spec in tasks:
            if spec.id not in ports.state.tasks:
                ports.emit(p.TaskAdded(spec=spec), spec.id)
        self.runner.settle()  # hosts heard from: their agents are not taken for gone
        try:
            panes: dict[str, Any] | None = self.runner.snapshot()
        except (ServerGone, RunnerError):
            panes = None
        # Verifications that died with the last supervisor; a task whose results are read
        # during adoption gets its verify started there, once.
        verifying = [t.id for t in ports.state.tasks.values() if t.state.value == "verifying"]
        parts.liveness.adopt(panes)
        for tid in verifying:
            parts.verifier.start(ports.task(tid))  # restarted: its verification died with us

    def attach_offline(self) -> Parts:
        """The newest run's parts on its replayed state, for a command that acts under the
        run lock while no supervisor runs (``down``, ``merge``): nothing is resumed, nothing
        is dispatched, no event says a supervisor started."""
        run_id = self.store.current_run()
        self.loop.state = self.store.replay(run_id)
        self.loop.run_id = run_id
        self.config = config_of_run(self.loop.state.settings, self.caller_config)
        return self._build()[1]

    def _attempts_used(self) -> dict[str, int]:
        """Highest attempt number per task id over all runs, so branch names never repeat."""
        used: dict[str, int] = {}
        for ev in self.store.events(0, kind="attempt_spawned"):
            if ev.task and ev.attempt:
                used[ev.task] = max(used.get(ev.task, 0), ev.attempt)
        return used

    def _build(self) -> tuple[Ports, Parts]:
        """The ports and the parts (``run/wiring.py`` says who does what, and in which order)."""
        if not self._runner_given:
            self.runner.close()
            self.runner = make_runner(self.repo, self.config, self.tmux, self.git)
        ports = Ports(repo=self.repo, config=self.config, store=self.store, log=self.loop,
                      git=self.git, runner=self.runner, workers=Workers(self.loop.post),
                      clock=self.clock, agent_env=self.agent_env)
        ledger = entries_from_events(self.store.events(0, kind="task_merged"))
        parts = wiring.build(ports, self.loop, ledger)
        parts.status.vouch(self.caller_config.source)  # loaded without an error, just now
        try:
            parts.spawner.note_existing(set(self.git.heads("refs/heads/swarm/")))
        except GitError:
            pass
        self.ports, self.parts = ports, parts
        return ports, parts

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until stopped (or, with ``exit_when_done``, until the run has finished).

        An exception that escapes the loop is recorded (an event with its traceback, and the
        supervisor log) before it propagates: a restarted supervisor resumes from the log."""
        assert self.ports is not None, "open_run first"
        assert self.parts is not None
        ports, parts = self.ports, self.parts
        loop = self.loop
        trace = open_supervisor_log(self.repo)
        log.info("supervisor %d: %s run %d in %s", os.getpid(), self.how or "open",
                 self.run_id, self.repo)
        footing = Footing.take(self.repo, self.store.path)
        loop.every_tick(lambda now: self._check_footing(footing), first=True, busy_ok=True)
        gather = Gather(loop.post)
        loop.on(FilesPending, lambda msg: parts.reader.changed(FilesChanged(gather.take(msg))))
        self._watcher = DirWatcher(ports.swarm / P.AGENTS_DIR, gather.add,
                                   on_rearm=lambda why: loop.post(WatcherRestarted(why)))
        loop.on(WatcherRestarted, self._rearmed)
        self._watcher.start()
        self._wake = WakeListener(self.repo, lambda: loop.wake("nudge"))
        self._wake.start()
        loop.every_tick(self._touch_heartbeat, busy_ok=True)  # agents live on a busy store
        loop.on(HelperCrashed, self._helper_crashed)
        hook, threading.excepthook = threading.excepthook, self._thread_excepthook
        try:
            loop.run(self.config.heartbeat.tick, done=self._done)
        except Exception as e:
            self._record_crash(e)
            raise
        finally:
            threading.excepthook = hook
            self._wake.stop()
            self._watcher.stop()
            if self.lost is None:
                faults.point("supervisor-exit")
                try:
                    parts.inbox.close()  # a run that is over answers the commands left for it
                except Exception:  # noqa: BLE001 - the store is full or busy: clients see the lock go
                    log.warning("commands left for the run were not answered", exc_info=True)
            if self.lost is None and not self.crashed:
                loop.drain()
                try:
                    parts.snapshots.take(ports.now())
                except Exception:  # noqa: BLE001 - only a cache: the log is complete without it
                    log.warning("snapshot not taken", exc_info=True)
            ports.workers.shutdown()
            if parts.finisher.close_session or (self.exit_when_done and (
                    parts.finisher.finished_ok is not None or self.lost is not None)):
                self.runner.close_session()
            self.runner.close()
            log.info("supervisor %d: left the loop (%s)", os.getpid(),
                     self.lost.cause if self.lost else self.crashed or "stopped")
            close_supervisor_log(trace)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """An exception that escaped a helper thread (the watcher, the wake listener, a push):
        handed to the loop, which records it as the supervisor's crash and leaves."""
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a helper thread"
        log.critical("thread %s raised", name,
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        self.loop.post(HelperCrashed(name, args.exc_value))

    def _helper_crashed(self, msg: HelperCrashed) -> None:
        raise HelperThreadDied(msg.thread) from msg.error

    def _record_crash(self, e: BaseException) -> None:
        """The crash into the log file and, when the store still takes it, the event log."""
        where = thread_name()
        if isinstance(e, HelperThreadDied) and e.__cause__ is not None:
            where, e = e.thread, e.__cause__
        error, tb = describe_crash(e)
        self.crashed = error
        log.critical("the supervisor's loop crashed: %s", error, exc_info=e)
        if self.lost is not None or self.ports is None:
            return
        try:
            self.ports.emit(p.SupervisorCrashed(error=error, thread=where, traceback=tb))
        except Exception:  # noqa: BLE001 - the crash may be the store itself
            log.error("the crash could not be recorded in the event log", exc_info=True)

    def _check_footing(self, footing: Footing) -> None:
        lost = footing.check()
        if lost is None:
            return
        self.lost = lost
        log.critical("stopping: %s (%s)", lost.detail, lost.cause)
        self.loop.stop_requested.set()

    def _done(self) -> bool:
        return self.exit_when_done and self.finished_ok is not None

    def _rearmed(self, msg: WatcherRestarted) -> None:
        assert self.ports is not None
        assert self.parts is not None
        self.ports.emit(p.WatcherRearmed(reason=msg.reason))
        self.parts.reader.sweep()

    def _touch_heartbeat(self, now: float) -> None:
        hb = P.swarm_dir(self.repo) / P.HEARTBEAT_FILE
        try:
            os.utime(hb)
        except FileNotFoundError:
            try:
                hb.touch()
            except OSError:
                pass
        except OSError:
            pass

    def request_stop(self) -> None:
        """Leave the loop (agents keep running; a later `up` or `attach` adopts them)."""
        self.loop.stop_requested.set()
        self.loop.wake("stop")

    def stop(self, *, keep_agents: bool = False) -> None:
        """End the run from this thread (the loop must not be running elsewhere)."""
        assert self.ports is not None
        assert self.parts is not None
        self.parts.finisher.stop(keep_agents)
        try:
            while not self.loop.stop_requested.is_set():
                self.loop.tick()
                self.loop.drain()
                time.sleep(0.05)  # waiting for wrappers to record their exits (bounded)
        finally:
            self.ports.workers.shutdown()
            self.runner.close()
