"""A scripted, local stand-in for the Anthropic Messages API (for tests; never touches the network).

Start it on 127.0.0.1 (a free port, served from a background thread) and point a client at
``stub.base_url``: the ``anthropic`` Python client via ``base_url=``, Claude Code via
``ANTHROPIC_BASE_URL``.

Endpoints:

* ``POST /v1/messages``: a streamed answer (server-sent events: ``message_start``,
  ``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` for text and
  ``tool_use`` blocks (``text_delta`` and ``input_json_delta``), ``message_delta`` with the stop
  reason and usage, ``message_stop``) when the body has ``"stream": true``, one JSON message
  otherwise.
* ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``, N a deterministic estimate.
* anything else: a 404 in the API's error shape (and recorded, so a test can see it).

What the server answers comes from a script, a list of items consumed one per request:

* :class:`Turn`: text and/or tool_use blocks, a stop reason, usage numbers, an optional delay;
* :class:`ErrorTurn`: an HTTP error (401, 429, 500, 529, ...) with the real error JSON body and
  headers such as ``retry-after`` and the ``anthropic-ratelimit-unified-*`` family
  (:func:`unified_headers` builds those);
* :class:`Hang`: never answers (the handler waits until the server stops);
* a callable ``(Request) -> Turn | ErrorTurn | Hang`` that builds the answer from the request,
  e.g. to react to a ``tool_result``.

An item with ``repeat=True`` is not consumed: it answers every later request too. When the script
runs out, ``default`` answers (a short text turn unless the test sets another).

:class:`Route` sends requests that match a predicate (e.g. Claude Code's side requests on a small
model: titles, quota probes) to their own script, so they never consume the main one; a route's
last item repeats. :func:`side_request` is a predicate for Claude Code's side requests.

Every request is recorded (:class:`Request`: path, headers, JSON body, which route answered it,
the status sent) and the usage of every successful answer is summed per model
(:attr:`StubServer.billed`), so a test can compare an agent's own token and cost accounting with
what the server billed.

As a pytest fixture: ``anthropic_stub`` (below) yields a started :class:`StubServer` with an
empty script and stops it after the test; make it available to every test module by importing it
in tests/conftest.py (``from tests.anthropic_stub import anthropic_stub  # noqa: F401``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

DEFAULT_MODEL = "claude-sonnet-4-5"

# HTTP status -> the ``error.type`` the real API sends with it.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

ERROR_MESSAGES: dict[int, str] = {
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "Not found",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}


@dataclass(frozen=True)
class Usage:
    """Token counts of one answer, in the API's ``usage`` field names."""

    input_tokens: int = 100
    output_tokens: int = 20
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": self.output_tokens,
        }

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=(self.cache_creation_input_tokens
                                         + other.cache_creation_input_tokens),
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total(self) -> int:
        return (self.input_tokens + self.output_tokens + self.cache_creation_input_tokens
                + self.cache_read_input_tokens)


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block; ``id`` is generated when not given."""

    name: str
    input: Mapping[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """A successful answer.

    ``blocks`` are text (``str``) and :class:`ToolUse` items in order; ``text`` and
    ``tool_uses`` are shorthands appended after them. ``stop_reason`` defaults to ``tool_use``
    when there is a tool call and ``end_turn`` otherwise. ``model`` defaults to the request's.
    ``delay`` seconds pass before the response starts; ``chunk_delay`` between streamed events.
    ``headers`` are added to the HTTP response (e.g. :func:`unified_headers` with
    ``allowed_warning``).
    """

    blocks: Sequence[str | ToolUse] = ()
    text: str | None = None
    tool_uses: Sequence[ToolUse] = ()
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)
    repeat: bool = False

    def all_blocks(self) -> list[str | ToolUse]:
        out: list[str | ToolUse] = list(self.blocks)
        if self.text is not None:
            out.append(self.text)
        out.extend(self.tool_uses)
        return out

    def effective_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.all_blocks()) else "end_turn"


@dataclass(frozen=True)
class ErrorTurn:
    """An HTTP error in the API's shape: ``{"type": "error", "error": {"type", "message"}}``.

    ``error_type`` and ``message`` default from the status. ``headers`` are sent as given
    (``retry_after`` is a shorthand for the ``retry-after`` header). With ``stream_after_text``
    set, the answer is instead a 200 event stream that sends that text and then an ``error``
    event (the way an overload can interrupt a stream that has started). ``should_retry`` sends
    ``x-should-retry: true/false``, which clients built on the Stainless SDKs (the ``anthropic``
    package, Claude Code) obey over their own status-code rules.
    """

    status: int
    error_type: str | None = None
    message: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    delay: float = 0.0
    repeat: bool = False
    stream_after_text: str | None = None
    should_retry: bool | None = None

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {
                "type": self.error_type or ERROR_TYPES.get(self.status, "api_error"),
                "message": self.message or ERROR_MESSAGES.get(self.status, "Error"),
            },
            "request_id": request_id,
        }

    def all_headers(self) -> dict[str, str]:
        out = dict(self.headers)
        if self.retry_after is not None:
            out["retry-after"] = _format_number(self.retry_after)
        if self.should_retry is not None:
            out["x-should-retry"] = "true" if self.should_retry else "false"
        return out


@dataclass(frozen=True)
class Hang:
    """Never answer: the connection stays open until the server stops (or ``seconds`` pass,
    after which the connection is closed without a response)."""

    seconds: float | None = None
    repeat: bool = False


def unified_headers(status: str = "allowed", *, reset: float | None = None,
                    claim: str = "five_hour", utilization_5h: float | None = None,
                    utilization_7d: float | None = None, reset_7d: float | None = None,
                    fallback: bool = False, overage_status: str | None = "rejected",
                    overage_disabled_reason: str | None = "org_level_disabled",
                    ) -> dict[str, str]:
    """The ``anthropic-ratelimit-unified-*`` headers a Claude subscriber's responses carry.

    ``status`` is ``allowed``, ``allowed_warning`` or ``rejected``; ``reset`` a unix time (default
    in 2 hours); ``claim`` the representative claim (``five_hour``, ``seven_day``, ...). Claude
    Code 2.1.332 reads ``-status``, ``-reset``, ``-representative-claim``, ``-fallback``,
    ``-overage-status`` / ``-overage-reset`` / ``-overage-disabled-reason`` and, per window
    (``5h``, ``7d``, ``7d_oi``, ``overage``), ``-<w>-utilization`` / ``-<w>-reset`` /
    ``-<w>-surpassed-threshold`` / ``-<w>-status``; only for a claude.ai (OAuth) login.
    """
    now = time.time()
    reset_at = reset if reset is not None else now + 2 * 3600
    out = {
        "anthropic-ratelimit-unified-status": status,
        "anthropic-ratelimit-unified-reset": str(int(reset_at)),
        "anthropic-ratelimit-unified-representative-claim": claim,
        "anthropic-ratelimit-unified-fallback": "available" if fallback else "unavailable",
        "anthropic-ratelimit-unified-5h-status": status if claim == "five_hour" else "allowed",
        "anthropic-ratelimit-unified-5h-reset": str(int(reset_at if claim == "five_hour"
                                                        else now + 3600)),
        "anthropic-ratelimit-unified-7d-status": status if claim.startswith("seven_day")
        else "allowed",
    }
    if reset_7d is None:
        reset_7d = reset_at if claim.startswith("seven_day") else now + 5 * 86400
    out["anthropic-ratelimit-unified-7d-reset"] = str(int(reset_7d))
    if utilization_5h is None:
        utilization_5h = 1.0 if status == "rejected" and claim == "five_hour" else (
            0.92 if status == "allowed_warning" and claim == "five_hour" else 0.3)
    if utilization_7d is None:
        utilization_7d = 1.0 if status == "rejected" and claim.startswith("seven_day") else (
            0.92 if status == "allowed_warning" and claim.startswith("seven_day") else 0.2)
    out["anthropic-ratelimit-unified-5h-utilization"] = _format_number(utilization_5h)
    out["anthropic-ratelimit-unified-7d-utilization"] = _format_number(utilization_7d)
    if status == "allowed_warning":
        out["anthropic-ratelimit-unified-5h-surpassed-threshold" if claim == "five_hour"
            else "anthropic-ratelimit-unified-7d-surpassed-threshold"] = "0.9"
    if overage_status is not None:
        out["anthropic-ratelimit-unified-overage-status"] = overage_status
    if overage_disabled_reason is not None:
        out["anthropic-ratelimit-unified-overage-disabled-reason"] = overage_disabled_reason
    return out


def usage_limit_error(reset: float | None = None, claim: str = "five_hour") -> ErrorTurn:
    """The 429 a subscriber gets when the plan's usage limit is exhausted."""
    return ErrorTurn(429, message="This request would exceed your account's rate limit. "
                                  "Please try again later.",
                     headers=unified_headers("rejected", reset=reset, claim=claim))


@dataclass
class Request:
    """One request the server received."""

    index: int
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    raw: bytes
    received_at: float
    route: str = "main"
    status: int | None = None  # what the server answered (None: no answer, e.g. a hang)
    answer: Answer | None = None

    @property
    def model(self) -> str:
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""

    @property
    def credential(self) -> str:
        """The key the client sent: ``x-api-key`` (a Console key) or the bearer token of
        ``authorization`` (a claude.ai subscriber's OAuth token); "" for neither."""
        auth = self.headers.get("authorization", "")
        return self.headers.get("x-api-key") or (auth[7:] if auth.lower().startswith(
            "bearer ") else "")

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        msgs = self.body.get("messages") if isinstance(self.body, dict) else None
        return list(msgs) if isinstance(msgs, list) else []

    @property
    def tool_names(self) -> list[str]:
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        if not isinstance(tools, list):
            return []
        return [str(t.get("name")) for t in tools if isinstance(t, dict)]

    def system_text(self) -> str:
        system = self.body.get("system") if isinstance(self.body, dict) else None
        if isinstance(system, str):
            return system
        if isinstance(system, list):
            return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        return ""

    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last user message."""
        for msg in reversed(self.messages):
            if msg.get("role") != "user":
                continue
            content = msg.get("content")
            if not isinstance(content, list):
                return []
            return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
        return []

    def first_user_text(self) -> str:
        """The text of the conversation's first user message (a subagent's is its prompt)."""
        for msg in self.messages:
            if msg.get("role") == "user":
                return _text_of(msg.get("content"))
        return ""

    def last_user_text(self) -> str:
        for msg in reversed(self.messages):
            if msg.get("role") == "user":
                return _text_of(msg.get("content"))
        return ""


Answer = Turn | ErrorTurn | Hang
# A script item: an answer, or a callable that builds one from the request.
ScriptItem = Turn | ErrorTurn | Hang | Callable[[Request], Answer]


@dataclass
class Route:
    """Requests for which ``match`` is true get answers from ``script`` (its last item repeats)."""

    name: str
    match: Callable[[Request], bool]
    script: list[ScriptItem]
    _next: int = 0

    def __post_init__(self) -> None:
        if not self.script:
            raise ValueError(f"route {self.name!r} needs at least one script item")

    def take(self) -> ScriptItem:
        item = self.script[min(self._next, len(self.script) - 1)]
        self._next += 1
        return item


# Tools only Claude Code's main loop and its subagents are given; side requests carry none.
AGENT_TOOLS = frozenset({"Bash", "Read", "Write", "Edit", "Agent", "Task", "Glob", "Grep"})


def from_claude_code(req: Request) -> bool:
    return (req.headers.get("x-app") == "cli"
            or req.headers.get("user-agent", "").startswith("claude-cli/"))


def side_request(req: Request) -> bool:
    """True for Claude Code's side requests (titles, quota probes, summaries, classifiers).

    The main loop and subagents send the agent tool list (Bash, Read, ...); side calls send no
    tool or a single structured-output one. Requests not from Claude Code never match.
    """
    if not isinstance(req.body, dict) or not from_claude_code(req):
        return False
    return not AGENT_TOOLS.intersection(req.tool_names) and len(req.tool_names) <= 1


SIDE_ANSWER = Turn(text="Stub side answer", usage=Usage(input_tokens=10, output_tokens=3))


def model_contains(part: str) -> Callable[[Request], bool]:
    """A route predicate: the requested model's name contains ``part`` (e.g. ``"haiku"``)."""
    return lambda req: part in req.model


def first_user_text_contains(needle: str) -> Callable[[Request], bool]:
    """A route predicate: the conversation started with a user message containing ``needle``
    (how a subagent's requests are told from the main loop's: its first message is its
    prompt)."""
    return lambda req: needle in req.first_user_text()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content
                         if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def estimate_tokens(body: Any) -> int:
    """A deterministic token estimate: a quarter of the JSON length of the prompt parts."""
    if not isinstance(body, dict):
        return 1
    parts = {k: body.get(k) for k in ("system", "messages", "tools") if k in body}
    return max(1, math.ceil(len(json.dumps(parts, sort_keys=True)) / 4))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a kept-alive connection is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StubServer:
    """The stub; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, script: Sequence[ScriptItem] = (), *, routes: Sequence[Route] = (),
                 default: ScriptItem | None = None, side_answers: bool = True) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.script: list[ScriptItem] = list(script)
        self._next = 0
        self.routes: list[Route] = list(routes)
        if side_answers:
            self.routes.append(Route("side", side_request, [SIDE_ANSWER]))
        self.default: ScriptItem = default if default is not None else Turn(
            text="(stub: script exhausted)", usage=Usage(input_tokens=1, output_tokens=1),
            repeat=True)
        self.requests: list[Request] = []
        self.billed: dict[str, Usage] = {}
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._connections: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        handler = _make_handler(self)
        server = _Server(("127.0.0.1", 0), handler)
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="anthropic-stub", daemon=True)
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
            open_connections = list(self._connections)
        for conn in open_connections:  # kept-alive and hanging connections: end them now
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

    # -- scripting ---------------------------------------------------------------------------

    def set_script(self, script: Sequence[ScriptItem]) -> None:
        with self._lock:
            self.script = list(script)
            self._next = 0

    def add(self, *items: ScriptItem) -> None:
        with self._lock:
            self.script.extend(items)

    def add_route(self, route: Route) -> None:
        """Routes added later are tried first (before the built-in side route)."""
        with self._lock:
            self.routes.insert(0, route)

    @property
    def remaining(self) -> int:
        with self._lock:
            return max(0, len(self.script) - self._next)

    # -- assertions --------------------------------------------------------------------------

    def messages_requests(self, route: str | None = "main") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"
                    and (route is None or r.route == route)]

    def total_billed(self) -> Usage:
        with self._lock:
            total = Usage(0, 0, 0, 0)
            for u in self.billed.values():
                total = total + u
            return total

    def wait_for(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate(requests)`` holds (re-checked after every request)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def wait_requests(self, n: int, timeout: float = 10.0, route: str | None = "main") -> bool:
        return self.wait_for(lambda reqs: sum(
            1 for r in reqs if r.path.split("?")[0] == "/v1/messages"
            and (route is None or r.route == route)) >= n, timeout)

    # -- internals ---------------------------------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Request:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._changed:
            req = Request(next(self._ids), method, path, headers, body, raw, time.time())
            self.requests.append(req)
            self._changed.notify_all()
            return req

    def _choose(self, req: Request) -> Answer:
        with self._lock:
            item: ScriptItem | None = None
            for route in self.routes:
                try:
                    hit = route.match(req)
                except (AttributeError, KeyError, IndexError, TypeError, ValueError):
                    # a predicate that cannot read this request does not match it
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
        answer = item(req) if callable(item) else item
        req.answer = answer
        return answer

    def _bill(self, model: str, usage: Usage) -> None:
        with self._lock:
            self.billed[model] = self.billed.get(model, Usage(0, 0, 0, 0)) + usage

    def _answered(self, req: Request, status: int) -> None:
        with self._changed:
            req.status = status
            self._changed.notify_all()

    def _sleep(self, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: until the server stops) unless the server stops first;
        False if it stopped."""
        if seconds is None:
            self._stopping.wait()
            return False
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _content_json(turn: Turn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in turn.all_blocks():
        if isinstance(block, ToolUse):
            out.append({"type": "tool_use", "id": block.id or _new_id("toolu_stub"),
                        "name": block.name, "input": dict(block.input)})
        else:
            out.append({"type": "text", "text": block})
    return out


def _make_handler(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "anthropic-stub/1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def setup(self) -> None:
            super().setup()
            stub._track(self.connection, True)

        def finish(self) -> None:
            stub._track(self.connection, False)
            with contextlib.suppress(OSError):
                super().finish()

        def _read_body(self) -> bytes:
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] = {},
                       req: Request | None = None) -> None:
            data = json.dumps(obj).encode()
            if req is not None:  # recorded before the client can see the answer
                stub._answered(req, status)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", _new_id("req_stub"))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_HEAD(self) -> None:
            self._handle("HEAD")

        def _handle(self, method: str) -> None:
            raw = self._read_body() if method == "POST" else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            req = stub._record(method, self.path, headers, raw)
            path = self.path.split("?")[0]
            try:
                if method == "POST" and path == "/v1/messages":
                    self._messages(req)
                elif method == "POST" and path == "/v1/messages/count_tokens":
                    self._send_json(200, {"input_tokens": estimate_tokens(req.body)}, req=req)
                else:
                    self._send_json(404, ErrorTurn(404, message=f"stub: no route {method} {path}")
                                    .body(_new_id("req_stub")), req=req)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _messages(self, req: Request) -> None:
            if not isinstance(req.body, dict):
                self._send_json(400, ErrorTurn(400, message="stub: body is not JSON")
                                .body(_new_id("req_stub")), req=req)
                return
            answer = stub._choose(req)
            if isinstance(answer, Hang):
                stub._sleep(answer.seconds)
                self.close_connection = True
                return
            if not stub._sleep(answer.delay):
                self.close_connection = True
                return
            if isinstance(answer, ErrorTurn):
                if answer.stream_after_text is not None and req.stream:
                    self._stream_error(req, answer)
                else:
                    self._send_json(answer.status, answer.body(_new_id("req_stub")),
                                    answer.all_headers(), req=req)
                return
            model = answer.model or req.model or DEFAULT_MODEL
            message = {
                "id": _new_id("msg_stub"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": _content_json(answer),
                "stop_reason": answer.effective_stop_reason(),
                "stop_sequence": None,
                "usage": answer.usage.as_json(),
            }
            stub._bill(model, answer.usage)
            if req.stream:
                self._stream(req, answer, message)
            else:
                self._send_json(200, message, answer.headers, req=req)

        def _start_stream(self, req: Request, headers: Mapping[str, str]) -> None:
            stub._answered(req, 200)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("cache-control", "no-cache")
            self.send_header("request-id", _new_id("req_stub"))
            for k, v in headers.items():
                self.send_header(k, v)
            # No content-length: the stream ends when the server closes the connection.
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True

        def _event(self, name: str, data: Mapping[str, Any], pause: float = 0.0) -> None:
            if pause > 0:
                stub._sleep(pause)
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def _stream(self, req: Request, turn: Turn, message: dict[str, Any]) -> None:
            pause = turn.chunk_delay
            self._start_stream(req, turn.headers)
            usage = turn.usage.as_json()
            start_usage = dict(usage, output_tokens=min(1, turn.usage.output_tokens))
            self._event("message_start", {"type": "message_start", "message": dict(
                message, content=[], stop_reason=None, usage=start_usage)})
            self._event("ping", {"type": "ping"})
            for index, block in enumerate(message["content"]):
                if block["type"] == "text":
                    self._event("content_block_start", {
                        "type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}}, pause)
                    text = str(block["text"])
                    for piece in _chunks(text, 24):
                        self._event("content_block_delta", {
                            "type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": piece}}, pause)
                else:
                    self._event("content_block_start", {
                        "type": "content_block_start", "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"],
                                          "name": block["name"], "input": {}}}, pause)
                    for piece in _chunks(json.dumps(block["input"]), 32):
                        self._event("content_block_delta", {
                            "type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece}}, pause)
                self._event("content_block_stop", {"type": "content_block_stop", "index": index})
            self._event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": usage}, pause)
            self._event("message_stop", {"type": "message_stop"})

        def _stream_error(self, req: Request, err: ErrorTurn) -> None:
            self._start_stream(req, err.all_headers())
            message: dict[str, Any] = {
                "id": _new_id("msg_stub"), "type": "message", "role": "assistant",
                "model": req.model or DEFAULT_MODEL, "content": [], "stop_reason": None,
                "stop_sequence": None, "usage": Usage(output_tokens=1).as_json()}
            self._event("message_start", {"type": "message_start", "message": message})
            self._event("content_block_start", {"type": "content_block_start", "index": 0,
                                                "content_block": {"type": "text", "text": ""}})
            self._event("content_block_delta", {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": err.stream_after_text or ""}})
            self._event("error", err.body(_new_id("req_stub")))

    return Handler


def _chunks(text: str, size: int) -> Iterator[str]:
    if not text:
        yield ""
        return
    for i in range(0, len(text), size):
        yield text[i:i + size]


@pytest.fixture
def anthropic_stub() -> Iterator[StubServer]:
    """A started :class:`StubServer` with an empty script; stopped after the test."""
    stub = StubServer().start()
    try:
        yield stub
    finally:
        stub.stop()
