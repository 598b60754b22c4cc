"""The worktree's setup command (``[worktree] setup``), run by the wrapper before the agent: in
its own process group (ended like an agent would be), its output in the pane and the log, its
start and end as signals. A part of ``Wrapper`` kept apart because it is a step of its own."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from swarmtui.engine.wrapper.launch import CappedLog, LaunchSpec, write_text_atomic
from swarmtui.protocol import AGENT_PGID_FILE

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the agent, before exec: SIGKILL it when the wrapper dies (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class RunsSetup:
    """What ``Wrapper`` gives the setup step, and the step itself."""

    agent_dir: Path
    spec: LaunchSpec
    proc: subprocess.Popen[bytes] | None
    _tail: bytearray | None
    _ending: threading.Event
    _signals: Callable[[list[dict[str, Any]]], None]

    def _popen(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _show(self, data: bytes, log: CappedLog) -> None:
        raise NotImplementedError

    def _pump(self, log: CappedLog, observe: bool = True) -> None:
        raise NotImplementedError

    def _signal_group(self, sig: int) -> None:
        raise NotImplementedError

    def _terminate_group(self) -> None:
        raise NotImplementedError

    def _setup(self, log: CappedLog) -> tuple[int | None, str] | None:
        """Run ``[worktree] setup`` in the worktree, in its own process group (ended like an
        agent would be), its output in the pane and the log. None when it passed; else the exit
        code and a sentence with the output's last line."""
        spec = self.spec
        self._signals([{"kind": "setup", "phase": "start", "command": spec.setup}])
        self._show(f"[swarmtui wrap] worktree setup: {spec.setup}\n".encode(), log)
        self._tail = bytearray()
        t0 = time.monotonic()
        try:
            self.proc = self._popen(
                ["/bin/sh", "-c", spec.setup], cwd=spec.cwd, env=dict(spec.env),
                start_new_session=True, preexec_fn=die_with_parent,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as e:
            return self._setup_ended(None, f"cannot run it: {e}", t0)
        write_text_atomic(self.agent_dir / AGENT_PGID_FILE, f"{self.proc.pid}\n")
        if self._ending.is_set():
            self._terminate_group()
        pump = threading.Thread(target=self._pump, args=(log, False), daemon=True)
        pump.start()
        timed_out = False
        try:
            rc = self.proc.wait(timeout=spec.setup_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self._signal_group(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=spec.kill_grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                rc = self.proc.wait()
        pump.join(timeout=2.0)
        if pump.is_alive():  # a daemon it left holds the pipe: it goes with the group
            self._signal_group(signal.SIGKILL)
            pump.join(timeout=2.0)
        if timed_out:
            return self._setup_ended(rc, f"timed out after {spec.setup_timeout:g} s", t0)
        if rc != 0:
            how = f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}"
            return self._setup_ended(rc, how, t0)
        self._setup_ended(0, "", t0)
        return None

    def _setup_ended(self, rc: int | None, why: str, t0: float) -> tuple[int | None, str] | None:
        tail = bytes(self._tail or b"").decode("utf-8", "replace")
        self._tail = None
        seconds = round(time.monotonic() - t0, 3)
        self._signals([{"kind": "setup", "phase": "failed" if why else "done",
                        "command": self.spec.setup, "code": rc, "seconds": seconds,
                        "tail": tail[-2000:]}])
        if not why:
            return None
        last = next((ln.strip() for ln in reversed(tail.splitlines()) if ln.strip()), "")
        return rc, f"`{self.spec.setup}` {why}" + (f": {last[:200]}" if last else "")

