"""The supervisor's end of a nudge (``swarmtui/nudge.py``): a thread that wakes the loop when
any process says "look at your inbox now"."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

from swarmtui import faults
from swarmtui.nudge import address, nudge

__all__ = ["WakeListener", "address", "nudge"]


class WakeListener:
    def __init__(self, repo: Path, on_wake: Callable[[], None]) -> None:
        self.on_wake = on_wake
        self.sock: socket.socket | None = None
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(address(repo))
            s.settimeout(0.5)
            self.sock = s
        except OSError:
            self.sock = None  # another process holds it, or no abstract sockets: ticks do
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swarm-wake", daemon=True)

    def start(self) -> None:
        if self.sock is not None:
            self._thread.start()

    def _run(self) -> None:
        assert self.sock is not None
        while not self._stop.is_set():
            try:
                self.sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            faults.point("wake")  # a helper thread that breaks (tests)
            self.on_wake()

    def stop(self) -> None:
        self._stop.set()
        if self.sock is not None:
            self._thread.join(timeout=2)
            self.sock.close()
