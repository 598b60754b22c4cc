"""The terminal of an agent's pane: the transcript scrolling above, a hint line and an input
line at the bottom, so an operator can talk to a live session and answer its permission
requests where they read it.

The pane is a plain terminal (not Textual): the layout is a DECSTBM scroll region over all but
the last two rows. Output keeps its own cursor (DECSC/DECRC) inside the region, so a partial
line of raw output survives a redraw of the input line. A resize repaints from the lines this
console keeps, since after a terminal reflows nobody knows where the old bottom rows went.

Two rules come first. The operator's terminal is never left broken: raw mode and the scroll
region are undone by ``close``, which also runs at interpreter exit, whatever ended the program.
And output never blocks the wrapper: bytes go to a writer thread through a bounded buffer, and
what does not fit is dropped (and said so) rather than waited for.
"""

from __future__ import annotations

import atexit
import codecs
import os
import re
import select
import signal
import sys
import termios
import threading
from collections import deque
from collections.abc import Callable
from types import FrameType
from typing import Any

from swarmtui.engine.wrapper.paneio import (
    BoundedWriter,
    LineEditor,
    fit,
    parse_keys,
    raw_mode,
)
from swarmtui.engine.wrapper.transcript import Shown, ShownKind, one_line, terminal_safe

OUT_BUFFER = 256 * 1024  # bytes waiting for the pane before output is dropped
KEEP_LINES = 300  # lines kept for a repaint after a resize
POLL_S = 0.5  # the size is checked this often too (SIGWINCH is caught only in the main thread)
CLOSE_WAIT_S = 1.0  # close waits this long for the pane to take the last bytes
PROMPT = "› "

_STYLE = {ShownKind.INFO: "2", ShownKind.ASSISTANT: "0", ShownKind.TOOL_CALL: "36",
          ShownKind.TOOL_RESULT: "2", ShownKind.PERMISSION: "1;33", ShownKind.OPERATOR: "1;32",
          ShownKind.ERROR: "1;31", ShownKind.RESULT: "1;35"}
HIDE, SHOW, SAVE, RESTORE, EL, RESET = "\x1b[?25l", "\x1b[?25h", "\x1b7", "\x1b8", "\x1b[K", \
    "\x1b[0m"


# The start of an escape sequence at the very end of a piece of output (its rest is to come).
_BODY = "[^\x07\x1b\x90\x98\x9c-\x9f]*"  # of a string control, up to what ends or starts one
_UNFINISHED = re.compile(f"(?:\x1b(?:\\[[0-?]*[ -/]*|[\\]PX^_]{_BODY}|[ -/]*)"
                         f"|\x9b[0-?]*[ -/]*|[\x90\x98\x9d\x9e\x9f]{_BODY})\\Z")


def _cup(row: int, col: int = 1) -> str:
    return f"\x1b[{row};{col}H"


class Console:
    """The pane's terminal. ``show``, ``raw`` and ``set_hint`` may be called from any thread;
    ``on_submit`` (a non-empty input line) and ``on_key`` (a key pressed on an empty line,
    True when taken) are called from the console's reader thread, never under its lock."""

    def __init__(self, out_fd: int, in_fd: int | None, *, on_submit: Callable[[str], None],
                 on_key: Callable[[str], bool]) -> None:
        self._out, self._in = out_fd, in_fd
        self._on_submit, self._on_key = on_submit, on_key
        self.tty = os.isatty(out_fd)
        self._lock = threading.RLock()
        self._writer = BoundedWriter(out_fd, OUT_BUFFER)
        self._kept: deque[str] = deque(maxlen=KEEP_LINES)  # styled lines, for a repaint
        self._fresh = True  # the output cursor is at the start of an empty line
        self._partial = False  # raw output left its line unfinished
        self._carry = ""  # raw output's unfinished escape sequence
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self._line = LineEditor()
        self._hint = ""
        self._cols, self._rows = 80, 24
        self._saved: list[Any] | None = None
        self._started = self._closed = False
        self._wake: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None
        self._old_winch: Any = None
        self._hook: Callable[..., None] | None = None
        self._prev_hook = sys.excepthook

    def __enter__(self) -> Console:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Raw mode on the input terminal, the layout drawn, the reader thread started."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            atexit.register(self.close)
            if not self.tty:
                return
            if self._in is not None and os.isatty(self._in):
                try:
                    self._saved = termios.tcgetattr(self._in)
                    termios.tcsetattr(self._in, termios.TCSANOW, raw_mode(self._saved))
                except termios.error:
                    self._saved = None
            self._wake = os.pipe()
            os.set_blocking(self._wake[1], False)
            if threading.current_thread() is threading.main_thread():
                self._old_winch = signal.signal(signal.SIGWINCH, self._on_winch)
            self._cols, self._rows = self._size()
            self._prev_hook = prev_hook = sys.excepthook

            def excepthook(*exc: Any) -> None:
                self.close()  # first, so the traceback lands on a sane terminal
                prev_hook(*exc)
            sys.excepthook = self._hook = excepthook
            if self._layout():  # what the pane shows goes up two rows, so none is covered
                self._fresh = False
                self._put(f"\x1b[r{_cup(self._rows)}\r\n\r\n{self._region()}"
                          f"{_cup(self._rows - 2)}{SAVE}" + self._bottom())
            self._reader = threading.Thread(target=self._read_loop, name="console-reader",
                                            daemon=True)
            self._reader.start()

    def close(self) -> None:
        """Everything undone: the terminal's modes first (needs no output), then the scroll
        region and the bottom rows, waiting at most CLOSE_WAIT_S for the pane to take them."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._saved is not None and self._in is not None:
                try:
                    termios.tcsetattr(self._in, termios.TCSANOW, self._saved)
                except (termios.error, OSError):
                    pass
            if sys.excepthook is self._hook and self._hook is not None:
                sys.excepthook = self._prev_hook
            if self._layout():
                end = "" if self._fresh else "\r\n"
                self._put(f"\x1b[r{_cup(self._rows - 1)}{EL}{_cup(self._rows)}{EL}{RESTORE}"
                          f"{end}{RESET}{SHOW}", force=True)
            elif self._started and self.tty:
                self._put(f"\x1b[r{RESET}{SHOW}", force=True)
        atexit.unregister(self.close)
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"x")
            except OSError:
                pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(CLOSE_WAIT_S)
        if self._old_winch is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGWINCH, self._old_winch)
        self._writer.close(CLOSE_WAIT_S)
        if self._wake is not None and (self._reader is None or not self._reader.is_alive()):
            for fd in self._wake:
                os.close(fd)
            self._wake = None

    # -- output ----------------------------------------------------------------------------

    def show(self, items: list[Shown]) -> None:
        """Transcript lines, each kind in its style (plain lines when not a terminal)."""
        lines: list[str] = []
        for item in items:
            style = f"\x1b[{_STYLE.get(item.kind, '0')}m"
            for line in terminal_safe(item.text).split("\n"):
                lines.append(line if not self.tty else style + line + RESET)
        with self._lock:
            if self._closed or not lines:
                return
            if not self.tty:
                self._put("".join(line + "\n" for line in lines))
                return
            self._kept.extend(lines)
            body = ("" if self._fresh else "\r\n") + "\r\n".join(lines)
            self._fresh, self._partial = False, False
            self._put(HIDE + RESTORE + body + SAVE + self._bottom() if self._layout() else body)

    def raw(self, data: bytes) -> None:
        """An agent's plain output, as it comes (partial lines too), made safe to show."""
        with self._lock:
            if self._closed:
                return
            text = self._carry + self._decode(data)
            m = _UNFINISHED.search(text, max(len(text) - 4200, 0))
            cut = m.start() if m else None  # an escape sequence cut in two: keep its start
            self._carry = text[cut:] if cut is not None else ""
            text = terminal_safe(text[:cut], keep_cr=True)
            if not text:
                return
            if not self.tty:
                self._put(text)
                return
            lead = "" if self._fresh or self._partial else "\r\n"
            kept = (self._kept.pop() if self._partial and self._kept else "") + text
            self._kept.extend(kept.removesuffix("\n").split("\n"))
            body = lead + text.replace("\n", "\r\n")
            self._fresh = text.endswith("\n")
            self._partial = not self._fresh
            self._put(HIDE + RESTORE + body + SAVE + self._bottom() if self._layout() else body)

    def set_hint(self, text: str) -> None:
        """The line above the input line."""
        with self._lock:
            self._hint = one_line(text, 400)
            if self._started and not self._closed and self._layout():
                self._put(HIDE + self._bottom())

    # -- drawing (under the lock) ----------------------------------------------------------

    def _put(self, text: str, *, force: bool = False) -> None:
        dropped = 0 if force or not self._layout() else self._writer.take_dropped()
        if dropped:
            note = f"… {dropped} bytes of output not shown (the pane was not read)"
            self._kept.append(f"\x1b[2m{note}{RESET}")
            self._writer.put(self._repaint().encode())
            return
        self._writer.put(text.encode("utf-8", "replace"), force=force)

    def _size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self._out)
        except OSError:
            return self._cols, self._rows
        return max(size.columns, 1), max(size.lines, 1)

    def _layout(self) -> bool:
        """Whether the pane is tall enough for a region and two rows under it."""
        return self.tty and self._started and self._rows >= 4

    def _region(self) -> str:
        return f"\x1b[1;{self._rows - 2}r" if self._rows >= 4 else "\x1b[r"

    def _bottom(self) -> str:
        """The hint and the input line redrawn, the cursor left where the operator types."""
        if not self._layout():
            return SHOW
        shown, width = self._line.view(max(self._cols - len(PROMPT) - 1, 1))
        hint = fit(self._hint, self._cols - 1)
        return (f"{_cup(self._rows - 1)}{EL}\x1b[2m{hint}{RESET}{_cup(self._rows)}{EL}"
                f"\x1b[1m{PROMPT}{RESET}{shown}{_cup(self._rows, len(PROMPT) + 1 + width)}"
                f"{SHOW}")

    def _repaint(self) -> str:
        """The whole pane drawn again at its current size, from the lines kept."""
        keep = list(self._kept)[-(self._rows - 2):] if self._rows >= 4 else []
        self._fresh, self._partial = False, False
        return (f"{HIDE}\x1b[r{RESET}\x1b[H\x1b[2J{self._region()}{_cup(max(self._rows - 2, 1))}"
                + "".join("\r\n" + line for line in keep) + SAVE + self._bottom())

    # -- input (the reader thread) ---------------------------------------------------------

    def _on_winch(self, signum: int, frame: FrameType | None) -> None:
        if self._wake is not None and not self._closed:
            try:
                os.write(self._wake[1], b"w")
            except OSError:
                pass
        if callable(self._old_winch):
            self._old_winch(signum, frame)

    def _read_loop(self) -> None:
        assert self._wake is not None
        fds = [self._wake[0]] + ([self._in] if self._in is not None else [])
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        while True:
            try:
                ready = select.select(fds, [], [], POLL_S)[0]
                if self._wake[0] in ready:
                    os.read(self._wake[0], 512)
                if self._in is not None and self._in in ready:
                    data = os.read(self._in, 4096)
                    if not data:
                        fds.remove(self._in)  # end of input: the pane still shows output
                    self._keys(parse_keys(decode(data)))
            except OSError:
                return
            with self._lock:
                if self._closed:
                    return
                size = self._size()
                if size != (self._cols, self._rows):
                    self._cols, self._rows = size
                    self._put(self._repaint())

    def _keys(self, keys: list[str]) -> None:
        for key in keys:
            if key.isprintable() and len(key) == 1:
                with self._lock:
                    empty = not self._line.buf
                if empty and self._call(self._on_key, key):
                    continue
            with self._lock:
                submit = self._line.edit(key)
            if submit is not None:
                self._call(self._on_submit, submit)
        with self._lock:
            if self._layout() and not self._closed:
                self._put(HIDE + self._bottom())

    def _call(self, fn: Callable[[str], Any], arg: str) -> bool:
        try:
            return bool(fn(arg))
        except Exception as e:  # noqa: BLE001 - a failing callback must not end the input line
            self.show([Shown(ShownKind.ERROR, f"console: {type(e).__name__}: {e}")])
            return False
