"""The supervisor lock: one live supervisor per repository.

An advisory ``flock`` on ``.swarm/supervisor.lock``. The kernel drops it when the holder dies,
however it dies (SIGKILL included), so "is a supervisor live?" never depends on a stale pid file.

Starting a supervisor takes a second lock, ``.swarm/start.lock``, held by the `up` or `attach`
that starts one from its check that none runs until its own supervisor holds the run lock: two
starts at once cannot both pass the check, nor close each other's starting window.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

START_LOCK = "start.lock"


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.set_inheritable(fd, False)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder_alive(self) -> bool:
        """True when some process (maybe this one) holds the lock."""
        if self._fd is not None:
            return True
        if not self.path.exists():
            return False
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops any lock we took
        return False

    def holder_pid(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None
