"""The local runner: attempts in windows of swarmtui's own tmux server, worktrees in the repo."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.runners.base import PrepareJob, RunnerError, ServerGone
from swarmtui.engine.runners.bootstrap import Copied, copy_untracked
from swarmtui.engine.runtime import proc
from swarmtui.engine.runtime.git import Git, GitError, identity_env
from swarmtui.engine.runtime.tmux import (
    EVENTS_WINDOW,
    PaneInfo,
    Tmux,
    TmuxError,
    TmuxServerGone,
)
from swarmtui.engine.wrapper import steerpipe

log = logging.getLogger(__name__)


def package_root(root: str) -> str | None:
    """``root`` when it holds the ``swarmtui`` package as plain files (an install or a source
    checkout); None when swarmtui is imported some other way (a zip, an import hook) or when
    ``root`` also holds something named like a standard-library module (a backport in
    site-packages): on ``PYTHONPATH`` it would come before the standard library."""
    if not os.path.isfile(os.path.join(root, "swarmtui", "engine", "wrap.py")):
        return None
    try:
        names = {n.partition(".")[0] for n in os.listdir(root)}
    except OSError:
        return None
    return None if names & sys.stdlib_module_names else root


# .../swarmtui/engine/runners/local.py -> the folder holding swarmtui
_ROOT = package_root(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))


def wrapper_argv(agent_dir: Path) -> list[str]:
    # The wrapper's own module, not the CLI: it starts fast and stays small.
    # -P: the worktree (its cwd) is the agent's; a swarmtui/ folder in it must not be imported.
    # -S: no site module. The wrapper imports nothing outside the standard library and swarmtui
    # (tests/test_wrap_start.py checks), and site's import-path set-up (.pth files, an editable
    # install's import hook) was 28 ms of its 140 ms of start-up CPU (docs/performance.md,
    # "Spawning N"); swarmtui's own folder comes from the window's environment (wrapper_env).
    flags = ["-S", "-P"] if _ROOT is not None else ["-P"]
    return [sys.executable, *flags, "-m", "swarmtui.engine.wrap", str(agent_dir)]


def wrapper_env() -> dict[str, str]:
    """What a wrapper's window adds to the tmux server's environment: where swarmtui is, for a
    wrapper started without site. The agent never sees it: the wrapper starts the agent with
    the environment the supervisor wrote for it, nothing inherited."""
    return {"PYTHONPATH": _ROOT} if _ROOT is not None else {}


class LocalRunner:
    name = "local"

    def __init__(self, repo: Path, tmux: Tmux, git: Git) -> None:
        self.repo = repo
        self.tmux = tmux
        self.git = git

    def agent_dir(self, task: str, attempt: int) -> Path:
        return P.agent_dir(self.repo, task, attempt)

    def worktree(self, task: str, attempt: int) -> Path:
        return P.worktree_dir(self.repo, task, attempt)

    def prepare(self, job: PrepareJob) -> str:
        wt = self.worktree(job.task, job.attempt)
        try:
            if job.reuse_worktree:
                # A resumed session carries on where it was, on this attempt's own branch.
                reuse = Path(job.reuse_worktree)
                self.git.branch_here(reuse, job.branch)
                return self.git.head_of(reuse)
            start_commit = self.git.add_worktree(wt, job.branch, job.start)
            if job.merge_in:
                # Leave the target merged in with its conflict markers for the resolver.
                self.git.merge_in_worktree(wt, job.merge_in, job.merge_message,
                                           env=identity_env(self.repo))
            return start_commit
        except GitError as e:
            raise RunnerError(str(e)) from None

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        return copy_untracked(self.repo, worktree, patterns)

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        try:
            self.ensure_session()
            pane = self.tmux.new_window(window, wrapper_argv(agent_dir), cwd=worktree,
                                        env=wrapper_env())
        except TmuxServerGone as e:
            raise ServerGone(str(e)) from None
        except TmuxError as e:
            raise RunnerError(f"tmux: {e}") from None
        return pane.pane_pid

    def start_many(self, windows: Sequence[tuple[str, Path, Path]]
                   ) -> list[int | RunnerError | None]:
        """``start`` for several windows with one tmux client call per batch (see
        ``Tmux.new_windows``); per window its pane's pid or why it did not open (nothing is
        raised)."""
        wanted = [(w, wrapper_argv(adir), wt) for w, adir, wt in windows]
        try:
            try:  # the session is there nearly always: no tmux call to ask first
                got = self.tmux.new_windows(wanted, wrapper_env())
            except TmuxServerGone:  # or its session: a headless run's first windows
                self.ensure_session()
                got = self.tmux.new_windows(wanted, wrapper_env())
        except (TmuxServerGone, ServerGone) as e:
            return [ServerGone(str(e)) for _ in windows]
        except (TmuxError, RunnerError) as e:
            return [RunnerError(f"tmux: {e}") for _ in windows]
        out: list[int | RunnerError | None] = []
        for w, _, _ in windows:
            pane = got.get(w)
            out.append(pane.pane_pid if isinstance(pane, PaneInfo) else
                       RunnerError(f"tmux: {pane or 'no pane reported'}"))
        return out

    def snapshot(self) -> dict[str, PaneInfo]:
        try:
            return self.tmux.list_panes()
        except TmuxServerGone as e:
            raise ServerGone(str(e)) from None
        except TmuxError as e:
            raise RunnerError(str(e)) from None

    def steer(self, task: str, attempt: int, line: bytes) -> bool:
        return steerpipe.send(steerpipe.steer_path(self.agent_dir(task, attempt)), line)

    def end(self, window: str, *, pgid: int | None, wrapper_pid: int | None,
            hard: bool) -> None:
        if hard:
            if pgid is not None:
                proc.kill(pgid)
            self.tmux.kill_window(window)  # SIGHUP to whatever else is in the pane
            return
        sent = False
        if wrapper_pid is not None:
            # The wrapper forwards it to the agent's group and KILLs after the grace period.
            sent = _kill_pid(wrapper_pid)
        if pgid is not None:
            sent = proc.terminate(pgid) or sent
        if not sent:
            self.tmux.kill_window(window)

    def group_alive(self, pgid: int, window: str | None = None) -> bool:
        return proc.group_alive(pgid)

    def ensure_session(self) -> None:
        """The session exists (headless runs, or after the server was killed): window 0 then
        follows the event log."""
        if self.tmux.has_session():
            return
        try:
            self.tmux.new_session([sys.executable, "-P", "-m", "swarmtui", "events", "--follow",
                                   "--repo", str(self.repo)], cwd=self.repo,
                                  window_name=EVENTS_WINDOW)
        except TmuxError as e:
            if not self.tmux.has_session():  # lost a race with another creator: fine
                raise RunnerError(f"tmux: {e}") from None

    def close_session(self) -> None:
        self.tmux.kill_session()

    def set_status(self, line: str) -> None:
        try:
            self.tmux.set_option("@swarm_status", line.replace("#", "##"))  # tmux.conf shows it
        except TmuxError as e:
            log.info("status line not set: %s", e)

    def attach_argv(self, window: str | None = None) -> list[str]:
        argv = self.tmux.attach_argv()
        if window:
            argv[-1] = f"={self.tmux.session}:={window}"
        return argv

    def place(self, role: str, busy: Mapping[str, int]) -> str | None:
        return self.name  # the fleet budget (slots.max_agents) is the only limit here

    def track(self, window: str, runner: str) -> None:
        pass

    def unreachable(self) -> dict[str, str | None]:
        return {}

    def settle(self) -> None:
        pass  # tmux here answers at once

    def close(self) -> None:
        pass


def _kill_pid(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True
