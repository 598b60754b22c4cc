"""The runner interface: start an attempt, list what is alive, end one, attach a person.

Nothing above this interface knows where an attempt runs. Every method blocks (tmux, git, ssh),
so the engine calls them from worker threads, never from its loop. An attempt's protocol files
are always read from a local folder (``agent_dir``): a remote runner mirrors them there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swarmtui.engine.runners.bootstrap import Copied
from swarmtui.engine.runtime.tmux import PaneInfo


class RunnerError(Exception):
    pass


class ServerGone(RunnerError):
    """The runner's tmux server (or host) is gone, and every attempt on it with it."""


class HostUnknown(RunnerError):
    """The runner has not heard from its host yet, or lost it only a moment ago: nothing can
    be said about the windows there now (they are neither alive nor gone)."""


@dataclass(frozen=True)
class PrepareJob:
    """What an attempt's worktree needs: a new branch from ``start``, and for a resolver the
    target merged in with its conflict markers left in place."""

    task: str
    attempt: int
    branch: str
    start: str
    merge_in: str | None = None
    merge_message: str = ""
    reuse_worktree: str | None = None  # carry on in this worktree on the new branch


class Runner(Protocol):
    name: str

    def agent_dir(self, task: str, attempt: int) -> Path: ...

    def worktree(self, task: str, attempt: int) -> Path: ...

    def prepare(self, job: PrepareJob) -> str:
        """Create the worktree; returns the commit it starts from."""
        ...

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        """Copy the repository's untracked files named by ``patterns`` into a new worktree."""
        ...

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        """Open the attempt's window running the wrapper; returns the pane's pid."""
        ...

    def snapshot(self) -> dict[str, PaneInfo]:
        """Every live window by name; raises ServerGone when the server is gone."""
        ...

    def end(self, window: str, *, pgid: int | None, wrapper_pid: int | None,
            hard: bool) -> None:
        """Ask the attempt to end (TERM to its wrapper and group); ``hard`` kills outright."""
        ...

    def steer(self, task: str, attempt: int, line: bytes) -> bool:
        """Hand one command line to the attempt's wrapper through its steering pipe; False
        when nobody listens there (the session ended or cannot be steered). Blocks briefly
        (a remote host: one round trip); call it from a worker."""
        ...

    def group_alive(self, pgid: int, window: str | None = None) -> bool:
        """Whether the agent's process group (of the attempt in ``window``) still exists.
        Never blocks: a remote runner answers from what its host last said."""
        ...

    def ensure_session(self) -> None: ...

    def close_session(self) -> None: ...

    def set_status(self, line: str) -> None: ...

    def attach_argv(self, window: str | None = None) -> list[str]: ...

    def place(self, role: str, busy: Mapping[str, int]) -> str | None:
        """Where a new attempt of ``role`` runs: a runner's name (recorded with the attempt),
        or None when no host has a free slot for it now. ``busy`` counts, per runner name,
        the attempts whose process may still exist (from the log). Never blocks."""
        ...

    def track(self, window: str, runner: str) -> None:
        """The attempt in ``window`` runs on ``runner`` (just placed, or as the log says after
        a restart). Never blocks."""
        ...

    def unreachable(self) -> dict[str, str | None]:
        """After ``snapshot``: windows that cannot be seen because their host cannot be
        reached, with the reason once the host counts as lost (None while it is still being
        reached). A window stays here until its agent has surely ended (the orphan timeout
        since its host was last heard from) or the host answers again."""
        ...

    def settle(self) -> None:
        """Block until ``snapshot`` can speak for every tracked window: each host holding one
        has been heard from since this runner was made, or counts as lost. A restarted
        supervisor calls it before adopting, so an agent alive on a host still connecting is
        not taken for gone."""
        ...

    def close(self) -> None:
        """Stop background work (connections, mirrors); the attempts keep running."""
        ...


def start_windows(runner: Runner, windows: Sequence[tuple[str, Path, Path]]
                  ) -> list[int | RunnerError | None]:
    """``runner.start`` for each (window, agent folder, worktree), through the runner's
    ``start_many`` where it has one (the local runner opens many windows per tmux call). Per
    window: the pane's pid, or the error that kept it from opening (``ServerGone`` among them);
    nothing is raised."""
    many = getattr(runner, "start_many", None)
    if many is not None:
        got: list[int | RunnerError | None] = many(windows)
        return got
    out: list[int | RunnerError | None] = []
    for window, adir, wt in windows:
        try:
            out.append(runner.start(window, adir, wt))
        except RunnerError as e:
            out.append(e)
        except Exception as e:  # noqa: BLE001 - one window's failure, reported as its own
            out.append(RunnerError(str(e)))
    return out
