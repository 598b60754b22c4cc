"""Process groups: the unit in which an agent is ended.

Each agent runs in its own process group (and session), whose id its wrapper records in
``agent.pgid`` the moment it starts the agent. Ending an attempt ends that group, whether or not
its wrapper is still alive, so a killed wrapper never leaves its agent running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Container, Iterable, Mapping


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


# -- descendants: a child subreaper finds and ends everything it started ----------------------

_PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux): a daemon that
    double-forks and ``setsid``s out of its process group is re-parented here instead of to
    init, so ``descendants`` still finds it. False where the kernel does not offer it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, list[int]]:
    """Every live (not zombie) process's children, from /proc."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) "
        if len(fields) < 2 or fields[0] == b"Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    return children


def descendants(root: int) -> list[int]:
    """The live processes below ``root`` (children, theirs, and so on), nearest first."""
    children = _parents()
    out: list[int] = []
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def reap_orphans(own: Container[int] = ()) -> int:
    """Reap every exited child except those in ``own`` (their Popen objects wait for them);
    returns how many. Non-blocking; re-parented orphans end up here once a subreaper."""
    n = 0
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return n
        if info is None or info.si_pid in own:
            return n
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            pass
        n += 1


def end_descendants(grace: float, *, linger: float = 0.0,
                    own: Container[int] = ()) -> list[int]:
    """End every descendant of this process: let them finish for ``linger`` seconds, then TERM,
    then KILL whatever is left after ``grace``, reaping as they go (this process is their
    subreaper). Returns the pids that had to be signalled."""
    me = os.getpid()
    signalled: list[int] = []
    for wait, sig in ((linger, 0), (grace, signal.SIGTERM), (5.0, signal.SIGKILL)):
        reap_orphans(own)
        left = descendants(me)
        if not left:
            return signalled
        if sig:
            signalled += [pid for pid in left if pid not in signalled]
            signal_all(left, sig)
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.02)  # others' processes: there is nothing to block on but their end
            reap_orphans(own)
            left = descendants(me)
            if sig == signal.SIGKILL:
                signal_all(left, sig)  # children forked meanwhile are re-parented here
    reap_orphans(own)
    return signalled


def run_in_background(argv: list[str], env: Mapping[str, str], *, timeout: float,
                      what: str) -> None:
    """Run ``argv`` in a thread of its own, detached from any terminal, output dropped; a
    failure is logged as ``what``'s (for hooks the operator configured, like notify.command)."""

    def run() -> None:
        try:
            subprocess.run(argv, env=dict(env), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True, timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            import logging  # not at the top: every wrapper imports this module at its start

            logging.getLogger(__name__).warning("%s %s failed: %s", what, argv[0], e)

    threading.Thread(target=run, name="swarm-notify", daemon=True).start()
