"""Two `git rev-parse` questions for `status`'s quick path, without the subprocess module.

``subprocess`` pulls in threading, selectors, signal and locale: about 10 ms of CPU per process
on this project's 2-core box, more than the two git calls themselves. These run git with
``os.posix_spawnp`` and read its output from a pipe (stderr goes to /dev/null, as
``capture_output`` hid it), with the same arguments and timeouts as ``gitview``'s; any failure
is None, and the caller answers the usual way, which says what is wrong.
"""

from __future__ import annotations

import os
import time
from select import POLLIN, poll

ROOT_TIMEOUT = 30.0
TIP_TIMEOUT = 10.0  # gitview.TIP_TIMEOUT
MAX_OUT = 1 << 16  # rev-parse prints two paths or a commit id


def git(args: list[str], timeout: float) -> tuple[int, str] | None:
    """(exit code, stdout) of ``git ARGS``; None when git could not be run, printed more
    than ``MAX_OUT`` or took longer than ``timeout`` (then it is killed)."""
    r, w = os.pipe()
    try:
        if min(r, w) < 3:  # a standard stream was closed: dup2 onto itself keeps CLOEXEC
            os.close(r)
            return None
        pid = os.posix_spawnp("git", ["git", *args], os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    except OSError:
        os.close(r)
        return None
    finally:
        os.close(w)
    out = bytearray()
    ok = False
    try:
        p = poll()
        p.register(r, POLLIN)
        deadline = time.monotonic() + timeout
        while len(out) <= MAX_OUT:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not p.poll(left * 1000):
                continue
            chunk = os.read(r, MAX_OUT)
            if not chunk:
                ok = True
                break
            out += chunk
    finally:
        os.close(r)
        if not ok:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
    return (os.waitstatus_to_exitcode(status), out.decode()) if ok else None


def main_root(start: str) -> str | None:
    """``gitview.main_root(start)`` as a string; None where that raises."""
    got = git(["-C", start, "rev-parse", "--path-format=absolute", "--git-common-dir",
               "--show-toplevel"], ROOT_TIMEOUT)
    if got is None or got[0] != 0:
        return None
    lines = got[1].splitlines()
    if len(lines) < 2:
        return None
    common, top = lines[0], lines[1]
    return os.path.dirname(common) if os.path.basename(common) == ".git" else top


def target_tip(repo: str, target: str | None) -> str | None:
    """The target branch's commit now, as ``gitview.target_tip`` says it."""
    if not target:
        return None
    got = git(["-C", repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{target}^{{commit}}"],
              TIP_TIMEOUT)
    if got is None:
        return None
    tip = got[1].strip()
    return tip if got[0] == 0 and tip else None
