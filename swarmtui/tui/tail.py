"""A bounded follower of one growing file (blocking; used from a worker thread).

It reads only what was appended since the last call, starts from the last ``initial_bytes`` of a
large file, never reads more than ``max_read`` at once (a burst skips ahead to the newest
output), and starts over when the file is truncated or replaced: the wrapper caps
``output.log`` by rewriting it and renaming it over the old one.
"""

from __future__ import annotations

import os
from pathlib import Path


class Tail:
    def __init__(self, path: Path, *, initial_bytes: int = 256 * 1024,
                 max_read: int = 1024 * 1024) -> None:
        self.path = Path(path)
        self.initial_bytes = initial_bytes
        self.max_read = max_read
        self._ino: int | None = None
        self._offset = 0
        self._partial = b""
        self._skipping = False  # started mid-line: drop bytes up to the next newline

    def read(self) -> tuple[list[str], bool]:
        """New complete lines, and whether the reader started over (the view should clear)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return [], False
        reset = False
        if self._ino != st.st_ino or st.st_size < self._offset:
            reset = self._ino is not None
            self._ino = st.st_ino
            self._offset = max(0, st.st_size - self.initial_bytes)
            self._partial = b""
            self._skipping = self._offset > 0
        if st.st_size - self._offset > self.max_read:
            self._offset = st.st_size - self.max_read
            self._partial = b""
            self._skipping = True
            reset = True
        if st.st_size == self._offset:
            return [], reset
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read(st.st_size - self._offset)
        except FileNotFoundError:
            return [], reset
        self._offset += len(chunk)
        data = self._partial + chunk
        if self._skipping:
            cut = data.find(b"\n")
            if cut < 0:
                self._partial = b""
                return [], reset
            data = data[cut + 1:]
            self._skipping = False
        parts = data.split(b"\n")
        self._partial = parts.pop()
        return [p.decode("utf-8", errors="replace") for p in parts], reset
