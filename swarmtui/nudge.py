"""A nudge from any process to a repository's supervisor: "look at your inbox now".

Commands travel through the store; this only wakes the loop so a command takes effect at once
instead of at the next tick (and a `status` reader's wish for a fresh status file is seen at
once). It is a Linux abstract-namespace datagram socket named after the repository (no file to
clean up, no path-length limit). A lost nudge costs nothing but a tick. The listening end is
``engine/runtime/wake.py``; this half lives outside the engine so that the fast path of
`swarmtui status` can send one without importing it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256
    from pathlib import Path
    from socket import AF_UNIX, SOCK_DGRAM, socket
else:
    # The C halves of hashlib and socket: a `status` reader that nudges loads them in about
    # 4 ms of CPU, where the modules (OpenSSL's loader, enum's flags) cost 20.
    try:
        from _sha256 import sha256
    except ImportError:  # another Python's build
        from hashlib import sha256
    try:
        from _socket import AF_UNIX, SOCK_DGRAM, socket
    except ImportError:
        from socket import AF_UNIX, SOCK_DGRAM, socket


def address(repo: Path | str) -> bytes:
    digest = sha256(os.path.realpath(repo).encode()).hexdigest()[:32]
    return b"\0swarmtui-wake-" + digest.encode()


def nudge(repo: Path | str) -> bool:
    try:
        s = socket(AF_UNIX, SOCK_DGRAM)
        try:
            s.setblocking(False)
            s.sendto(b"w", address(repo))
        finally:
            s.close()
    except OSError:
        return False
    return True
