"""The proxy of a ``network = "api"`` box (``engine/sandbox/egress.py``) with real sockets on
127.0.0.1: what it lets through, what it refuses and records, the box's port handed over as a
file descriptor, and where the allowed hosts come from. No bubblewrap here (test_sandbox_net.py
has the box itself)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from swarmtui.config import config_from_dict
from swarmtui.engine.sandbox import egress, netport
from swarmtui.engine.sandbox.apihosts import api_hosts
from swarmtui.engine.sandbox.egress import Egress
from swarmtui.errors import SwarmError
from swarmtui.netaddr import host_port, url_host_port
from tests.waiting import wait_until


class Upstream:
    """A real HTTP server on 127.0.0.1 that says what it was asked, and records it."""

    def __init__(self) -> None:
        self.heads: list[dict[str, Any]] = []
        seen = self.heads

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append({"path": self.path, "headers": dict(self.headers)})
                body = f"upstream saw {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    u = Upstream()
    yield u
    u.close()


class Proxy:
    """An Egress serving a listening socket of the test's own, its signals collected."""

    def __init__(self, allowed: list[tuple[str, int]]) -> None:
        self.signals: list[dict[str, Any]] = []
        self.egress = Egress(allowed, self.signals.extend)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.egress.serve(self.listener)

    def ask(self, request: bytes) -> bytes:
        """One request over a fresh connection; everything the proxy sent back."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as c:
            c.sendall(request)
            return _read_all(c)


def _read_all(c: socket.socket) -> bytes:
    out = b""
    while chunk := c.recv(65536):
        out += chunk
    return out


@pytest.fixture
def proxy_for(upstream: Upstream) -> Iterator[Any]:
    made: list[Proxy] = []

    def make(*extra: tuple[str, int]) -> Proxy:
        made.append(Proxy([("127.0.0.1", upstream.port), *extra]))
        return made[-1]

    yield make
    for p in made:
        p.egress.close()


def test_connect_to_an_allowed_host_is_a_tunnel(upstream: Upstream, proxy_for: Any) -> None:
    p = proxy_for()
    with socket.create_connection(("127.0.0.1", p.port), timeout=10) as c:
        c.sendall(f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
        # Whatever goes through the tunnel is the far side's business (TLS, in real use).
        c.sendall(b"GET /through HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_all(c)
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"upstream saw /through")
    assert p.signals == [] and p.egress.refused == {}


def test_an_http_url_is_sent_on_as_one_request_without_proxy_headers(
        upstream: Upstream, proxy_for: Any) -> None:
    p = proxy_for()
    answer = p.ask(f"GET http://127.0.0.1:{upstream.port}/v1/messages?beta=true HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{upstream.port}\r\nProxy-Authorization: Basic c2VjcmV0\r\n"
                   "Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 200"), answer
    assert answer.endswith(b"upstream saw /v1/messages?beta=true")
    head = upstream.heads[-1]["headers"]
    assert upstream.heads[-1]["path"] == "/v1/messages?beta=true"
    assert head["Connection"] == "close"
    assert not any(k.lower().startswith("proxy-") for k in head), head


@pytest.mark.parametrize(("request_text", "status", "target"), [
    ("CONNECT example.com:443 HTTP/1.1\r\n\r\n", b"403", ("example.com", 443)),
    ("GET http://127.0.0.1:{other}/ HTTP/1.1\r\nHost: x\r\n\r\n", b"403", ("127.0.0.1", 0)),
    ("CONNECT 127.0.0.1:{other} HTTP/1.1\r\n\r\n", b"403", ("127.0.0.1", 0)),
    ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400", None),
    ("CONNECT api.anthropic.com HTTP/1.1\r\n\r\n", b"400", None),
    ("not http at all\r\n\r\n", b"400", None),
])
def test_anything_else_is_refused_and_recorded_once(
        upstream: Upstream, proxy_for: Any, request_text: str, status: bytes,
        target: tuple[str, int] | None) -> None:
    p = proxy_for()
    # Another real listener: reachable on this machine, but not an API host.
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = int(other.getsockname()[1])
        req = request_text.replace("{other}", str(port)).encode()
        for _ in range(3):
            answer = p.ask(req)
            assert answer.startswith(b"HTTP/1.1 " + status), answer
        other.settimeout(0.2)
        with pytest.raises(TimeoutError):
            other.accept()  # nothing was let through to it
    assert len(p.signals) == 1, p.signals  # three refusals, one line
    sig = p.signals[0]
    assert sig["kind"] == "net_refused"
    if target is not None:
        assert (sig["host"], sig["port"]) == (target[0], target[1] or port)
        assert list(p.egress.refused.values()) == [3]
    assert b"swarmtui sandbox" in answer


def test_refusals_are_recorded_up_to_a_bound(proxy_for: Any) -> None:
    p = proxy_for()
    for i in range(egress.RECORDED_MAX + 10):
        assert p.ask(f"CONNECT host{i}.invalid:443 HTTP/1.1\r\n\r\n".encode()).startswith(
            b"HTTP/1.1 403")
    assert len(p.signals) == egress.RECORDED_MAX + 1
    assert "not recorded" in p.signals[-1]["why"]
    assert len(p.egress.refused) == egress.RECORDED_MAX + 10


def test_the_boxs_port_is_taken_over_by_file_descriptor(upstream: Upstream,
                                                        tmp_path: Path) -> None:
    """What netport.py does in the box, done here: its listening socket reaches the proxy
    over the hand-over socket, which is gone afterwards; the port it reports is served."""
    proxy = Egress([("127.0.0.1", upstream.port)])
    handoff = tmp_path / "net.sock"
    proxy.take(handoff)
    try:
        port = netport.hand_over(str(handoff))
        wait_until(lambda: not handoff.exists(), 10, "the hand-over socket removed")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(f"GET http://127.0.0.1:{upstream.port}/fd HTTP/1.1\r\nHost: x\r\n\r\n"
                      .encode())
            assert _read_all(c).endswith(b"upstream saw /fd")
        env = netport.proxy_env({"NO_PROXY": "*", "no_proxy": "*", "KEEP": "1"}, port)
        assert env["HTTPS_PROXY"] == env["http_proxy"] == f"http://127.0.0.1:{port}"
        assert "NO_PROXY" not in env and "no_proxy" not in env and env["KEEP"] == "1"
    finally:
        proxy.close()


def test_a_hand_over_of_anything_but_a_listening_socket_is_refused(tmp_path: Path) -> None:
    proxy = Egress([])
    handoff = tmp_path / "net.sock"
    proxy.take(handoff)
    try:
        a, b = socket.socketpair()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c, a, b:
            c.settimeout(10)
            c.connect(str(handoff))
            socket.send_fds(c, [b"port\n"], [a.fileno()])
            assert c.recv(256) != netport.OK
    finally:
        proxy.close()


def test_closing_ends_live_tunnels(upstream: Upstream) -> None:
    p = Proxy([("127.0.0.1", upstream.port)])
    c = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    with c:
        c.sendall(f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\n\r\n".encode())
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
        p.egress.close()
        assert c.recv(4096) == b""  # the proxy's end is gone
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p.port), timeout=2).close()


# -- where the allowed hosts come from ------------------------------------------------------

def test_the_api_hosts_follow_the_agents_environment() -> None:
    assert api_hosts("claude", {}, []) == [("api.anthropic.com", 443)]
    assert api_hosts("claude", {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8081/x"},
                     ["Proxy.Example.com.", "10.0.0.5:8443"]) == [
        ("127.0.0.1", 8081), ("proxy.example.com", 443), ("10.0.0.5", 8443)]
    assert api_hosts("codex", {}, []) == [("api.openai.com", 443)]
    assert api_hosts("gemini", {}, []) == [("generativelanguage.googleapis.com", 443)]
    assert api_hosts("generic", {}, []) == []  # only what the config lists
    assert api_hosts("opencode", {"OPENAI_BASE_URL": "https://llm.internal:9000/v1"}, []) == [
        ("llm.internal", 9000)]
    assert api_hosts("claude", {"ANTHROPIC_BASE_URL": "ftp://x"}, []) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("api.anthropic.com", ("api.anthropic.com", 443)), ("[::1]:8443", ("::1", 8443)),
    ("127.0.0.1:80", ("127.0.0.1", 80)), ("x:0", None), ("a b", None), ("h:", None),
    ("*.example.com", None)])
def test_host_and_port_are_read_strictly(text: str, expected: tuple[str, int] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            host_port(text)
    else:
        assert host_port(text) == expected
    assert url_host_port("HTTP://LOCALHOST") == ("localhost", 80)


@pytest.mark.parametrize(("sandbox", "message"), [
    ({"network": "API"}, 'key `agents.w.sandbox.network`: expected one of "full", "none", '
                         '"api", got \'API\''),
    ({"network": "api", "api_hosts": ["a b"]}, "key `agents.w.sandbox.api_hosts`: 'a b' is "
                                               "not a host name or an IP address; expected"),
    ({"network": "api", "api_hosts": ["h:99999"]}, "the port must be a number from 1 to 65535"),
    ({"network": "none", "api_hosts": ["a.b"]},
     'key `agents.w.sandbox.api_hosts`: takes effect only with network = "api", and network '
     'is "none"'),
])
def test_bad_network_settings_name_the_key(sandbox: dict[str, Any], message: str) -> None:
    with pytest.raises(SwarmError) as e:
        config_from_dict({"agents": {"w": {"command": ["x"], "sandbox": sandbox}}}, "t.toml")
    assert message in str(e.value)
    ok = config_from_dict({"agents": {"w": {"command": ["x"], "sandbox": {
        "network": "api", "api_hosts": ["llm.internal:9000"]}}}}, "t.toml")
    assert ok.agents["w"].sandbox.api_hosts == ["llm.internal:9000"]


def test_a_refusal_is_one_alert_per_task_that_counts_repeats() -> None:
    """What the supervisor makes of the signal (pure): an alert naming the host, or the
    proxy's reason when the request named none; a later refusal adds to it and says what
    was refused last."""
    from swarmtui.model import Event, RunState
    from swarmtui.model.alerts import fold_alerts

    run = RunState()
    fold_alerts(run, Event.make(1, 1.0, "net_refused", "t", 2,
                                {"host": "example.com", "port": 443, "why": "not an API host"}))
    assert [a.text for a in run.alerts.values()] == [
        "t-2 tried to reach example.com:443, not its API: the sandbox refused it"]
    fold_alerts(run, Event.make(2, 2.0, "net_refused", "t", 2, {"why": "GET /: only CONNECT"}))
    (alert,) = run.alerts.values()
    assert alert.count == 2
    assert alert.text == "t-2: the sandbox's API proxy refused a connection: GET /: only CONNECT"
