"""A nudge from any process to a repository's supervisor: "look at your inbox now".

Commands travel through the store; this only wakes the loop so a command takes effect at once
instead of at the next tick (and a `status` reader's wish for a fresh status file is seen at
once). It is a Linux abstract-namespace datagram socket named after the repository (no file to
clean up, no path-length limit). A lost nudge costs nothing but a tick. The listening end is
``engine/runtime/wake.py``; this half lives outside the engine so that the fast path of
`swarmtui status` can send one without importing it.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path


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
