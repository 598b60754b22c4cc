"""Reading files that agents control, safely.

An agent can replace any file (or directory) in its folder with a symlink, a FIFO, a device or
something huge. Every read here therefore walks from a trusted directory one component at a
time with ``O_NOFOLLOW`` (a symlink anywhere on the path is refused, not followed), opens
non-blocking (a FIFO never blocks the reader), accepts regular files only (checked on the open
descriptor, so nothing can be swapped in between), and reads a bounded number of bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from swarmtui.refusal import Refusal

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class Refused(Exception):
    """The file exists but is not something swarmtui reads (the message says why; ``refusal``
    says it typed, with the ``limit`` it went over when that was the reason)."""

    def __init__(self, message: str, refusal: Refusal = Refusal.NOT_REGULAR,
                 limit: int | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.limit = limit


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int
    ino: int
    dev: int

    @property
    def identity(self) -> tuple[int, int]:
        return (self.dev, self.ino)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def open_under(root: Path, rel: str | Path) -> int:
    """Open ``root/rel`` for reading without following any symlink below ``root``.

    Returns a file descriptor of a regular file. Raises FileNotFoundError when something on
    the path does not exist and Refused when something is not what it should be.
    """
    # Split by hand: pathlib's parsing was a third of the loop's cost per progress line (three
    # opens each); "a//b" and "a/./b" name a/b as they do for pathlib.
    text = os.fspath(rel)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or text.startswith("/") or ".." in parts:
        raise Refused(f"{rel}: not a plain relative path")
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Refused(f"{part} is not a directory (a symbolic link?)",
                                  Refusal.LINK) from None
                raise
            os.close(fd)
            fd = nfd
        try:
            ffd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise Refused("it is a symbolic link", Refusal.LINK) from None
            if e.errno in (errno.ENXIO, errno.EISDIR):
                raise Refused("it is not a regular file") from None
            raise
    finally:
        os.close(fd)
    st = os.fstat(ffd)
    if not stat.S_ISREG(st.st_mode):
        os.close(ffd)
        raise Refused(f"it is {_kind(st.st_mode)}")
    if st.st_uid != os.geteuid():
        # Everything below .swarm is written by swarmtui's user (its agents run as it): a file
        # of another user's was put there by someone else, and is not believed.
        os.close(ffd)
        raise Refused(f"it is owned by uid {st.st_uid}, not by swarmtui's user "
                      f"(uid {os.geteuid()})", Refusal.NOT_OWNED)
    return ffd


def stat_under(root: Path, rel: str | Path) -> FileStat | None:
    """Size and identity of a regular file below ``root`` (None when missing)."""
    try:
        fd = open_under(root, rel)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return FileStat(size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino, dev=st.st_dev)


@dataclass(frozen=True)
class Chunk:
    data: bytes
    stat: FileStat


def read_under(root: Path, rel: str | Path, *, offset: int = 0, limit: int) -> Chunk | None:
    """Up to ``limit`` bytes of a regular file below ``root`` from ``offset`` (None when
    missing)."""
    try:
        fd = open_under(root, rel)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        fs = FileStat(size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino, dev=st.st_dev)
        if offset >= st.st_size:
            return Chunk(b"", fs)
        data = os.pread(fd, min(limit, st.st_size - offset), offset)
    finally:
        os.close(fd)
    return Chunk(data, fs)


def read_small(root: Path, rel: str | Path, *, cap: int) -> Chunk | None:
    """The whole file when it is at most ``cap`` bytes; Refused when it is larger."""
    st = stat_under(root, rel)
    if st is None:
        return None
    if st.size > cap:
        raise Refused(f"it is {st.size} bytes, over the {cap}-byte cap", Refusal.TOO_LARGE, cap)
    return read_under(root, rel, limit=cap + 1)


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def free_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


KEY_FILE_CAP = 64 * 1024


def read_key_file(path: str) -> str:
    """A credential from the file a config names (``~`` is the home folder): its text without
    surrounding whitespace, at most ``KEY_FILE_CAP`` bytes. Read when it is needed, never kept."""
    with open(Path(path).expanduser(), "rb") as f:
        data = f.read(KEY_FILE_CAP + 1)
    if len(data) > KEY_FILE_CAP:
        raise OSError(errno.EFBIG, f"larger than {KEY_FILE_CAP} bytes: not a key")
    return data.decode("utf-8", "replace").strip()
