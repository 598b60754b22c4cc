"""A harness for end-to-end tests: a real supervisor on a real repo, tmux server and agents.

The supervisor loop runs in a thread of the test process; the test watches its events through
a listener and waits on conditions (never fixed sleeps).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.run.supervisor import Supervisor
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.model import Event, TaskSpec, project
from swarmtui.runlock import RunLock
from swarmtui.store import Store


def fake(scenario: str, *extra: str, pace: float = 0.05) -> list[str]:
    """The simulated agent's command line. It runs the module itself (what ``swarmtui
    fake-agent`` runs, minus the CLI's imports: a tenth of the start-up CPU, which adds up over
    hundreds of agents); the demo's tests go through ``swarmtui fake-agent``."""
    return [sys.executable, "-m", "swarmtui.fake_agent", "--scenario", scenario,
            "--pace", str(pace), "--seed", "3", *extra]


def fast_config(agents: dict[str, list[str]], **sections: dict[str, Any]) -> Config:
    """A config with second-scale intervals; ``sections`` override keys per section.

    The watchdog gives an agent ten silent seconds (from its start) before it calls it stuck:
    an agent that starts slowly on a loaded machine (several test workers, each starting
    Python processes) is not stuck. A test about the watchdog sets its own thresholds."""
    data: dict[str, Any] = {
        "slots": {"max_agents": 4, "reserve": 0, "min_free_memory": "0",
                  "pools": {"worker": 4, "orchestrator": 2}},
        "heartbeat": {"tick": "100ms", "progress_interval": "1s", "quiet_after": 5,
                      "stuck_after": 10, "unproductive_after": 3, "orphan_timeout": "1m",
                      "stale_result_after": 100},
        "retry": {"max_attempts": 3, "backoff": "200ms", "backoff_max": "1s"},
        "breaker": {"max_failures": 50, "period": "1m"},
        "run": {"default_agent": next(iter(agents)), "default_role": "worker",
                "kill_grace": "1s"},
        "agents": {name: {"command": argv, "adapter": "generic"} for name, argv in
                   agents.items()},
    }
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return config_from_dict(data, "test-config")


def task(tid: str, agent: str, **kw: Any) -> TaskSpec:
    return TaskSpec(id=tid, title=kw.pop("title", tid), prompt=kw.pop("prompt", f"do {tid}"),
                    role=kw.pop("role", "worker"), agent=agent, **kw)


class Fleet:
    def __init__(self, repo: Path, config: Config, tasks: list[TaskSpec]) -> None:
        self.repo = repo
        self.config = config
        self.tasks = tasks
        self.store = Store(repo / P.SWARM_DIR / P.STATE_DB)
        self.tmux = Tmux(session_name_for(repo))
        self.lock = RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
        self.sup = Supervisor(repo, config, self.store, self.tmux)
        self.events: list[Event] = []
        self.cond = threading.Condition()
        self.sup.listeners.append(self._on_event)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def _on_event(self, ev: Event) -> None:
        with self.cond:
            self.events.append(ev)
            self.cond.notify_all()

    def start(self, *, exit_when_done: bool = True) -> Fleet:
        assert self.lock.acquire(), "another supervisor holds the lock"
        self.sup.exit_when_done = exit_when_done
        self.sup.open_run(self.tasks, "test")

        def loop() -> None:
            try:
                self.sup.run()
            except BaseException as e:
                self.error = e
            finally:
                with self.cond:
                    self.cond.notify_all()

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()
        return self

    def wait_event(self, pred: Callable[[Event], bool], timeout: float = 60.0) -> Event:
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for ev in self.events[seen:]:
                    if pred(ev):
                        return ev
                seen = len(self.events)
                if self.error is not None:
                    raise AssertionError(f"supervisor died: {self.error!r}") from self.error
                left = deadline - time.monotonic()
                if left <= 0 or (self.thread is not None and not self.thread.is_alive()
                                 and seen == len(self.events)):
                    kinds = [(e.kind, e.task, e.attempt, e.data.get("reason")) for e in
                             self.events[-25:]]
                    raise AssertionError(f"no matching event within {timeout}s; last: {kinds}")
                self.cond.wait(timeout=min(left, 0.5))

    def wait_kind(self, kind: str, task: str | None = None, timeout: float = 60.0,
                  **data: Any) -> Event:
        return self.wait_event(
            lambda e: e.kind == kind and (task is None or e.task == task)
            and all(e.data.get(k) == v for k, v in data.items()), timeout)

    def wait_done(self, timeout: float = 120.0) -> bool:
        assert self.thread is not None
        self.thread.join(timeout)
        if self.error is not None:
            raise AssertionError(f"supervisor died: {self.error!r}") from self.error
        assert not self.thread.is_alive(), self.summary()
        return bool(self.sup.finished_ok)

    def stop(self) -> None:
        self.sup.request_stop()
        if self.thread is not None:
            self.thread.join(30)
        self.lock.release()

    def command(self, kind: str, **args: Any) -> int:
        cid = self.store.append_command(kind, args, source="test")
        self.sup.loop.wake("test")
        return cid

    def assert_replay_equals_live(self) -> None:
        """The projection the loop kept equals a replay of the log it wrote (up to its last
        event: a later supervisor of the same run may have written more)."""
        state = self.sup.state
        events = [e for e in self.store.events(0, run=self.sup.run_id) if e.seq <= state.last_seq]
        assert project(events, run=self.sup.run_id) == state

    def of(self, kind: str, task: str | None = None) -> list[Event]:
        with self.cond:
            return [e for e in self.events if e.kind == kind and (task is None or e.task == task)]

    def state_of(self, tid: str) -> str:
        return str(self.store.replay().tasks[tid].state)

    def summary(self) -> str:
        st = self.store.replay()
        return "; ".join(f"{t.id}={t.state}({t.reason})" for t in st.tasks.values())

    def close(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.stop()
        self.lock.release()
        self.tmux.kill_session()
        if self.sup.ports is not None and self.error is None:
            self.assert_replay_equals_live()


def start(fleets: list[Fleet], repo: Path, config: Config, tasks: list[TaskSpec],
          **kw: Any) -> Fleet:
    """Start a fleet that the ``fleets`` fixture closes after the test."""
    f = Fleet(repo, config, tasks)
    fleets.append(f)
    return f.start(**kw)
