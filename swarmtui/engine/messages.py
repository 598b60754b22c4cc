"""What the loop's helpers (watcher, tmux poller, workers) hand to the loop thread.

Every message is a small frozen value; the loop dispatches on its type. Helpers never touch the
run state or the store: they observe or do slow work and report back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swarmtui.engine.runtime.tmux import PaneInfo
from swarmtui.model import Cause


@dataclass(frozen=True)
class Wake:
    """Look at the inbox now (a command arrived) or re-check the stop flag."""

    reason: str = ""


@dataclass(frozen=True)
class FilesChanged:
    """Paths under ``.swarm/agents`` changed; ``None`` asks for a sweep of every attempt."""

    paths: frozenset[str] | None


@dataclass(eq=False)
class FilesPending:
    """Paths the watcher reported that the loop has not taken yet. While one is queued, the
    watcher's later batches join it (``engine/run/supervisor.py``, ``Gather``): what piled up
    behind a slow tick is read in one handler run and one transaction."""

    paths: set[str]


@dataclass(frozen=True)
class WatcherRestarted:
    reason: str


@dataclass(frozen=True)
class Panes:
    """One snapshot of the session's panes, or why there is none."""

    panes: dict[str, PaneInfo] | None
    server_gone: bool = False
    error: str = ""
    # Windows on a host that cannot be reached now: the reason once it counts as lost.
    unreachable: dict[str, str | None] | None = None


@dataclass(frozen=True)
class Prepared:
    """An attempt's worktree and files are ready (or could not be made)."""

    aid: str
    start_commit: str = ""
    error: str = ""
    cause: Cause | None = None
    fit: Any = None  # engine.contextfit.Fit: how much of the window its prompt takes
    flags: tuple[Any, ...] = ()  # engine.quarantine.Flag: agent text held from the prompt
    copied: Any = None  # engine.bootstrap.Copied: untracked files put in the new worktree


@dataclass(frozen=True)
class HelperCrashed:
    """A helper thread of the supervisor raised: the loop records it as the supervisor's
    crash and leaves (a half-blind supervisor is worse than a restarted one)."""

    thread: str
    error: BaseException


@dataclass(frozen=True)
class Started:
    """An attempt's window was opened (or could not be)."""

    aid: str
    pane_pid: int | None = None
    error: str = ""
    server_gone: bool = False  # the tmux server was gone: the attempt is lost, not at fault


@dataclass(frozen=True)
class WindowsOpened:
    """A batch of prepared attempts' windows, opened together (each ``Started`` as above)."""

    items: tuple[Started, ...]


@dataclass(frozen=True)
class VerifyDone:
    task: str
    attempt: int
    passed: bool
    code: int | None
    tail: str
    seconds: float
    timed_out: bool = False
    protected: tuple[str, ...] = ()  # protected paths its branch changes: verify did not run
    unrunnable: str = ""  # the shell's message when the command could not run (126/127)
    markers: tuple[str, ...] = ()  # a resolver's files still holding conflict markers


@dataclass(frozen=True)
class MergeDone:
    task: str
    attempt: int
    outcome: Any  # engine.merge.MergeOutcome


@dataclass(frozen=True)
class ForecastDone:
    sig: tuple[Any, ...]
    result: dict[str, dict[str, Any]] | None


@dataclass(frozen=True)
class Sampled:
    """A productivity sample of one running attempt: its diff and log size."""

    task: str
    attempt: int
    files: int | None
    insertions: int
    deletions: int
    head: str
    log_size: int
    paths: tuple[str, ...] = ()  # the changed files (committed, uncommitted and untracked)
    mark: int | None = None  # the worktree's mark when sampled (runtime/treemark.py)
    reused: bool = False  # the mark had not moved: the diff is the last sample's, no git ran


@dataclass(frozen=True)
class Recheck:
    """Look at one attempt's files again (a results.json that was still being written)."""

    aid: str




@dataclass(frozen=True)
class ResolveChecked:
    task: str
    attempt: int
    command_id: int
    source: str
    conflicts: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class StatusSet:
    """The tmux status line was updated (or could not be)."""

    line: str


@dataclass(frozen=True)
class Reviewed:
    task: str
    attempt: int
    review: Any  # engine.review.Review
    command_id: int | None
    source: str
    then_merge: bool = False
    flags: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CheckDone:
    """A task's readiness check ran (engine/health/readiness.py)."""

    task: str
    attempt: int
    outcome: Any  # engine.readiness.CheckOutcome



@dataclass(frozen=True)
class Steered:
    """A steering command reached the attempt's wrapper (or could not: ``error``)."""

    task: str
    attempt: int
    command_id: int
    kind: str
    source: str
    what: str  # what was delivered, for the command's answer
    error: str = ""


Message = (Wake | FilesChanged | FilesPending | WatcherRestarted | Panes | Prepared | Started
           | VerifyDone | MergeDone | ForecastDone | Sampled | Recheck | ResolveChecked | StatusSet
           | Reviewed | CheckDone | HelperCrashed | Steered | WindowsOpened)
