"""The proxy of a ``network = "api"`` box, run by its wrapper outside the box.

The box's only way out is a listening socket on its own loopback, handed over by
``netport.py`` as the box starts. Each connection on it must be an HTTP proxy request for one
of the allowed hosts: ``CONNECT host:port`` (HTTPS: the tunnel carries TLS end to end; the
proxy sees only the host) or, for an ``http://`` base URL such as a local API stand-in, a
request with an absolute URI, sent on as one request (``Connection: close``). Anything else gets
a 403 and is recorded: the first refusal of each target, bounded, as a ``net_refused`` signal.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from swarmtui.netaddr import HostPort, host_port, show, url_host_port

HEAD_MAX = 64 * 1024  # a request line and headers
HEAD_TIMEOUT = 30.0
CONNECT_TIMEOUT = 15.0
MAX_CONNECTIONS = 64  # at once; more are refused with a 503 (not recorded)
RECORDED_MAX = 32  # distinct refused targets recorded per attempt; then one line says more
COUNTED_MAX = 1024  # distinct refused targets counted (in memory); the rest count as one
_DROPPED = frozenset({b"proxy-connection", b"proxy-authorization", b"connection",
                      b"keep-alive"})

Record = Callable[[list[dict[str, Any]]], None]


class Refusal(ValueError):
    """A request the proxy does not pass on; ``target`` is what it asked for, when known."""

    def __init__(self, why: str, target: HostPort | None = None, status: int = 403) -> None:
        super().__init__(why)
        self.target = target
        self.status = status


class Egress:
    def __init__(self, allowed: Iterable[HostPort], record: Record | None = None) -> None:
        self.allowed = frozenset(allowed)
        self.record = record
        self.refused: dict[str, int] = {}  # "host:port" (or why) -> times refused
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._closed = threading.Event()
        self._socks: set[socket.socket] = set()  # listeners and live connections
        self._live = 0  # the agent's connections being served
        self._threads: list[threading.Thread] = []

    # -- the box's port -------------------------------------------------------------------

    def take(self, path: Path) -> None:
        """Wait (in a thread) for the box's one listening socket on the Unix socket ``path``,
        then serve it. One handover only: the socket is removed once it is done."""
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(str(path))
        os.chmod(path, 0o600)
        srv.listen(1)
        self._start(self._take, srv, path)

    def _take(self, srv: socket.socket, path: Path) -> None:
        try:
            if not self._wait(srv):
                return
            conn, _ = srv.accept()
        finally:
            srv.close()
            path.unlink(missing_ok=True)
        with conn:
            conn.settimeout(HEAD_TIMEOUT)
            try:
                _, fds, _, _ = socket.recv_fds(conn, 64, 4)
            except OSError:
                return
            socks = [socket.socket(fileno=fd) for fd in fds]
            ok = len(socks) == 1 and _listening_tcp(socks[0])
            try:
                conn.sendall(b"ok\n" if ok else b"not one listening TCP socket\n")
            except OSError:
                ok = False
        if not ok:
            for s in socks:
                s.close()
            return
        self.serve(socks[0])

    def serve(self, listener: socket.socket) -> None:
        """Accept proxy connections on ``listener`` (in a thread) until closed."""
        with self._lock:
            self._socks.add(listener)
        self._start(self._accept, listener)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name="egress", daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _wait(self, sock: socket.socket) -> bool:
        """Until ``sock`` is readable (True) or the proxy closes (False)."""
        try:
            ready = select.select([sock.fileno(), self._wake_r], [], [])[0]
        except (OSError, ValueError):
            return False
        return self._wake_r not in ready and not self._closed.is_set()

    def _accept(self, listener: socket.socket) -> None:
        while self._wait(listener):
            try:
                conn, _ = listener.accept()
            except OSError:
                self._closed.wait(0.1)  # out of descriptors, say: not a busy loop meanwhile
                continue
            with self._lock:
                busy = self._live >= MAX_CONNECTIONS
                if not busy:
                    self._live += 1
                    self._socks.add(conn)
            if busy:
                _answer(conn, 503, "too many connections at once")
                conn.close()
                continue
            self._start(self._serve, conn)

    # -- one connection -------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        up: socket.socket | None = None
        try:
            conn.settimeout(HEAD_TIMEOUT)
            head, rest = _read_head(conn)
            method, target, first = self.route(head)
            try:
                up = socket.create_connection(target, timeout=CONNECT_TIMEOUT)
            except OSError as e:
                _answer(conn, 502, f"{show(target)} did not answer: {e}")
                return
            with self._lock:
                self._socks.add(up)
            if method == "CONNECT":
                conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            else:
                up.sendall(first)
            if rest:
                up.sendall(rest)
            conn.settimeout(None)
            up.settimeout(None)
            self._relay(conn, up)
        except Refusal as r:
            self._refuse(conn, r)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._live -= 1
                self._socks.discard(conn)
                if up is not None:
                    self._socks.discard(up)
            conn.close()
            if up is not None:
                up.close()

    def route(self, head: bytes) -> tuple[str, HostPort, bytes]:
        """Where a request may go: (method, host and port, what to send there first); a
        Refusal when it may not."""
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].decode("ascii").split(" ")
        except (UnicodeDecodeError, ValueError):
            raise Refusal("not an HTTP request line", status=400) from None
        if method == "CONNECT":
            try:
                hp = host_port(target, None)
            except ValueError as e:
                raise Refusal(f"CONNECT to {e}", status=400) from None
            return method, self._allowed(hp), b""
        if not target.lower().startswith("http://"):
            raise Refusal(f"{method} {target[:200]}: only CONNECT and http:// URLs go through "
                          "this proxy", status=400)
        try:
            hp = url_host_port(target)
        except ValueError as e:
            raise Refusal(str(e), status=400) from None
        self._allowed(hp)
        after_host = target[len("http://"):]
        path = after_host[after_host.find("/"):] if "/" in after_host else "/"
        kept = [ln for ln in lines[1:] if ln and ln.split(b":", 1)[0].strip().lower()
                not in _DROPPED]
        if not any(ln.lower().startswith(b"host:") for ln in kept):
            kept.insert(0, b"Host: " + show(hp).encode())
        first = b"\r\n".join([f"{method} {path} {version}".encode(), *kept,
                              b"Connection: close", b"", b""])
        return method, hp, first

    def _allowed(self, hp: HostPort) -> HostPort:
        if hp not in self.allowed:
            raise Refusal(f"{show(hp)} is not one of this agent's API hosts", hp)
        return hp

    def _refuse(self, conn: socket.socket, r: Refusal) -> None:
        _answer(conn, r.status, f"swarmtui sandbox (network = \"api\"): {r}")
        key = show(r.target) if r.target else str(r)[:100]
        with self._lock:
            if key not in self.refused and len(self.refused) >= COUNTED_MAX:
                key = "(others)"
            n = self.refused.get(key, 0) + 1
            self.refused[key] = n
            distinct = len(self.refused)
        if n > 1 or self.record is None or distinct > RECORDED_MAX + 1:
            return
        if distinct == RECORDED_MAX + 1:
            self.record([{"kind": "net_refused", "host": "", "port": 0,
                          "why": f"more than {RECORDED_MAX} refused targets; the rest are "
                                 "not recorded"}])
            return
        host, port = r.target if r.target else ("", 0)
        self.record([{"kind": "net_refused", "host": host, "port": port, "why": str(r)[:300]}])

    def _relay(self, agent: socket.socket, far: socket.socket) -> None:
        """Bytes both ways until the far side is done (or the proxy closes); the agent
        closing its side ends the request, not the answer."""
        reading = [agent.fileno(), far.fileno()]
        socks = {agent.fileno(): agent, far.fileno(): far}
        while not self._closed.is_set():
            try:
                ready = select.select([*reading, self._wake_r], [], [])[0]
            except (OSError, ValueError):
                return
            if self._wake_r in ready:
                return
            for fd in ready:
                s = socks[fd]
                data = s.recv(65536)
                if s is far:
                    if not data:
                        return
                    agent.sendall(data)
                elif data:
                    far.sendall(data)
                else:
                    reading.remove(fd)
                    far.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        os.write(self._wake_w, b"x")
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0  # a thread still connecting out is left to end
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        for s in socks:
            s.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)


def _listening_tcp(s: socket.socket) -> bool:
    try:
        return s.family in (socket.AF_INET, socket.AF_INET6) and s.type == (
            socket.SOCK_STREAM) and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    except OSError:
        return False


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """The request line and headers, and what came after them."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("closed before its request was complete")
        buf += chunk
        if len(buf) > HEAD_MAX and b"\r\n\r\n" not in buf[:HEAD_MAX + 4]:
            raise Refusal(f"a request head over {HEAD_MAX} bytes", status=431)
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def _answer(conn: socket.socket, status: int, text: str) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large",
              502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
    body = (text + "\n").encode("utf-8", "replace")
    try:
        conn.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8"
                     f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                     + body)
    except OSError:
        pass
