"""Stand-ins behind the supervisor's ports, so one part (or all of them) runs in process on a
fake clock: a runner that records what it is asked and answers from a table, a clock that
moves only when told, and ports around a real store and loop.

The store and the loop are the real ones (SQLite in a temporary folder): what a part emits is
checked against a replay of the log like everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from swarmtui.config import Config
from swarmtui.engine.ports import Ports, Workers
from swarmtui.engine.run.loop import Loop
from swarmtui.engine.runners.base import PrepareJob
from swarmtui.engine.runners.bootstrap import Copied
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.runtime.tmux import PaneInfo
from swarmtui.model import RunState
from swarmtui.store import Store


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class RecordingRunner:
    """A ``Runner`` that starts nothing: it records every call and answers ``snapshot`` from
    ``panes`` (window -> pane), which a test edits to say which agents still run."""

    root: Path
    panes: dict[str, PaneInfo] = field(default_factory=dict)
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    groups_alive: set[int] = field(default_factory=set)

    def agent_dir(self, task: str, attempt: int) -> Path:
        return self.root / ".swarm" / "agents" / f"{task}-{attempt}"

    def worktree(self, task: str, attempt: int) -> Path:
        return self.root / ".swarm" / "worktrees" / f"{task}-{attempt}"

    def prepare(self, job: PrepareJob) -> str:
        self.calls.append(("prepare", (job.task, job.attempt)))
        return "0" * 40

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        return Copied()

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        self.calls.append(("start", (window,)))
        return None

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


def make_ports(root: Path, config: Config, *, clock: FakeClock | None = None,
               run_id: int = 1) -> tuple[Ports, Loop]:
    """Ports around a real store in ``root/.swarm`` and a loop on a fake clock, with a recording
    runner; the loop's queue is drained by the test (``loop.drain()``)."""
    clock = clock or FakeClock()
    (root / ".swarm" / "agents").mkdir(parents=True, exist_ok=True)
    store = Store(root / ".swarm" / "state.db")
    loop = Loop(store, RunState(), run_id, clock=clock)
    ports = Ports(repo=root, config=config, store=store, log=loop, git=Git(root),
                  runner=RecordingRunner(root), workers=Workers(loop.post), clock=clock)
    return ports, loop
