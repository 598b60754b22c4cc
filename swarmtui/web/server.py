"""The web view's HTTP server: a threaded server from the standard library, reading the run
through ``RunClient`` (its own SQLite connection, like ``watch``), never the supervisor's loop.

Every request needs the session cookie (got once with the access token); the page's script is
a file of its own under a strict Content-Security-Policy. Actions go to the supervisor's inbox
as any client's commands do, only when started with ``--allow-actions``, only by POST with a
header a cross-site form cannot set, and only the few kinds a phone needs.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.errors import SwarmError
from swarmtui.model.commands import parse_args
from swarmtui.notify.push import WEB_FILE
from swarmtui.web.auth import Access
from swarmtui.web.fleet import fleet_json
from swarmtui.web.page import CSS, HTML, JS

log = logging.getLogger("swarmtui.web")

ACTIONS = frozenset({"pause", "resume", "kill", "retry", "cancel", "ack", "answer"})
BODY_MAX = 4096
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebView:
    def __init__(self, repo: Path, *, max_agents: int, host: str = "127.0.0.1", port: int = 0,
                 allow_actions: bool = False, access: Access | None = None) -> None:
        self.repo = repo
        self.max_agents = max_agents
        self.allow_actions = allow_actions
        self.access = access or Access()
        self.client = RunClient(repo)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.host = host
        self.port = int(self.server.server_address[1])
        self._web_file = repo / P.SWARM_DIR / WEB_FILE

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def access_url(self) -> str:
        return f"{self.base_url}?token={self.access.token}"

    def fleet(self) -> dict[str, Any]:
        with self._lock:  # one connection, one projection: requests take turns
            self.client.refresh()
            return fleet_json(self.client.state, max_agents=self.max_agents,
                              supervisor_live=self.client.supervisor_live(),
                              allow_actions=self.allow_actions)

    def act(self, kind: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.allow_actions:
            return 403, {"status": "refused", "reason": "this view is read-only; start "
                         "`swarmtui serve --allow-actions` to act from it"}
        if kind not in ACTIONS:
            return 400, {"status": "refused", "reason": f"{kind!r} is not an action of the web "
                         f"view (it takes {', '.join(sorted(ACTIONS))})"}
        try:
            parse_args(kind, args)
            res = self.client.submit(kind, args, source="web", timeout=20)
        except SwarmError as e:
            return 409, {"status": "refused", "reason": str(e)}
        return 200, {**res.to_json_obj(), "reason": res.message}

    def publish(self, link: str = "") -> None:
        """Record where the view is reached (``link``, or the address served; never the
        token) for pushes to point to; ``serve_forever`` removes the record when it stops."""
        tmp = self._web_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"url": link or self.base_url, "pid": os.getpid()}))
        tmp.chmod(0o600)
        tmp.replace(self._web_file)

    def serve_forever(self) -> None:
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self._web_file.unlink(missing_ok=True)
            self.server.server_close()

    def shutdown(self) -> None:
        self.server.shutdown()


def _handler(view: WebView) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "swarmtui"
        timeout = 30  # an idle or trickling connection lets its thread go
        sys_version = ""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The path without its query: the access token never reaches a log.
            log.info("%s %s %s %s", self.address_string(), self.command,
                     urlsplit(self.path).path, code)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # errors are logged by log_request's code; the request line holds the token

        def _send(self, code: int, body: bytes, ctype: str,
                  extra: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", _CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, code: int, obj: dict[str, Any]) -> None:
            self._send(code, json.dumps(obj).encode(), "application/json")

        def _refuse(self) -> None:
            self._send(403, b"403: this view needs the access link `swarmtui serve` printed\n",
                       "text/plain; charset=utf-8")

        def _allowed(self) -> bool:
            return view.access.session_in(self.headers.get("Cookie"))

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if "token=" in self.path and view.access.token_in(self.path):
                self._send(303, b"", "text/plain", {"Location": "/",
                                                    "Set-Cookie": view.access.set_cookie(False)})
                return
            if not self._allowed():
                self._refuse()
                return
            if path == "/":
                self._send(200, HTML.encode(), "text/html; charset=utf-8")
            elif path == "/app.js":
                self._send(200, JS.encode(), "text/javascript; charset=utf-8")
            elif path == "/app.css":
                self._send(200, CSS.encode(), "text/css; charset=utf-8")
            elif path == "/api/fleet":
                try:
                    self._json(200, view.fleet())
                except SwarmError as e:
                    self._json(503, {"error": str(e)})
            else:
                self._send(404, b"404\n", "text/plain")

        def do_POST(self) -> None:
            if (not self._allowed() or urlsplit(self.path).path != "/api/action"
                    or self.headers.get("X-Swarmtui-Action") != "1"):
                self._refuse()
                return
            n = int(self.headers.get("Content-Length") or 0)
            if n > BODY_MAX:
                self._json(413, {"status": "refused", "reason": f"body over {BODY_MAX} bytes"})
                return
            try:
                req = json.loads(self.rfile.read(n) or b"{}")
                kind, args = str(req["kind"]), dict(req.get("args") or {})
            except (ValueError, KeyError, TypeError) as e:
                self._json(400, {"status": "refused",
                                 "reason": f"expected {{\"kind\": ..., \"args\": {{...}}}}: {e}"})
                return
            code, obj = view.act(kind, args)
            self._json(code, obj)

    return Handler
