"""A client of a run: what the CLI and the TUI share.

It reads the run from the store (incrementally: only events after the last one seen are folded
into its projection), reads the run's git (the target's tip, an attempt's diff: ``gitview.py``)
and asks the supervisor for actions through the command inbox, which is the one path every
action takes, whoever asks. All calls block (SQLite, files, git); the TUI calls them from worker
threads. The run's tmux windows are ``windows.py``'s.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from swarmtui import gitview
from swarmtui import protocol as P
from swarmtui.errors import NoRunError, SwarmError
from swarmtui.model import Event, RunState, RunStatus, apply
from swarmtui.runlock import RunLock
from swarmtui.store import Store, StoreBusy

T = TypeVar("T")
STORE_WAIT_S = 60.0  # how long a command waits for a busy store before giving up
BUSY_BACKOFF = (0.25, 4.0)


def store_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("SWARMTUI_STORE_WAIT", STORE_WAIT_S)))
    except ValueError:
        return STORE_WAIT_S


def _warn(text: str) -> None:
    print(f"swarmtui: {text}", file=sys.stderr, flush=True)


def when_free(fn: Callable[[], T], what: str, *, say: Callable[[str], None] = _warn) -> T:
    """``fn()``, retried with a doubling backoff while another process holds the store's
    write lock; says so once, and gives up with a clean error after ``SWARMTUI_STORE_WAIT``
    seconds (nothing was written then)."""
    deadline = time.monotonic() + store_wait()
    pause = BUSY_BACKOFF[0]
    told = False
    while True:
        try:
            return fn()
        except StoreBusy as e:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreBusy(f"{e}; gave up after {store_wait():.0f}s: {what} was not "
                                "done; try again once the other process lets go") from None
            if not told:
                say(f"{e}; waiting up to {left:.0f}s to {what}")
                told = True
            time.sleep(min(pause, left))  # the lock is another process's: nothing to await
            pause = min(pause * 2, BUSY_BACKOFF[1])


@dataclass
class CommandResult:
    id: int
    kind: str
    status: str  # done | failed | refused
    result: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "done"

    @property
    def message(self) -> str:
        r = self.result
        return str(r.get("message") or r.get("error") or r.get("reason") or self.status)

    def to_json_obj(self) -> dict[str, Any]:
        return {**self.result, "status": self.status, "command_id": self.id}


class RunClient:
    def __init__(self, repo: Path, *, store: Store | None = None) -> None:
        self.repo = Path(repo)
        self.db = self.repo / P.SWARM_DIR / P.STATE_DB
        if store is None and not self.db.exists():
            raise NoRunError(f"no run in {self.repo} (no {P.SWARM_DIR}/{P.STATE_DB}); "
                             "start one with `swarmtui up TASKS`")
        self.store = store or Store(self.db)
        self.lock = RunLock(self.repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
        self.state = RunState()
        self._run = 0

    # -- reading ------------------------------------------------------------------------------

    def supervisor_live(self) -> bool:
        return self.lock.holder_alive()

    def refresh(self, limit: int = 5000) -> list[Event]:
        """Fold new events into ``state``; returns them. A new run resets the projection, to
        the run's snapshot when it has one (a long log is not read from its start)."""
        run = self.store.current_run()
        if run != self._run:
            self._run = run
            self.state = self.store.snapshot_state(run) or RunState()
        new = self.store.events(self.state.last_seq, run=run, limit=limit)
        for ev in new:
            apply(self.state, ev)
        return new

    def task_events(self, task: str, limit: int = 500) -> list[Event]:
        evs = self.store.events(0, run=self._run or None, task=task)
        return evs[-limit:]

    def agent_dir(self, task: str, attempt: int) -> Path:
        return P.agent_dir(self.repo, task, attempt)

    def worktree(self, task: str, attempt: int) -> Path:
        return P.worktree_dir(self.repo, task, attempt)

    def target_tip(self, target: str | None) -> str | None:
        """The target branch's commit now (it moves when tasks merge); None when there is no
        such branch or git cannot say."""
        return gitview.target_tip(self.repo, target)

    def attempt_diff(self, task: str, attempt: int, start: str) -> str:
        """What an attempt changed since ``start`` (the commit it started from), committed and
        not yet committed: terminal-safe text, bounded (``gitview.DIFF_LINES``)."""
        return gitview.attempt_diff(self.repo, self.worktree(task, attempt),
                                    P.agent_id(task, attempt), start,
                                    P.branch_name(task, attempt))

    # -- acting -------------------------------------------------------------------------------

    def submit(self, kind: str, args: dict[str, Any] | None = None, *, source: str = "cli",
               timeout: float = 60.0, wait: bool = True) -> CommandResult:
        """Append a command for the live supervisor of the newest run and (by default) wait
        for its answer. The command belongs to that run: no other run applies it."""
        run = self.store.current_run()
        if run == 0:
            raise NoRunError(f"no run in {self.repo}; start one with `swarmtui up TASKS`")
        if not self.supervisor_live():
            raise SwarmError(f"no supervisor is running for {self.repo}; `swarmtui attach` or "
                             "`swarmtui up TASKS` resumes the run")
        cid = when_free(lambda: self.store.append_command(kind, args or {}, source=source,
                                                          run=run), f"send {kind}")
        from swarmtui.engine.runtime.wake import nudge

        nudge(self.repo)  # the supervisor looks at its inbox now rather than at its next tick
        if not wait:
            return CommandResult(cid, kind, "pending", {})
        return self.wait(cid, kind, timeout)

    def wait(self, cid: int, kind: str = "", timeout: float = 60.0) -> CommandResult:
        """The command's answer. When no supervisor holds the run any more, the command is
        withdrawn (refused, with the reason) and that is the answer: at once, not at the
        timeout, and it is never applied later."""
        deadline = time.monotonic() + timeout
        while True:
            cmd = self.store.command(cid)
            if cmd is not None and cmd.status != "pending":
                return CommandResult(cid, cmd.kind, cmd.status, dict(cmd.result or {}))
            if cmd is not None and not self.supervisor_live():
                return self._withdraw(cid, kind or cmd.kind, cmd.run)
            if time.monotonic() > deadline:
                raise SwarmError(f"command {cid} ({kind}) is queued but the supervisor has not "
                                 f"answered within {timeout:.0f}s")
            time.sleep(0.05)  # the answer comes from another process through the database

    def _withdraw(self, cid: int, kind: str, run: int | None) -> CommandResult:
        state = self.store.replay(run) if run else None
        if state is not None and state.status in (RunStatus.FINISHED, RunStatus.STOPPED):
            why = f"run {run} {state.status} before command {cid} ({kind}) was applied"
        else:
            why = (f"the supervisor of run {run} stopped before applying command {cid} "
                   f"({kind}); `swarmtui attach` resumes the run, then repeat the command")
        result = {"reason": f"{why}; nothing was done"}
        if when_free(lambda: self.store.finish_command(cid, "refused", result),
                     f"withdraw command {cid}"):
            return CommandResult(cid, kind, "refused", result)
        cmd = self.store.command(cid)  # answered meanwhile: that answer stands
        assert cmd is not None
        return CommandResult(cid, cmd.kind, cmd.status, dict(cmd.result or {}))
