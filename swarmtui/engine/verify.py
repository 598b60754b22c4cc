"""Running a task's ``verify`` command: the acceptance check, in the attempt's worktree."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from swarmtui.engine.runtime import reaper


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
