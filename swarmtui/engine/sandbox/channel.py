"""What a boxed agent may ask of the supervisor, and how it is known who asked.

The store and its command inbox are outside the box. Each attempt's wrapper serves a Unix
socket that only that attempt's box has (mounted at ``bwrap.SOCKET``); a request arriving
there is from that attempt and nobody else, so the wrapper sends it on to the inbox under the
attempt's own name (``agent:<id>``), whatever the request claims. The supervisor refuses a
request that speaks for another task (``spawn_refused``, "forged"). One JSON line in, one out.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SOCKET_ENV = "SWARMTUI_AGENT_SOCKET"
LINE_MAX = 256 * 1024
READ_TIMEOUT = 10.0
ANSWER_TIMEOUT = 120.0  # a spawn is answered once the supervisor has screened its prompt

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


class ChannelServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self._sock.listen(8)
        self._thread = threading.Thread(target=self._run, name="agent-channel", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            ready = select.select([self._sock.fileno(), self._wake_r], [], [])[0]
            if self._wake_r in ready:
                return
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(READ_TIMEOUT)
            try:
                answer = self._answer(_read_line(conn))
            except (OSError, ValueError) as e:
                answer = {"status": "refused", "reason": f"bad request: {e}"}
            try:
                conn.sendall((json.dumps(answer) + "\n").encode())
            except OSError:
                pass

    def _answer(self, line: bytes) -> dict[str, Any]:
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("op"), str) or not isinstance(
                obj.get("args", {}), dict):
            return {"status": "refused", "reason": "a request is {\"op\": ..., \"args\": {...}}"}
        try:
            return self.handler(obj["op"], dict(obj.get("args") or {}))
        except Exception as e:  # noqa: BLE001 - the agent gets the reason, the wrapper goes on
            return {"status": "failed", "reason": f"{type(e).__name__}: {e}"[:500]}

    def close(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._sock.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self.path.unlink(missing_ok=True)


def _read_line(conn: socket.socket) -> bytes:
    buf = b""
    while b"\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > LINE_MAX:
            raise ValueError(f"a request over {LINE_MAX} bytes")
    return buf.split(b"\n", 1)[0]


def ask(path: str, op: str, args: dict[str, Any]) -> dict[str, Any]:
    """From inside the box (``swarmtui spawn``): one request, its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(ANSWER_TIMEOUT)
        s.connect(path)
        s.sendall((json.dumps({"op": op, "args": args}) + "\n").encode())
        line = _read_line(s)
    obj = json.loads(line) if line else {"status": "failed", "reason": "no answer"}
    return obj if isinstance(obj, dict) else {"status": "failed", "reason": "a bad answer"}
