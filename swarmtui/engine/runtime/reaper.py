"""``python -P -m swarmtui.engine.runtime.reaper PARENT -- ARGV``: run ARGV so that nothing it
starts outlives it (the verify runner).

It is a child subreaper: whatever ARGV starts, daemons that ``setsid`` and double-fork included,
stays below it. When ARGV exits, what it left running is ended; when the runner is asked to end
(TERM, INT, HUP), or the supervisor thread that started it dies (parent-death signal, so a
SIGKILLed supervisor leaves no verify behind), everything below it is ended first.

``end_previous`` / ``record`` / ``forget`` keep a record per work tree of the runner working in
it, so that a restarted supervisor ends a runner its predecessor left before starting its own.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from swarmtui.engine.runtime import proc

_PR_SET_PDEATHSIG = 1
END_GRACE = 2.0  # seconds between TERM and KILL for what a verify left behind


def argv(command: list[str]) -> list[str]:
    """``command`` run under the reaper, for ``subprocess.Popen``."""
    return [sys.executable, "-P", "-m", "swarmtui.engine.runtime.reaper", str(os.getpid()),
            "--", *command]


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def main(args: list[str]) -> int:
    if "--" not in args or args.index("--") != 1 or len(args) < 3:
        print("usage: python -m swarmtui.engine.runtime.reaper PARENT_PID -- ARGV...",
              file=sys.stderr)
        return 2
    parent, command = int(args[0]), args[2:]

    def end(signum: int, _frame: FrameType | None) -> None:
        proc.end_descendants(END_GRACE)
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, end)
    proc.set_child_subreaper()
    _die_with_parent(parent)
    try:
        child = subprocess.Popen(command)
    except OSError as e:
        print(f"cannot run {command[0]!r}: {e}", flush=True)
        return 127
    rc = child.wait()
    proc.end_descendants(END_GRACE)  # what it left running ends with it
    return rc if rc >= 0 else 128 - rc


# -- the record of who verifies in a work tree ------------------------------------------------

def _record_path(cwd: Path) -> Path:
    return cwd.parent / f".{cwd.name}.verify-run.json"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None  # starttime, in clock ticks


_live: set[int] = set()  # runners this process started and has not seen end
_live_lock = threading.Lock()


def end_all() -> None:
    """Ask every runner this process started to end (the supervisor is stopping: `down`).
    Each ends what is below it; the threads waiting on them then return."""
    with _live_lock:
        pids = list(_live)
    proc.signal_all(pids, signal.SIGTERM)


def record(cwd: Path, pid: int) -> None:
    """Note the runner (its pid, also its process group) now verifying in ``cwd``."""
    with _live_lock:
        _live.add(pid)
    path = _record_path(cwd)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps({"pid": pid, "start": _start_time(pid), "cwd": str(cwd)}))
        os.replace(tmp, path)
    except OSError:
        pass  # a record is for a later restart; not having it ends nothing now


def forget(cwd: Path, pid: int) -> None:
    with _live_lock:
        _live.discard(pid)
    path = _record_path(cwd)
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def end_previous(cwd: Path, grace: float = END_GRACE) -> list[int]:
    """End the runner a previous supervisor left verifying in ``cwd`` (and every process of its
    group still working in that tree), and wait until they are gone. Returns their pids."""
    path = _record_path(cwd)
    try:
        rec = json.loads(path.read_bytes()[:4096])
        pid = int(rec["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    # Only processes of that group working in this tree: the record sits where agents can
    # write, so it can name no other process (the runner itself works in the tree too).
    victims = [v for v in _group_in(pid, cwd) if v != os.getpid()]
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not victims:
            break
        proc.signal_all(victims, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_running(v) for v in victims):
            time.sleep(0.02)  # others' processes: nothing to block on but their end
    try:
        path.unlink()
    except OSError:
        pass
    return victims


def _group_in(pgid: int, cwd: Path) -> list[int]:
    """Live processes of group ``pgid`` whose working directory is in ``cwd`` (a recycled pid
    elsewhere is never touched)."""
    if pgid <= 1 or pgid == os.getpgrp():
        return []
    root = str(cwd.resolve())
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getpgid(int(d.name)) != pgid:
                continue
            where = os.readlink(d / "cwd")
        except OSError:
            continue
        if (where == root or where.startswith(root + os.sep)) and _running(int(d.name)):
            found.append(int(d.name))
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
