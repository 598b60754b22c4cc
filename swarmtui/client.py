"""A client of a run: what the CLI and the TUI share.

It reads the run from the store (incrementally: only events after the last one seen are folded
into its projection) and asks the supervisor for actions through the command inbox, which is the
one path every action takes, whoever asks. All calls block (SQLite, files); the TUI calls them
from worker threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.errors import NoRunError, SwarmError
from swarmtui.model import Event, RunState, apply
from swarmtui.runlock import RunLock
from swarmtui.store import Store


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

    # -- acting -------------------------------------------------------------------------------

    def submit(self, kind: str, args: dict[str, Any] | None = None, *, source: str = "cli",
               timeout: float = 60.0, wait: bool = True) -> CommandResult:
        """Append a command for the live supervisor and (by default) wait for its answer."""
        if self.store.current_run() == 0:
            raise NoRunError(f"no run in {self.repo}; start one with `swarmtui up TASKS`")
        if not self.supervisor_live():
            raise SwarmError(f"no supervisor is running for {self.repo}; `swarmtui attach` or "
                             "`swarmtui up TASKS` resumes the run")
        cid = self.store.append_command(kind, args or {}, source=source)
        from swarmtui.engine.runtime.wake import nudge

        nudge(self.repo)  # the supervisor looks at its inbox now rather than at its next tick
        if not wait:
            return CommandResult(cid, kind, "pending", {})
        return self.wait(cid, kind, timeout)

    def wait(self, cid: int, kind: str = "", timeout: float = 60.0) -> CommandResult:
        deadline = time.monotonic() + timeout
        while True:
            cmd = self.store.command(cid)
            if cmd is not None and cmd.status != "pending":
                return CommandResult(cid, cmd.kind, cmd.status, dict(cmd.result or {}))
            if time.monotonic() > deadline:
                raise SwarmError(f"command {cid} ({kind}) is queued but the supervisor has not "
                                 f"answered within {timeout:.0f}s")
            time.sleep(0.05)  # the answer comes from another process through the database
