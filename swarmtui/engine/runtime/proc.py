"""Process groups: the unit in which an agent is ended.

Each agent runs in its own process group (and session), whose id its wrapper records in
``agent.pgid`` the moment it starts the agent. Ending an attempt ends that group, whether or not
its wrapper is still alive, so a killed wrapper never leaves its agent running.
"""

from __future__ import annotations

import os
import signal


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies included, until reaped)."""
    if pgid <= 1:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when no such group exists."""
    if pgid <= 1 or pgid == os.getpgrp():
        return False  # never our own group, never init's
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGTERM)


def kill(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGKILL)
