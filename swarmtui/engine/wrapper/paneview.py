"""What an agent's window shows of its raw output: everything while someone watches, nothing
while nobody does, and never more than a screenful at a time.

A busy fleet prints thousands of lines a second; drawing each into a pane nobody looks at cost
swarmtui's tmux server about a third of the supervision's CPU, and the wrapper a write per line
(docs/performance.md, "The busy fleet: output's path"). The wrapper asks tmux for focus reports
on its pane (``ESC [ ? 1004 h``; the server has ``focus-events on``): tmux answers ``ESC [ I``
when the window becomes the current one of an attached session, ``ESC [ O`` when it stops being
it, on the pane's own input, so knowing costs nothing while nothing changes. While unwatched
the view only keeps a bounded tail of what was printed; when someone looks it paints that tail
(the last screenful, after a line saying how many were not shown). While watched it paints
what arrived at most ``1 / PAINT_GAP_S`` times a second, and a flood bigger than the screen
becomes the same note and the last screenful. ``output.log`` keeps every byte either way.

Until tmux has reported (an older server without ``focus-events``) the window counts as
watched: the pane then shows everything, as it always did. Without a terminal (tests, a pipe)
output is written through unchanged.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

ENABLE_FOCUS = b"\x1b[?1004h"
DISABLE_FOCUS = b"\x1b[?1004l"
FOCUS_IN, FOCUS_OUT = b"\x1b[I", b"\x1b[O"
PAINT_GAP_S = 0.1  # a watched pane is painted at most this often
TAIL_BYTES = 64 * 1024  # of the newest output kept for a repaint
SCREEN_BYTES_PER_ROW = 1024  # a repaint shows at most this many bytes per row of the pane


def screen_rows(fd: int) -> int:
    try:
        rows = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))[0]
    except OSError:
        return 24
    return rows if rows > 2 else 24


def last_lines(tail: bytes, n: int, cap: int) -> bytes:
    """The end of ``tail`` holding its last ``n`` lines (a line still open counts as one), at
    most ``cap`` bytes, starting at a line's start where the cap allows."""
    end = len(tail) - 1 if tail.endswith(b"\n") else len(tail)
    start = end
    for _ in range(n):
        start = tail.rfind(b"\n", 0, start)
        if start < 0:
            break
    start += 1
    if len(tail) - start > cap:
        cut = len(tail) - cap
        nl = tail.find(b"\n", cut)
        start = nl + 1 if 0 <= nl < len(tail) - 1 else cut
    return tail[start:]


def note(skipped: int) -> bytes:
    what = "line" if skipped == 1 else "lines"
    return (f"\x1b[0m[swarmtui: {skipped:,} {what} not shown here; output.log has every "
            f"line]\n").encode()


class PaneView:
    """The pane's side of the agent's output (redacted before it gets here)."""

    def __init__(self, out_fd: int = 1, in_fd: int = 0) -> None:
        self._out, self._in = out_fd, in_fd
        self.tty = os.isatty(out_fd) and os.isatty(in_fd)
        self._cond = threading.Condition()
        self._tail = bytearray()
        self._total = self._lines = 0  # bytes and newlines received
        self._shown = self._shown_lines = 0  # ... and how far the pane has been painted
        self._watched: bool | None = None  # None: tmux has not said (counts as watched)
        self._closing = False
        self._at_line_start = True
        self._saved: list[Any] | None = None
        self._painter: threading.Thread | None = None

    @property
    def watched(self) -> bool:
        return self._watched is not False

    def start(self) -> None:
        if not self.tty:
            return
        try:
            self._saved = termios.tcgetattr(self._in)
            attrs = list(self._saved)
            # Focus reports must arrive unechoed and unbuffered (not held for an end of line).
            attrs[3] &= ~(termios.ICANON | termios.ECHO)
            cc = list(attrs[6])
            cc[termios.VMIN], cc[termios.VTIME] = 1, 0
            attrs[6] = cc
            termios.tcsetattr(self._in, termios.TCSANOW, attrs)
        except termios.error:
            self._saved = None
        self._write(ENABLE_FOCUS)
        threading.Thread(target=self._read_focus, name="pane-focus", daemon=True).start()
        self._painter = threading.Thread(target=self._paint_loop, name="pane-paint", daemon=True)
        self._painter.start()

    def write(self, data: bytes) -> None:
        """Output for the pane: painted now, soon, or when someone looks."""
        if not data:
            return
        if not self.tty:
            self._write(data)
            return
        with self._cond:
            self._tail += data
            if len(self._tail) > 2 * TAIL_BYTES:
                del self._tail[:-TAIL_BYTES]
            self._total += len(data)
            self._lines += data.count(b"\n")
            if self._watched is not False:
                self._cond.notify()

    def close(self, timeout: float = 1.0) -> None:
        """Paint what is left (when watched) and give the terminal back as it was."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._painter is not None:
            self._painter.join(timeout)
        if self.tty:
            self._write(DISABLE_FOCUS)
            if self._saved is not None:
                try:
                    termios.tcsetattr(self._in, termios.TCSADRAIN, self._saved)
                except termios.error:
                    pass

    # -- the two threads ---------------------------------------------------------------------

    def _read_focus(self) -> None:
        """tmux's focus reports (and whatever else reaches the pane's input: keys typed there,
        answers to queries the agent printed; all of it ignored)."""
        carry = b""
        while True:
            try:
                data = os.read(self._in, 1024)
            except InterruptedError:
                continue
            except OSError:
                return
            if not data:
                return
            data = carry + data
            carry = data[-2:]
            i, o = data.rfind(FOCUS_IN), data.rfind(FOCUS_OUT)
            if i < 0 and o < 0:
                continue
            carry = b""
            with self._cond:
                self._watched = i > o
                self._cond.notify_all()  # the painter

    def _paint_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not (self.watched and self._total > self._shown):
                    self._cond.wait()
                out = self._take() if self.watched else b""
                closing = self._closing
            self._write(out)
            if b"1004" in out:  # the agent's output may have switched focus reports off
                self._write(ENABLE_FOCUS)
            if closing:
                return
            with self._cond:  # a gap between paints (cut short by the end only)
                self._cond.wait_for(lambda: self._closing, PAINT_GAP_S)

    def _take(self) -> bytes:
        """What the pane needs to catch up: the new output, or the note and the last screen."""
        new, new_lines = self._total - self._shown, self._lines - self._shown_lines
        rows = screen_rows(self._out)
        self._shown, self._shown_lines = self._total, self._lines
        if new <= len(self._tail) and new_lines < rows - 1 and new <= rows * SCREEN_BYTES_PER_ROW:
            out = bytes(self._tail[-new:]) if new else b""
        else:
            shown = last_lines(bytes(self._tail), rows - 2, rows * SCREEN_BYTES_PER_ROW)
            skipped = max(new_lines - shown.count(b"\n"), 1)
            out = (b"" if self._at_line_start else b"\n") + note(skipped) + shown
        if out:
            self._at_line_start = out.endswith(b"\n")
        return out

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._out, view):]
        except OSError:
            pass  # the pane may be gone; the log still gets everything
