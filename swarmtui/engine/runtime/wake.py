"""A nudge from any process to a repository's supervisor: "look at your inbox now".

Commands travel through the store; this only wakes the loop so a command takes effect at once
instead of at the next tick. It is a Linux abstract-namespace datagram socket named after the
repository (no file to clean up, no path-length limit). A lost nudge costs nothing but a tick.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from swarmtui import faults


def address(repo: Path) -> bytes:
    digest = hashlib.sha256(str(Path(repo).resolve()).encode()).hexdigest()[:32]
    return b"\0swarmtui-wake-" + digest.encode()


def nudge(repo: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.setblocking(False)
            s.sendto(b"w", address(repo))
    except OSError:
        return False
    return True


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
