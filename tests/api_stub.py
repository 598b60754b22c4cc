"""What the local stand-ins of the OpenAI and Gemini APIs share (tests only; no network).

A provider stub (``tests/openai_stub.py``, ``tests/gemini_stub.py``) is a :class:`StubServer`
with a ``render`` method that writes one answer in its provider's wire format. The answers come
from a script, consumed one per model request, in the provider-neutral terms below:

* :class:`Reply`: text and/or tool calls (:class:`Call`) with token counts (:class:`Tokens`);
* :class:`Fail`: an HTTP error (401, 429, 500, 503, ...) with a message and headers;
* :class:`Hang`: never answers until the server stops (or ``seconds`` pass);
* a callable ``(Request) -> Reply | Fail | Hang`` that builds the answer from the request.

``repeat=True`` keeps an item for every later request; :class:`Route` sends matching requests
to their own script (its last item repeats). Every request is recorded, and the tokens of every
successful answer are summed per model (:attr:`StubServer.billed`) so a test can compare an
agent's own accounting with what was billed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Tokens:
    """One answer's token counts: ``input`` includes ``cached`` (as both APIs count them),
    ``output`` includes ``reasoning``."""

    input: int = 100
    output: int = 20
    cached: int = 0
    reasoning: int = 0

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(self.input + other.input, self.output + other.output,
                      self.cached + other.cached, self.reasoning + other.reasoning)

    @property
    def total(self) -> int:
        return self.input + self.output


@dataclass(frozen=True)
class Call:
    """A tool (function) call; ``id`` is generated when not given."""

    name: str
    arguments: Mapping[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str | None = None
    calls: Sequence[Call] = ()
    tokens: Tokens = field(default_factory=Tokens)
    model: str | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)
    repeat: bool = False


@dataclass(frozen=True)
class Fail:
    """An HTTP error; ``code`` is the provider's error code or status word (``insufficient_quota``,
    ``usage_limit_reached``, ``RESOURCE_EXHAUSTED``), ``extra`` more fields of the error object."""

    status: int
    message: str = ""
    code: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    repeat: bool = False


@dataclass(frozen=True)
class Hang:
    seconds: float | None = None
    repeat: bool = False


@dataclass
class Request:
    index: int
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    received_at: float
    route: str = "main"
    status: int | None = None

    @property
    def text(self) -> str:
        """The whole body as text: enough for predicates such as "the prompt names task x"."""
        return json.dumps(self.body) if self.body is not None else ""


Answer = Reply | Fail | Hang
ScriptItem = Reply | Fail | Hang | Callable[[Request], Answer]


@dataclass
class Route:
    name: str
    match: Callable[[Request], bool]
    script: list[ScriptItem]
    _next: int = 0

    def take(self) -> ScriptItem:
        item = self.script[min(self._next, len(self.script) - 1)]
        self._next += 1
        return item


def body_contains(needle: str) -> Callable[[Request], bool]:
    return lambda req: needle in req.text


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StubServer:
    """The shared server; subclasses say which requests are model calls and render answers."""

    name = "api-stub"
    default_model = "stub-model"

    def __init__(self, script: Sequence[ScriptItem] = ()) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.script: list[ScriptItem] = list(script)
        self._next = 0
        self.routes: list[Route] = []
        self.default: ScriptItem = Reply(text="(stub: script exhausted)",
                                         tokens=Tokens(1, 1), repeat=True)
        self.requests: list[Request] = []
        self.billed: dict[str, Tokens] = {}
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._connections: set[socket.socket] = set()

    # -- provider hooks ----------------------------------------------------------------------

    def is_model_call(self, method: str, path: str) -> bool:
        raise NotImplementedError

    def model_of(self, req: Request) -> str:
        raise NotImplementedError

    def render(self, h: Handler, req: Request, answer: Reply | Fail) -> None:
        raise NotImplementedError

    def other(self, h: Handler, req: Request) -> None:
        """Anything that is not a model call: a 404 unless a provider answers it."""
        h.send_json(404, {"error": {"message": f"stub: no route {req.method} {req.path}"}}, req)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name=self.name,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._port, "stub not started"
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting and assertions ------------------------------------------------------------

    def add(self, *items: ScriptItem) -> None:
        with self._lock:
            self.script.extend(items)

    def add_route(self, route: Route) -> None:
        with self._lock:
            self.routes.insert(0, route)

    def model_requests(self, route: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if self.is_model_call(r.method, r.path)
                    and (route is None or r.route == route)]

    def total_billed(self) -> Tokens:
        with self._lock:
            total = Tokens(0, 0)
            for t in self.billed.values():
                total = total + t
            return total

    def wait_for(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    # -- internals ---------------------------------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Request:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._changed:
            req = Request(next(self._ids), method, path, headers, body, time.time())
            self.requests.append(req)
            self._changed.notify_all()
            return req

    def choose(self, req: Request) -> Answer:
        with self._lock:
            item: ScriptItem | None = None
            for route in self.routes:
                try:
                    hit = route.match(req)
                except (AttributeError, KeyError, IndexError, TypeError, ValueError):
                    hit = False
                if hit:
                    req.route = route.name
                    item = route.take()
                    break
            if item is None:
                if self._next < len(self.script):
                    item = self.script[self._next]
                    if not getattr(item, "repeat", False):
                        self._next += 1
                else:
                    item = self.default
        return item(req) if callable(item) else item

    def bill(self, model: str, tokens: Tokens) -> None:
        with self._lock:
            self.billed[model] = self.billed.get(model, Tokens(0, 0)) + tokens

    def answered(self, req: Request, status: int) -> None:
        with self._changed:
            req.status = status
            self._changed.notify_all()

    def sleep(self, seconds: float | None) -> bool:
        """Wait (None: until the server stops); False if the server stopped meanwhile."""
        if seconds is None:
            self._stopping.wait()
            return False
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(conn)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: StubServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.stub.track(self.connection, True)

    def finish(self) -> None:
        self.stub.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def send_json(self, status: int, obj: Any, req: Request,
                  headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(obj).encode()
        self.stub.answered(req, status)  # recorded before the client can see the answer
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self, req: Request, headers: Mapping[str, str] = {}) -> None:
        self.stub.answered(req, 200)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("connection", "close")  # the stream ends when the server closes it
        self.end_headers()
        self.close_connection = True

    def sse(self, data: Mapping[str, Any], event: str | None = None) -> None:
        head = f"event: {event}\n" if event else ""
        self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if method == "POST" and length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        stub = self.stub
        req = stub._record(method, self.path, headers, raw)
        try:
            if not stub.is_model_call(method, self.path):
                stub.other(self, req)
                return
            answer = stub.choose(req)
            if isinstance(answer, Hang):
                stub.sleep(answer.seconds)
                self.close_connection = True
                return
            if not stub.sleep(answer.delay):
                self.close_connection = True
                return
            if isinstance(answer, Reply):
                stub.bill(answer.model or stub.model_of(req) or stub.default_model,
                          answer.tokens)
            stub.render(self, req, answer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _make_handler(stub: StubServer) -> type[Handler]:
    return type("BoundHandler", (Handler,), {"stub": stub})
