"""The run's tmux session as a client uses it: show an agent's window, open a window beside them,
detach the terminal showing the session, and the session's name (the same here and on a host).

The TUI reaches tmux only through this (it imports nothing of ``engine/runtime``), as it reaches
the store and git only through ``client.py``. Every call blocks: the TUI makes them from
worker threads.
"""

from __future__ import annotations

from pathlib import Path

# Imported with this module, not on first use: libtmux reads ``sys.stdout.encoding`` when it
# is imported, and inside a running Textual app stdout is a capture that has none.
import libtmux

from swarmtui.engine.runtime.tmux import Tmux, TmuxError, session_name_for
from swarmtui.errors import SwarmError


class WindowError(SwarmError):
    """A window could not be opened (tmux said why)."""


def session_name(repo: Path) -> str:
    """The session a run of ``repo`` has in swarmtui's tmux server (and on every host)."""
    return session_name_for(repo)


class RunWindows:
    """One session of swarmtui's tmux server: the run's windows."""

    def __init__(self, tmux: Tmux) -> None:
        self._tmux = tmux
        self._server: libtmux.Server = tmux.server

    @property
    def session(self) -> str:
        return self._tmux.session

    def show(self, window: str) -> str | None:
        """Make ``window`` the session's current window; None, or what tmux said."""
        proc = self._server.cmd("select-window", "-t", f"={self.session}:={window}")
        if proc.returncode == 0:
            return None
        return " ".join(proc.stderr) or "tmux failed"

    def open(self, name: str, argv: list[str], cwd: Path) -> None:
        """Open a window named ``name`` running ``argv`` in ``cwd`` (not shown yet)."""
        try:
            self._tmux.new_window(name, argv, cwd)
        except (TmuxError, OSError) as e:
            raise WindowError(str(e)) from None

    def detach(self) -> str | None:
        """Detach the tmux client showing this server; None, or what tmux said."""
        proc = self._server.cmd("detach-client")
        if proc.returncode == 0:
            return None
        return " ".join(proc.stderr) or "tmux failed"
