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

TYPE_CHECKING = False  # `status` asks ``holder_alive`` before anything imports pathlib
if TYPE_CHECKING:
    from pathlib import Path

START_LOCK = "start.lock"


def holder_alive(path: str | os.PathLike[str]) -> bool:
    """Whether some process holds the lock at ``path`` (for readers that have no ``RunLock``
    object, as `status` before pathlib is imported)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops any lock we took
    return False


def holder_pid(path: str | os.PathLike[str]) -> int | None:
    """The pid its holder wrote into the lock file; None when unreadable or empty."""
    try:
        with open(path, "rb") as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


class RunLock:
    def __init__(self, path: Path) -> None:
        from pathlib import Path

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
        return self._fd is not None or holder_alive(self.path)

    def holder_pid(self) -> int | None:
        return holder_pid(self.path)
