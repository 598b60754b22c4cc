"""Running a task's shell commands in a worktree: its ``verify`` command (the acceptance check)
and its readiness ``check``. Each runs with ``sh -c`` in its own process group, bounded in time
and in the output kept; both block, so callers run them in a worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from swarmtui.engine.runtime import reaper
from swarmtui.textsafe import clean_text

# The shell's own exit codes for a command it could not run: found but not executable (126),
# not found (127). Trying the agent again changes neither.
UNRUNNABLE_CODES = (126, 127)
MESSAGE_MAX = 300
_SHELL_PREFIX = re.compile(r"^(?:/bin/)?sh: (?:line )?\d+: ")


@dataclass(frozen=True)
class VerifyOutcome:
    passed: bool
    code: int | None  # None on timeout
    tail: str
    seconds: float
    timed_out: bool = False


def run_verify(command: str, cwd: Path, *, timeout: float, tail_bytes: int,
               log_path: Path | None = None, env: dict[str, str] | None = None) -> VerifyOutcome:
    """Run ``command`` with ``sh -c`` (it is the user's shell command by definition) in its own
    process group so a timeout ends everything it started; keep the output's tail."""
    start = time.monotonic()
    reaper.end_previous(cwd)  # a verify a killed supervisor left here ends before this one
    # Under the reaper (a subreaper), so nothing the command starts outlives it.
    proc = subprocess.Popen(
        reaper.argv(["/bin/sh", "-c", command]), cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    reaper.record(cwd, proc.pid)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.terminate()  # the reaper ends everything below it, then itself
        try:
            out, _ = proc.communicate(timeout=reaper.END_GRACE + 5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, _ = proc.communicate()
    finally:
        reaper.forget(cwd, proc.pid)
    text = out.decode("utf-8", "replace")
    if log_path is not None:
        log_path.write_text(f"$ {command}\n{text}")
    tail = text[-tail_bytes:] if len(text) > tail_bytes else text
    if timed_out:
        tail += f"\n[verify timed out after {timeout:.0f}s]"
    code = None if timed_out else proc.returncode
    return VerifyOutcome(passed=code == 0, code=code, tail=tail,
                         seconds=time.monotonic() - start, timed_out=timed_out)


def unrunnable_message(out: VerifyOutcome) -> str:
    """The shell's message when the command could not run (exit 126 or 127): the last line it
    printed (``sh: 1: pytset: not found``), cleaned and bounded; "" for any other outcome."""
    if out.timed_out or out.code not in UNRUNNABLE_CODES:
        return ""
    lines = [ln.strip() for ln in out.tail.splitlines() if ln.strip()]
    # "/bin/sh: 1: pytset: not found" (dash), "/bin/sh: line 1: pytset: command not found"
    # (bash): the shell and line number say nothing here; the rest is the shell's message.
    last = _SHELL_PREFIX.sub("", clean_text(lines[-1])) if lines else ""
    if len(last) > MESSAGE_MAX:
        last = last[:MESSAGE_MAX] + "..."
    return last or ("command not found" if out.code == 127 else "command not executable")


# -- the readiness check ----------------------------------------------------------------------

OUTPUT_CAP = 64 * 1024  # bytes of a check's output kept (its newest)
REAP_S = 5.0  # after a kill, how long to wait for the group's leader to be reaped


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    code: int | None  # None: timed out or not started
    seconds: float
    output: str  # the newest OUTPUT_CAP bytes, decoded
    timed_out: bool = False
    error: str = ""


def run_check(command: str, cwd: Path, *, timeout: float,
              cap: int = OUTPUT_CAP) -> CheckOutcome:
    """Run ``command`` with ``sh -c`` in ``cwd`` in its own process group; keep the newest
    ``cap`` bytes of its output; kill the group at ``timeout``. Blocks: call it in a worker."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as e:
        return CheckOutcome(ok=False, code=None, seconds=0.0, output="",
                            error=f"could not start: {e}"[:200])
    assert proc.stdout is not None
    deadline = start + timeout
    buf = bytearray()
    timed_out = False
    fd = proc.stdout.fileno()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # every writer closed the pipe
            buf += chunk
            if len(buf) > cap:
                del buf[: len(buf) - cap]
        if not timed_out:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
        if timed_out:
            # The leader is not reaped yet, so its group id cannot have been reused.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=REAP_S)
    finally:
        proc.stdout.close()
    code = None if timed_out else proc.returncode
    return CheckOutcome(ok=code == 0, code=code, seconds=time.monotonic() - start,
                        output=buf.decode("utf-8", "replace"), timed_out=timed_out)
