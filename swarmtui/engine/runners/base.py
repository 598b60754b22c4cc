"""The runner interface: start an attempt, list what is alive, end one, attach a person.

Nothing above this interface knows where an attempt runs. Every method blocks (tmux, git, ssh),
so the engine calls them from worker threads, never from its loop. An attempt's protocol files
are always read from a local folder (``agent_dir``): a remote runner mirrors them there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swarmtui.engine.bootstrap import Copied
from swarmtui.engine.runtime.tmux import PaneInfo


class RunnerError(Exception):
    pass


class ServerGone(RunnerError):
    """The runner's tmux server (or host) is gone, and every attempt on it with it."""


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

    def group_alive(self, pgid: int) -> bool: ...

    def ensure_session(self) -> None: ...

    def close_session(self) -> None: ...

    def set_status(self, line: str) -> None: ...

    def attach_argv(self, window: str | None = None) -> list[str]: ...
