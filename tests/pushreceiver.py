"""A local stand-in for a push service: an HTTP server on 127.0.0.1 that keeps every JSON
body posted to it (what apprise's ``json://`` sends), with the path it was posted to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PushReceiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.hold = threading.Event()  # cleared: every request waits until it is set
        self.hold.set()
        self.waiting = threading.Event()  # set once a request waits on ``hold``
        self.cond = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                if not owner.hold.is_set():
                    owner.waiting.set()
                    owner.hold.wait(60)
                with owner.cond:
                    owner.received.append((self.path, body))
                    owner.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages(self) -> list[str]:
        with self.cond:
            return [str(b.get("message", "")) for _, b in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
