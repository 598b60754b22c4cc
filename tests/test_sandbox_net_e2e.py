"""The box's network with the real Claude Code CLI, run by the supervisor against the local API
stand-in. With ``network = "api"`` the CLI does its whole task through the wrapper's proxy
(every request it makes arrives there), while its Bash tool's tries to reach another local
service, or the stand-in around the proxy, fail and the proxy's refusal is an event and an
alert. With ``"none"`` the CLI cannot reach its API at all."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.engine.sandbox.probe import probe
from tests.anthropic_stub import Request, StubServer, ToolUse, Turn, Usage
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import claude, claude_config, prompt_paths, route, steps_done, worker

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().why}")]
_ = claude  # the fixture

U = Usage(input_tokens=400, output_tokens=30, cache_read_input_tokens=1000)


@pytest.fixture
def other_service() -> Iterator[socket.socket]:
    """A service of this machine's on 127.0.0.1 that no agent may reach."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        s.settimeout(0.1)
        yield s


def escapes(stub_port: int, other_port: int) -> Any:
    direct = (f"{sys.executable} -c \"import socket; socket.create_connection(('127.0.0.1', "
              "{port}), timeout=5); print('REACHED')\" 2>&1 | tail -1")
    tries = "; ".join([
        f"curl -sS -m 10 -o /dev/null -w 'VIA-PROXY %{{http_code}}\\n' "
        f"http://127.0.0.1:{other_port}/",
        direct.format(port=other_port),
        direct.format(port=stub_port),
        f"curl -sS -m 5 --noproxy '*' http://127.0.0.1:{stub_port}/ || echo AROUND-REFUSED",
    ])

    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        plan = [
            ToolUse("Bash", {"command": tries, "description": "reach out"}),
            ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                "status": "done", "summary": "only the API was there"})}),
        ]
        step = steps_done(req)
        return Turn(tool_uses=[plan[step]], usage=U) if step < len(plan) else Turn(
            text="Done.", usage=U)

    return answer


def boxed(cfg: Any, network: str, **sandbox: Any) -> Any:
    agent = cfg.agents["claude"]
    cfg.agents["claude"] = agent.model_copy(update={"sandbox": agent.sandbox.model_copy(
        update={"mode": "bwrap", "network": network, **sandbox})})
    return cfg


class TlsFront:
    """HTTPS in front of the stand-in, with a certificate for ``localhost`` made here: what
    the CLI meets at api.anthropic.com, as far as a machine without the internet can."""

    def __init__(self, backend: int, folder: Path) -> None:
        folder.mkdir()
        self.cert = folder / "cert.pem"
        key = folder / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(key), "-out", str(self.cert), "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"], check=True,
                       capture_output=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.backend = backend
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.handshakes = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
                tls = self.ctx.wrap_socket(conn, server_side=True)
            except OSError:
                if self.sock.fileno() < 0:
                    return
                continue
            self.handshakes += 1
            back = socket.create_connection(("127.0.0.1", self.backend))
            for a, b in ((tls, back), (back, tls)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_with_network_api_the_cli_works_through_the_proxy_and_nothing_else_gets_out(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer, other_service: socket.socket) -> None:
    other_port = other_service.getsockname()[1]
    anthropic_stub.add_route(route("net", escapes(anthropic_stub.port, other_port)))
    cfg = boxed(claude_config(claude, anthropic_stub, tmp_path / "home",
                              permissions={"mode": "bypassPermissions", "ask": False}), "api")
    f = start(fleets, git_repo, cfg, [task("net", "claude")])
    assert f.wait_done(timeout=240), f.summary()
    assert f.state_of("net") == "passed", f.summary()
    # Every request the CLI made came through the proxy: it sends each one on as a single
    # request, and says so to the server.
    assert len(anthropic_stub.requests) >= 3
    assert {r.headers.get("connection") for r in anthropic_stub.requests} == {"close"}
    outputs = " ".join(json.dumps(r) for req in anthropic_stub.requests
                       for r in req.tool_results())
    assert "VIA-PROXY 403" in outputs and "AROUND-REFUSED" in outputs, outputs
    assert outputs.count("ConnectionRefusedError") == 2 and "REACHED" not in outputs, outputs
    with pytest.raises(TimeoutError):
        other_service.accept()
    # The refusal is an event of the attempt and an alert.
    refused = f.of("net_refused", "net")
    assert [(e.data["host"], e.data["port"], e.attempt) for e in refused] == [
        ("127.0.0.1", other_port, 1)], [e.data for e in refused]
    alerts = [a.text for a in f.sup.state.alerts.values()]
    assert any(f"net-1 tried to reach 127.0.0.1:{other_port}" in t for t in alerts), alerts


def test_with_network_none_the_cli_cannot_reach_its_api(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("cut", Turn(text="unreachable", usage=U)))
    cfg = boxed(claude_config(claude, anthropic_stub, tmp_path / "home", max_retries=0,
                              permissions={"mode": "bypassPermissions", "ask": False}), "none")
    f = start(fleets, git_repo, cfg, [task("cut", "claude")])
    exited = f.wait_kind("agent_exited", "cut", timeout=120)
    assert exited.attempt == 1
    # The CLI ran in its box and said why it could not work: its API refused the connection.
    assert exited.data["outcome"]["api_error"] == "connection_failed", exited.data
    f.stop()
    assert anthropic_stub.requests == [], [r.path for r in anthropic_stub.requests]
    assert not (P.agent_dir(git_repo, "cut", 1) / P.RESULTS_FILE).exists()
    assert f.of("net_refused") == []  # no proxy: nothing to refuse, nothing got out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the certificate")
def test_an_https_api_is_reached_through_a_connect_tunnel(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    """The CLI asks the proxy for ``CONNECT localhost:PORT`` (it leaves the name to the proxy:
    the box has no resolver) and talks TLS through the tunnel to the API, as in real use."""
    front = TlsFront(anthropic_stub.port, tmp_path / "tls")
    anthropic_stub.add_route(route("tls", worker("tls")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    agent = cfg.agents["claude"]
    cfg.agents["claude"] = agent.model_copy(update={"env": {
        **agent.env, "ANTHROPIC_BASE_URL": f"https://localhost:{front.port}",
        "NODE_EXTRA_CA_CERTS": str(front.cert)}})
    cfg = boxed(cfg, "api", read=[str(front.cert.parent)])
    f = start(fleets, git_repo, cfg, [task("tls", "claude")])
    try:
        assert f.wait_done(timeout=240), f.summary()
    finally:
        front.sock.close()
    assert f.state_of("tls") == "passed", f.summary()
    assert front.handshakes >= 1 and len(anthropic_stub.requests) >= 5
    # Through a tunnel the proxy sends nothing of its own: the requests are the CLI's own.
    assert "close" not in {r.headers.get("connection") for r in anthropic_stub.requests}
    assert f.of("net_refused") == []
