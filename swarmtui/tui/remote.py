"""Command lines the app opens in a tmux window of its own: ssh attached to a remote agent's
window, and a shell in an attempt's worktree (pure: argv lists, never a shell string built
from agent text)."""

from __future__ import annotations

import os
import shlex

from swarmtui.config.hosts import HostConfig
from swarmtui.engine.runners.sshremotemirror import TMUX_SOCKET


def ssh_argv(host: HostConfig) -> list[str]:
    """``ssh -t`` with the host's own settings (its ssh config file and options)."""
    argv = ["ssh", "-t"]
    if host.ssh_config:
        argv += ["-F", host.ssh_config]
    for opt in host.ssh_options:
        argv += ["-o", opt]
    return argv


def ssh_attach_argv(host: HostConfig, session: str, window: str) -> list[str]:
    """Attach over ssh to ``window`` of swarmtui's tmux server on ``host`` (the same server
    and session name the SSH runner opens agents in)."""
    target = f"={session}:={window}"
    return [*ssh_argv(host), "--", host.ssh,
            shlex.join(["tmux", "-L", TMUX_SOCKET, "attach-session", "-t", target])]


def shell_argv() -> list[str]:
    """The operator's login shell (``$SHELL``; ``sh`` when unset)."""
    return [os.environ.get("SHELL") or "/bin/sh", "-l"]


def window_name(prefix: str, window: str) -> str:
    """A tmux window name for what the app opens beside an agent's (``ssh:parser-1``)."""
    return f"{prefix}:{window}"
