"""The keys that open a tmux window of their own, on real parts: a shell in the selected
attempt's worktree (a real tmux server on the test's socket), the HOST column, and ``enter`` on
an agent that runs on another host attaching to its window over ssh (a real sshd host from
``tests/sshd.py`` running its own tmux server, as the SSH runner leaves it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config.hosts import HostConfig
from swarmtui.engine.runners.sshremotemirror import TMUX_SOCKET
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.tui.remote import ssh_attach_argv
from tests.sshd import HostFactory
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    World,
    build_world,
    utc_private_config,
)
from tests.tui_pilot import loaded, make_app, select, toasts, until
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def session(world: World, socket: str) -> Tmux:
    """The run's session on the test's own tmux server, with window 0 standing in for the
    app's."""
    tmux = Tmux(session_name_for(world.repo), socket=socket)
    tmux.new_session(["sleep", "600"], cwd=world.repo)
    return tmux


def pane(tmux: Tmux, window: str, fmt: str) -> str:
    out = tmux.server.cmd("display-message", "-p", "-t", f"={tmux.session}:={window}", fmt)
    return out.stdout[0] if out.returncode == 0 and out.stdout else ""


async def test_the_shell_key_opens_a_shell_in_the_attempts_worktree(
        world: World, tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    tmux = session(world, tmux_socket)
    app = make_app(world, tmux=tmux, alive=None)
    worktree = P.worktree_dir(world.repo, "parser", 1)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "parser")
        await pilot.press("S")
        await until(pilot, lambda: pane(tmux, "sh:parser-1", "#{pane_current_path}") != "",
                    what="the shell's window")
        assert Path(pane(tmux, "sh:parser-1", "#{pane_current_path}")) == worktree.resolve()
        assert pane(tmux, "sh:parser-1", "#{window_active}") == "1"  # and it is shown
        await select(pilot, "release")  # blocked: never had an attempt
        await pilot.press("S")
        await until(pilot, lambda: "release has no attempt yet" in toasts(app))


def remote_world(world: World, host: HostConfig) -> World:
    """The world with a [[hosts]] entry and one agent running on that host."""
    world.config = world.config.model_copy(update={"hosts": [host]})
    world.add_task("far", "Work on the build host", at=700)
    world.ev("attempt_spawned", "far", 1, at=701, window="far-1", agent="claude",
             worktree=str(P.worktree_dir(world.repo, "far", 1)), branch="swarm/far-1",
             runner=host.name)
    world.ev("attempt_started", "far", 1, at=702, start_commit=world.base)
    return world


async def test_enter_on_a_remote_agent_attaches_over_ssh(world: World, tmux_socket: str,
                                                         ssh_hosts: HostFactory) -> None:
    (sshd,) = ssh_hosts(1)
    host = HostConfig(name="build1", ssh=sshd.alias, ssh_config=str(sshd.ssh_config))
    remote_world(world, host)
    name = session_name_for(world.repo)
    # The agent's window on the host, in swarmtui's tmux server there (as sshremote opens it).
    made = sshd.ssh("tmux", "-L", TMUX_SOCKET, "new-session", "-d", "-s", name, "-n", "far-1",
                    "sleep 600")
    assert made.returncode == 0, made.stderr

    def attached() -> str:
        out = sshd.ssh("tmux", "-L", TMUX_SOCKET, "display-message", "-p", "-t",
                       f"={name}:", "#{session_attached}")
        return out.stdout.strip()

    assert attached() == "0"
    tmux = session(world, tmux_socket)
    app = make_app(world, tmux=tmux, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        table = (await loaded(pilot)).fleet.table
        await until(pilot, lambda: "far" in table.rows_by_task, what="far on screen")
        assert table.cell("far", "host").plain == "build1"  # the HOST column
        assert table.cell("parser", "host").plain == "local"
        await select(pilot, "far")
        await pilot.press("enter")
        await until(pilot, lambda: pane(tmux, "ssh:far-1", "#{pane_pid}") != "",
                    what="the local window running ssh")
        wait_until(lambda: attached() == "1", what="the ssh client attached to far-1 on the host")
        shown = sshd.ssh("tmux", "-L", TMUX_SOCKET, "display-message", "-p", "-t", f"={name}:",
                         "#{window_name}").stdout.strip()
        assert shown == "far-1"
    tmux.server.cmd("kill-window", "-t", f"={tmux.session}:=ssh:far-1")
    wait_until(lambda: attached() == "0", what="the ssh client gone with its window")


def test_the_attach_command_line_uses_the_hosts_ssh_settings() -> None:
    host = HostConfig(name="b", ssh="me@b.example", ssh_config="/etc/swarm/ssh_config",
                      ssh_options=["Port=2222", "ServerAliveInterval=5"])
    assert ssh_attach_argv(host, "swarm-demo-1a2b", "parser-1") == [
        "ssh", "-t", "-F", "/etc/swarm/ssh_config", "-o", "Port=2222",
        "-o", "ServerAliveInterval=5", "--", "me@b.example",
        f"tmux -L {TMUX_SOCKET} attach-session -t =swarm-demo-1a2b:=parser-1"]
