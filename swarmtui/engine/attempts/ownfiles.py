"""Small file helpers of an attempt's launch: what the supervisor writes for the agent (0600,
never through a link) and reads back from it (bounded, unfollowed)."""

from __future__ import annotations

import os
from pathlib import Path

from swarmtui.engine.runtime.files import Refused, read_under


def read_text(path: Path) -> str:
    """A file the operator keeps (a role's text, the rules); never through a link."""
    try:
        if path.is_symlink():
            return ""
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ""


def write_private(path: Path, text: str, *, exist_ok: bool = False) -> None:
    """An attempt's own file, 0600, never through a link an agent left in its place."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    if not exist_ok:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def tail_lines(root: Path, rel: str, n: int) -> list[str]:
    """The last ``n`` non-empty lines of an agent's file under ``root`` (bounded reads)."""
    try:
        chunk = read_under(root, rel, offset=0, limit=0)
        if chunk is None:
            return []
        size = chunk.stat.size
        chunk = read_under(root, rel, offset=max(0, size - 16384), limit=16384)
    except (Refused, OSError):
        return []
    if chunk is None:
        return []
    lines = chunk.data.decode("utf-8", "replace").splitlines()
    return [ln[:500] for ln in lines if ln.strip()][-n:]
