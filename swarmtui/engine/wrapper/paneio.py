"""The parts of the pane's console that need no terminal: key parsing, the input line's
editing and drawing, terminal attributes for raw mode, and the bounded writer. Kept apart so
they can be tested without a tmux server, and so console.py stays about the screen."""

from __future__ import annotations

import os
import select
import termios
import threading
import unicodedata
from collections import deque
from typing import Any

from swarmtui.engine.wrapper.transcript import ESC_SEQ

INPUT_MAX = 8000  # characters of the input line; typing past it is ignored
_CSI_KEYS = {"D": "left", "C": "right", "H": "home", "F": "end", "3~": "delete", "1~": "home",
             "4~": "end", "7~": "home", "8~": "end"}


def char_width(ch: str) -> int:
    """Columns a character takes in a terminal (no wcwidth here: the wrapper starts lean)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def fit(text: str, cols: int) -> str:
    """The longest start of ``text`` that takes at most ``cols`` columns."""
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > cols:
            return text[:i]
    return text


def raw_mode(attrs: list[Any]) -> list[Any]:
    """Terminal attributes for reading keys one by one: no echo, no line editing, and no
    signals from ^C or ^Z (the wrapper's signals are its own); output processing is kept."""
    new = list(attrs)
    new[0] &= ~(termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON)
    new[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
    cc = list(attrs[6])
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    new[6] = cc
    return new


def parse_keys(text: str) -> list[str]:
    """Keys in decoded input: single characters, or names for the few sequences the line
    editor knows ("left", "right", "home", "end", "delete"); other sequences are dropped."""
    keys: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\x1b":
            keys.append(ch)
            i += 1
            continue
        m = ESC_SEQ.match(text, i)
        if m is None:  # a lone ESC
            i += 1
            continue
        seq = m.group(0)
        key = _CSI_KEYS.get(seq[2:]) if seq.startswith("\x1b[") else None
        if seq == "\x1bO" and i + 2 < len(text):  # SS3: ESC O and one more
            key = _CSI_KEYS.get(text[i + 2])
            i += 1
        if key:
            keys.append(key)
        i += len(seq)
    return keys


class LineEditor:
    """The input line: what is typed, where the cursor is, and which part is in view."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.cur = 0
        self._scroll = 0

    @property
    def text(self) -> str:
        return "".join(self.buf)

    def edit(self, key: str) -> str | None:
        """One key applied; the line's text when enter submits a line that is not blank."""
        buf, cur = self.buf, self.cur
        if key in ("\r", "\n"):
            text = self.text
            buf.clear()
            self.cur = 0
            return text if text.strip() else None
        if key in ("\x7f", "\x08") and cur:
            del buf[cur - 1]
            cur -= 1
        elif key in ("\x15", "\x03"):  # ^U, and ^C, which must not end the wrapper
            buf.clear()
            cur = 0
        elif key == "\x17":  # ^W: the word before the cursor
            start = cur
            while start and buf[start - 1] == " ":
                start -= 1
            while start and buf[start - 1] != " ":
                start -= 1
            del buf[start:cur]
            cur = start
        elif key in ("left", "right", "home", "end", "\x01", "\x05"):
            cur = {"left": max(cur - 1, 0), "right": min(cur + 1, len(buf)), "home": 0,
                   "\x01": 0}.get(key, len(buf))
        elif key == "delete" and cur < len(buf):
            del buf[cur]
        elif len(key) == 1 and key.isprintable() and len(buf) < INPUT_MAX:
            buf.insert(cur, key)
            cur += 1
        self.cur = cur
        return None

    def view(self, room: int) -> tuple[str, int]:
        """The part of the line that fits ``room`` columns with the cursor in it, and the
        cursor's column in that part (always below ``room``)."""
        buf, cur = self.buf, self.cur
        self._scroll = min(self._scroll, cur)
        width = sum(char_width(c) for c in buf[self._scroll:cur])
        while width > room - 1 and self._scroll < cur:
            width -= char_width(buf[self._scroll])
            self._scroll += 1
        return fit("".join(buf[self._scroll:self._scroll + room * 2]), room), width


class BoundedWriter:
    """Bytes to a file descriptor from a thread of its own through a buffer of at most ``cap``
    bytes: whatever would overflow it is counted (``take_dropped``) instead of waited for, so
    a pane nobody reads can never stall the wrapper."""

    def __init__(self, fd: int, cap: int) -> None:
        self._fd, self._cap = fd, cap
        self._queue: deque[bytes] = deque()
        self._size = 0
        self._cond = threading.Condition()
        self._closing = self._dead = False
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name="console-writer", daemon=True)
        self._thread.start()

    def put(self, data: bytes, *, force: bool = False) -> None:
        """Queue ``data`` (past the cap only with ``force``: the terminal's restoration)."""
        with self._cond:
            if self._dead or self._closing:
                return
            if self._size + len(data) > self._cap and not force:
                self._dropped += len(data)
                return
            self._queue.append(data)
            self._size += len(data)
            self._cond.notify_all()

    def take_dropped(self) -> int:
        """Bytes dropped since the last call."""
        with self._cond:
            n, self._dropped = self._dropped, 0
            return n

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                data = self._queue.popleft()
            view = memoryview(data)
            try:
                while view:
                    try:
                        view = view[os.write(self._fd, view):]
                    except BlockingIOError:  # someone made the fd non-blocking
                        select.select([], [self._fd], [], 0.5)
            except OSError:  # the pane is gone: nothing more can be shown
                with self._cond:
                    self._dead = True
                    self._queue.clear()
                return
            with self._cond:
                self._size -= len(data)

    def close(self, timeout: float) -> None:
        """Write what is queued, waiting at most ``timeout`` seconds for it."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
