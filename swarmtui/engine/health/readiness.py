"""A task's readiness check: its ``check`` command, run now and then while the agent works.

Liveness says the agent is there; readiness says its work holds up. A task may declare a cheap
``check`` (a build, a type check, a quick test) that runs in the attempt's worktree every
``heartbeat.check_every`` progress intervals, in a verify worker, never on the loop: its own
process group, killed at ``heartbeat.check_timeout``, at most ``OUTPUT_CAP`` bytes of its output
kept. Each run is a ``check_ran`` event; while the last one failed the attempt's health is
``check_failing`` ("check failing: <its last line>"). Checks stop once the agent wrote its
results: from there ``verify`` decides.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.intents import CheckReadiness
from swarmtui.engine.messages import CheckDone
from swarmtui.engine.ports import Ports, redactor_for
from swarmtui.model import TaskState
from swarmtui.model import payloads as p
from swarmtui.model.payloads.readings import CHECK_LINE_CAP, CHECK_TAIL_CAP
from swarmtui.textsafe import clean_text

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


def last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return " ".join(line.split())[:CHECK_LINE_CAP]
    return ""


@dataclass
class _Due:
    next_at: float
    running: bool = False


class Readiness:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        hb = ports.config.heartbeat
        self.every = hb.check_every * hb.progress_interval
        self.timeout = hb.check_timeout
        self._due: dict[str, _Due] = {}  # by agent id
        self.redact = redactor_for(ports)

    def step(self, it: CheckReadiness) -> None:
        """Asked by the watchdog for each running attempt whose agent has started."""
        t, began, now = it.task, it.began, it.now
        command = t.spec.check
        if not command or t.result_at is not None:
            return
        aid = P.agent_id(t.id, t.attempt)
        due = self._due.get(aid)
        if due is None:
            # Staggered like the productivity sample: a fleet spawned at once is not checked
            # in one burst; the first run comes within the first period.
            frac = (zlib.crc32(aid.encode()) % 1000) / 1000
            due = self._due[aid] = _Due(next_at=began + self.every * (0.5 + frac / 2))
        if due.running or now < due.next_at:
            return
        due.running = True
        due.next_at = now + self.every
        rec = self.ports.state.attempts.get(aid)
        worktree = Path(rec.worktree) if rec is not None else self.ports.runner.worktree(
            t.id, t.attempt)
        task, attempt, timeout = t.id, t.attempt, self.timeout

        def work() -> CheckDone:
            return CheckDone(task, attempt, run_check(command, worktree, timeout=timeout))

        self.ports.submit(self.ports.workers.verify, work, lambda e: CheckDone(
            task, attempt, CheckOutcome(ok=False, code=None, seconds=0.0, output="",
                                        error=f"could not run: {type(e).__name__}: {e}"[:200])))

    def done(self, msg: CheckDone) -> None:
        ports = self.ports
        aid = P.agent_id(msg.task, msg.attempt)
        due = self._due.get(aid)
        if due is not None:
            due.running = False
        t = ports.state.tasks.get(msg.task)
        if t is None or t.attempt != msg.attempt or t.state != TaskState.RUNNING:
            self._due.pop(aid, None)
            return
        out = msg.outcome
        if not isinstance(out, CheckOutcome):
            return
        # The output comes from the worktree, which the agent writes: redact and clean it.
        text = self.redact(clean_text(out.output))
        ports.emit(p.CheckRan(ok=out.ok, code=out.code, seconds=round(out.seconds, 2),
                            timed_out=out.timed_out, line=last_line(text),
                            tail=text[-CHECK_TAIL_CAP:], error=out.error[:200]),
                 msg.task, msg.attempt)
