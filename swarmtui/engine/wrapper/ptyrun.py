"""An interactive agent CLI on a terminal of its own, shown in the wrapper's pane.

The CLI's screen needs a terminal; the pane is one, but the agent must still run in its own
session and process group (so ending it, ``agent.pgid`` and the subreaper work as for any
agent) and the wrapper must be able to type into it (a message from ``swarmtui send``, the
``/exit`` that ends a finished session). So the agent gets a pseudo-terminal whose other end
the wrapper holds: what the operator types in the pane goes to it byte for byte (the pane is
put in raw mode, and restored on every way out), what it draws goes to the pane, and a resize
of the pane is passed on (SIGWINCH). Nothing of its screen is parsed or logged: what swarmtui
knows of the session comes from its hooks and its transcript file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import tty
from collections.abc import Callable
from typing import Any

DEFAULT_SIZE = (24, 80)  # rows, columns when the wrapper's own output is not a terminal


def _size_of(fd: int) -> tuple[int, int]:
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return DEFAULT_SIZE
    return (rows, cols) if rows and cols else DEFAULT_SIZE


def _set_size(fd: int, rows: int, cols: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyAgent:
    """Starts the agent on a new pseudo-terminal and relays it to and from the pane."""

    def __init__(self, stdin_fd: int | None = None, stdout_fd: int | None = None) -> None:
        self.in_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
        self.out_fd = sys.stdout.fileno() if stdout_fd is None else stdout_fd
        self.master = -1
        self._saved: list[Any] | None = None
        self._write = threading.Lock()
        self._stop_r, self._stop_w = os.pipe()

    def popen(self, popen: Callable[..., subprocess.Popen[bytes]], argv: list[str], *,
              cwd: str, env: dict[str, str], preexec: Callable[[], None]
              ) -> subprocess.Popen[bytes]:
        """Start ``argv`` (through the wrapper's ``popen``) as the leader of a new session
        whose controlling terminal is the new pseudo-terminal."""
        master, slave = os.openpty()
        self.master = master
        with contextlib.suppress(ValueError):  # only the main thread may; else not passed on
            signal.signal(signal.SIGWINCH, lambda *_: self.resize())
        os.set_inheritable(master, False)
        _set_size(slave, *_size_of(self.out_fd))

        def child() -> None:
            preexec()
            with contextlib.suppress(OSError):
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            return popen(argv, cwd=cwd, env=env, start_new_session=True, preexec_fn=child,
                         stdin=slave, stdout=slave, stderr=slave)
        finally:
            os.close(slave)

    def relay(self) -> None:
        """Until the agent's side closes: the pane's keys to the agent, its screen to the pane.
        Runs on the wrapper's pump thread."""
        self._raw()
        try:
            self.resize()
            watch = [self.master, self._stop_r]
            if os.isatty(self.in_fd):
                watch.append(self.in_fd)
            while True:
                try:
                    ready = select.select(watch, [], [])[0]
                except InterruptedError:
                    continue
                if self._stop_r in ready:
                    return
                if self.in_fd in ready:
                    try:
                        data = os.read(self.in_fd, 4096)
                    except OSError:
                        data = b""
                    if data:
                        self.type(data)
                    else:
                        watch.remove(self.in_fd)  # the pane went away: the agent goes on
                if self.master in ready:
                    try:
                        data = os.read(self.master, 65536)
                    except OSError:  # EIO: every holder of its terminal has closed it
                        return
                    if not data:
                        return
                    with contextlib.suppress(OSError):
                        os.write(self.out_fd, data)
        finally:
            self.restore()

    def type(self, data: bytes) -> bool:
        """Write to the agent's terminal as if typed; False once it is gone."""
        with self._write:
            try:
                while data:
                    data = data[os.write(self.master, data):]
            except OSError:
                return False
        return True

    def resize(self) -> None:
        rows, cols = _size_of(self.out_fd)
        if self.master >= 0:
            _set_size(self.master, rows, cols)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")

    def _raw(self) -> None:
        if os.isatty(self.in_fd) and self._saved is None:
            with contextlib.suppress(termios.error):
                self._saved = termios.tcgetattr(self.in_fd)
                tty.setraw(self.in_fd)

    def restore(self) -> None:
        """The pane as it was (cooked mode), whatever ended the relay."""
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.in_fd, termios.TCSAFLUSH, self._saved)
            self._saved = None
