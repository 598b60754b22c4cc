"""A full disk is an event, not a crash: dispatch pauses and the supervisor keeps going.

The store cannot record "the disk is full" on a full disk, so a small reserve file is kept in
``.swarm``: when an append fails for lack of space the reserve is deleted, which frees room for
the ``disk_full`` event; new agents wait until the disk has room again (``disk_ok``), and the
reserve is put back.
"""

from __future__ import annotations

import os

from swarmtui.engine.intents import CheckDiskRecovered, DiskIsFull
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime.files import free_bytes
from swarmtui.model import payloads as p
from swarmtui.store import StoreFull

RESERVE_FILE = "disk.reserve"
RESERVE_BYTES = 2 * 1024 * 1024


class DiskGuard:
    def __init__(self, ports: Ports, reserve_bytes: int = RESERVE_BYTES) -> None:
        self.ports = ports
        self.reserve_bytes = reserve_bytes
        self.path = ports.swarm / RESERVE_FILE
        self.unrecorded = False  # full, but not even the reserve made room to say so
        self.ensure_reserve()

    def ensure_reserve(self) -> None:
        try:
            if self.path.exists() and self.path.stat().st_size >= self.reserve_bytes:
                return
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
            finally:
                os.close(fd)
        except OSError:
            pass  # no room for the reserve yet; try again when the disk recovers

    def full(self, error: StoreFull) -> None:
        if self.ports.state.disk_full:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        try:
            self.ports.emit(p.DiskFull(error=str(error), where=str(self.ports.swarm)))
            self.unrecorded = False
        except StoreFull:
            self.unrecorded = True

    @property
    def is_full(self) -> bool:
        return self.ports.state.disk_full or self.unrecorded

    def full_now(self, it: DiskIsFull) -> bool:
        return self.is_full

    def check_recovered(self, it: CheckDiskRecovered | None = None) -> None:
        if not self.is_full:
            return
        free = free_bytes(self.ports.swarm)
        if free is None or free < 4 * self.reserve_bytes:
            return
        self.ensure_reserve()
        try:
            if self.unrecorded and not self.ports.state.disk_full:
                self.unrecorded = False
                return
            self.ports.emit(p.DiskOk())
            self.unrecorded = False
        except StoreFull:
            pass
