"""The channel from the supervisor to a running agent's wrapper: a named pipe per attempt.

The wrapper makes ``.swarm/steer/<task>-<attempt>`` (a FIFO, 0600) when its agent can be
steered and removes it when the attempt ends; the supervisor writes one JSON line per command
(answer a permission request, say something, interrupt the turn). A FIFO costs nothing while
idle (the wrapper's reader sleeps in the kernel), needs no socket path short enough for
``sun_path``, and says at once when nobody listens: opening it for writing without a reader
fails (``ENXIO``), which is how the supervisor knows the session is gone.

The folder is outside the agent's worktree and its own protocol folder, and every command
carries the attempt's token (an HMAC of the attempt's id under a key only the supervisor's
folder holds, handed to the wrapper in the environment file it deletes before the agent
starts): a line written by anyone else is refused and reported, never obeyed.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import secrets
import select
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui.protocol import STEER_TOKEN_ENV

STEER_DIR = "steer"
KEY_FILE = "steer.key"
TOKEN_ENV = STEER_TOKEN_ENV  # in env.json only; the wrapper takes it out
LINE_MAX = 64 * 1024  # one command; a longer line is dropped whole
WRITE_TIMEOUT = 2.0  # seconds the supervisor waits for room in the pipe


def steer_path(agent_dir: Path) -> Path:
    """``.swarm/steer/<id>`` for the attempt whose folder is ``.swarm/agents/<id>``."""
    return agent_dir.parent.parent / STEER_DIR / agent_dir.name


def run_key(swarm: Path) -> bytes:
    """The repository's steering key (made once, 0600, in ``.swarm``)."""
    path = swarm / KEY_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:64]
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode()
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    try:
        os.link(tmp, path)  # the first writer wins; a racing one reads the winner's key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()[:64]


def token(key: bytes, agent_id: str) -> str:
    return hmac.new(key, agent_id.encode(), hashlib.sha256).hexdigest()[:32]


def encode(command: dict[str, Any], tok: str) -> bytes:
    line = (json.dumps({**command, "token": tok}, separators=(",", ":")) + "\n").encode()
    if len(line) > LINE_MAX:
        raise ValueError(f"a steering command is {len(line)} bytes; at most {LINE_MAX}")
    return line


def send(path: Path, line: bytes) -> bool:
    """Write one command line into the attempt's pipe. False when no wrapper listens (the
    attempt has ended or its session is not steerable); blocks at most ``WRITE_TIMEOUT``."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISFIFO(st.st_mode):
        return False  # never write into whatever else an agent may have put there
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    try:
        view = memoryview(line)
        while view:
            if not select.select([], [fd], [], WRITE_TIMEOUT)[1]:
                return False
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                return False
            view = view[n:]
        return True
    finally:
        os.close(fd)


class SteerReader:
    """The wrapper's end: makes the pipe, reads whole lines from it on a thread and hands each
    parsed command (token checked) to ``on_command``; a line with a wrong token, too long or
    not JSON goes to ``on_refused`` with the reason."""

    def __init__(self, path: Path, tok: str, on_command: Callable[[dict[str, Any]], None],
                 on_refused: Callable[[str], None]) -> None:
        self.path = path
        self.token = tok
        self.on_command = on_command
        self.on_refused = on_refused
        self._fd = -1
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.unlink(missing_ok=True)  # a pipe left by a killed wrapper of this id
            os.mkfifo(self.path, 0o600)
            # Read and write: the pipe never reports end-of-file between two writers.
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return False
        self._thread = threading.Thread(target=self._run, name="steer", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        buf = b""
        dropping = False
        while True:
            ready = select.select([self._fd, self._wake_r], [], [])[0]
            if self._wake_r in ready:
                return
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if dropping:
                    dropping = False
                    continue
                self._line(line)
            if len(buf) > LINE_MAX:
                buf = b""
                dropping = True
                self.on_refused(f"a command line over {LINE_MAX} bytes")

    def _line(self, line: bytes) -> None:
        try:
            obj = json.loads(line)
        except ValueError:
            self.on_refused("a line that is not JSON")
            return
        if not isinstance(obj, dict):
            self.on_refused("a line that is not a JSON object")
            return
        given = obj.pop("token", "")
        if not isinstance(given, str) or not hmac.compare_digest(given, self.token):
            self.on_refused(f"a {str(obj.get('op', '?'))[:20]!r} command without this "
                            "attempt's token")
            return
        self.on_command(obj)

    def close(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._fd, self._wake_r, self._wake_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._fd = -1
        try:
            if stat.S_ISFIFO(os.lstat(self.path).st_mode):
                self.path.unlink()
        except OSError:
            pass
