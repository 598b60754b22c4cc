"""End to end in tmux: the demo's supervisor and TUI in window 0 of its session, driven through
a real tmux client that runs in a second tmux server (as a user's terminal would be).

Keys go in with ``send-keys`` on the outer server; what the user would see comes back with
``capture-pane``. Every wait is on a condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.runlock import RunLock
from swarmtui.store import Store
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


class Terminal:
    """A 160x48 terminal: one pane of a private tmux server, running a shell command."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.base = ["tmux", "-S", socket, "-f", "/dev/null"]

    def tmux(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True,
                              env=self.env, timeout=30).stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "term", "-x", "160", "-y", "48", command)

    def respawn(self, command: str) -> None:
        self.tmux("respawn-pane", "-k", "-t", "term", command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "term")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "term", *(["-l"] if literal else []), *keys)

    def wait(self, what: str, cond: Callable[[str], bool], timeout: float = 40.0) -> str:
        """Poll the terminal (another process draws it) until ``cond`` holds on its text."""
        shown = [""]

        def check() -> str:
            shown[0] = self.screen()
            return shown[0] if cond(shown[0]) else ""

        return wait_until(check, timeout, what, interval=0.1,
                          seen=lambda: "the screen:\n" + shown[0])

    def wait_for(self, text: str, timeout: float = 40.0) -> str:
        return self.wait(repr(text), lambda s: text in s, timeout)

    def kill(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def terminal(tmux_socket: str) -> Iterator[Terminal]:
    socket = f"/tmp/swo-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
    env = {**os.environ, "SWARMTUI_TMUX_SOCKET": tmux_socket}
    env.pop("TMUX", None)
    term = Terminal(socket, env)
    yield term
    term.kill()
    try:
        os.unlink(socket)
    except FileNotFoundError:
        pass


def test_demo_driven_from_a_terminal(tmp_path: Path, terminal: Terminal,
                                     tmux_socket: str) -> None:
    # A slow pace keeps the "docs" agent running long enough to be killed, retried and visited.
    subprocess.run([sys.executable, "-m", "swarmtui", "demo", "--dir", str(tmp_path / "d"),
                    "--detach", "--pace", "3"], env=terminal.env, check=True, timeout=90,
                   capture_output=True)
    repo = tmp_path / "d" / "repo"
    attach = shlex.join([sys.executable, "-m", "swarmtui", "attach", "--repo", str(repo)])
    # After a detach the shell says so and stays, so the screen can be read.
    shell = f"{attach}; echo DETACHED-rc=$?; sleep 600"
    terminal.start(shell)
    t = terminal
    t.wait("the fleet", lambda s: "● running" in s and re.search(r"docs\s+running", s)
           is not None)

    # Select docs (the second row while nothing needs you): the detail panel follows.
    t.keys("Home", "Down")
    t.wait_for("docs-1 · Document the public API")

    # Kill asks once; y confirms; the engine's answer is shown.
    t.keys("K")
    t.wait_for("Kill docs (attempt 1)?")
    t.keys("y")
    t.wait_for("killed docs")
    t.wait("docs failed", lambda s: re.search(r"docs\s+failed", s) is not None)

    # Retry with a note for the next attempt.
    t.keys("r")
    t.wait_for("Retry docs: a fresh attempt")
    t.keys("try the outline first", literal=True)
    t.keys("Enter")
    t.wait_for("docs queued for a fresh attempt")
    t.wait("docs-2 running", lambda s: "docs-2 ·" in s and re.search(r"docs\s+running", s)
           is not None)
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    try:
        sent = [(c.kind, c.args, c.source) for c in store.commands()]
    finally:
        store.close()
    assert ("kill", {"task": "docs", "attempt": 1}, "tui") in sent
    assert ("retry", {"task": "docs", "attempt": 1, "note": "try the outline first",
                      "resume": False, "allow": [], "force": False}, "tui") in sent

    # enter shows the agent's window; F12 (swarmtui's tmux.conf) comes back.
    t.keys("Enter")
    t.wait("the docs-2 window", lambda s: re.search(r"\d+:docs-2\*", s) is not None)
    t.keys("F12")
    t.wait("window 0 again", lambda s: "0:swarmtui*" in s and "docs-2 ·" in s)

    # q detaches the client; the supervisor and the agents keep running.
    t.keys("q")
    t.wait_for("DETACHED-rc=0")
    lock = RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
    assert lock.holder_alive()
    windows = subprocess.run(["tmux", "-S", tmux_socket, "list-windows", "-a", "-F",
                              "#{window_name}"], capture_output=True, text=True).stdout.split()
    assert "swarmtui" in windows and any(w.startswith("docs-") for w in windows)

    # Attaching again brings the same live app back.
    t.respawn(shell)
    t.wait("the fleet again", lambda s: "● running" in s and "agents 1" in s)

    # Q stops the run after one confirming key: agents end, the session closes, the supervisor
    # (and window 0's app with it) exits.
    t.keys("Q")
    t.wait_for("Stop the run?")
    t.keys("y")
    t.wait_for("DETACHED-rc=", timeout=60)
    wait_until(lambda: not lock.holder_alive(), 30, "the supervisor to exit after the stop",
               interval=0.1)
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    try:
        assert str(store.replay().status) == "stopped"
        assert ("down", {"keep_agents": False}, "tui") in [
            (c.kind, c.args, c.source) for c in store.commands()]
    finally:
        store.close()
