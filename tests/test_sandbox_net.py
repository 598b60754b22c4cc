"""The box's network with the real parts: bubblewrap, a git worktree, the API stand-in on
127.0.0.1 and another local listener beside it. With ``network = "api"`` the only way out is
the wrapper's proxy, and it goes only to the API; with ``"none"`` nothing goes out at all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.engine.sandbox.probe import probe
from tests.anthropic_stub import StubServer
from tests.test_sandbox import Attempt

pytestmark = pytest.mark.skipif(not probe().ok and not os.environ.get("CI"),
                                reason=f"no sandbox here: {probe().why}")

ASK = ("{\"model\": \"m\", \"max_tokens\": 5, \"messages\": [{\"role\": \"user\", \"content\": "
       "\"hi\"}]}")


def boxed(repo: Path, home: Path, task: str, network: str, signals: list[dict[str, Any]],
          **sandbox: Any) -> Attempt:
    a = Attempt(repo, task, 1, home, network=network, **sandbox)
    a.box.record = signals.extend
    return a


def test_api_mode_reaches_the_api_through_the_proxy_and_nothing_else(
        git_repo: Path, tmp_path: Path, anthropic_stub: StubServer) -> None:
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    stub = anthropic_stub.base_url.rstrip("/")
    stub_port = stub.rsplit(":", 1)[1]
    signals: list[dict[str, Any]] = []
    a = boxed(git_repo, tmp_path / "home", "a", "api", signals)
    a.env["ANTHROPIC_BASE_URL"] = stub
    with socket.create_server(("127.0.0.1", 0)) as other:  # a service of this machine's
        other_port = other.getsockname()[1]
        direct = (f"{sys.executable} -c \"import socket; socket.create_connection(("
                  "'127.0.0.1', {port}), timeout=5); print('REACHED {port}')\" 2>&1 | tail -1")
        try:
            done = a.sh(
                f"curl -sS -m 10 -X POST {stub}/v1/messages -d '{ASK}'; echo; "
                f"curl -sS -m 10 -o /dev/null -w 'other %{{http_code}}\\n' "
                f"http://127.0.0.1:{other_port}/; "
                "curl -sS -m 10 -o /dev/null https://example.com/ || echo HTTPS-REFUSED; "
                f"{direct.format(port=stub_port)}; {direct.format(port=other_port)}; "
                f"curl -sS -m 5 --noproxy '*' {stub}/v1/messages || echo BYPASS-REFUSED")
            other.settimeout(0.1)
            with pytest.raises(TimeoutError):
                other.accept()  # nothing reached it, through the proxy or around it
        finally:
            a.box.close()
    out = done.stdout
    assert '"type": "message"' in out, (out, done.stderr)  # the API answered, via the proxy
    assert [r.path for r in anthropic_stub.requests] == ["/v1/messages"]
    assert "other 403" in out and "HTTPS-REFUSED" in out and "BYPASS-REFUSED" in out, out
    assert "REACHED" not in out and out.count("ConnectionRefusedError") == 2, out
    # The refusals the proxy saw are recorded, each once; the bypasses never reached it.
    assert sorted((s["kind"], s["host"], s["port"]) for s in signals) == [
        ("net_refused", "127.0.0.1", other_port), ("net_refused", "example.com", 443)]


def test_api_hosts_listed_in_the_config_are_reachable_too(
        git_repo: Path, tmp_path: Path, anthropic_stub: StubServer) -> None:
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    port = anthropic_stub.base_url.rstrip("/").rsplit(":", 1)[1]
    signals: list[dict[str, Any]] = []
    # A generic agent: no API of its own, only what is listed.
    a = boxed(git_repo, tmp_path / "home", "g", "api", signals,
              api_hosts=[f"127.0.0.1:{port}"])
    try:
        done = a.sh(f"curl -sS -m 10 -X POST http://127.0.0.1:{port}/v1/messages -d '{ASK}'",
                    adapter="generic")
    finally:
        a.box.close()
    assert '"type": "message"' in done.stdout, (done.stdout, done.stderr)
    assert signals == []


def test_network_none_lets_nothing_out_not_even_to_the_api(
        git_repo: Path, tmp_path: Path, anthropic_stub: StubServer) -> None:
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    stub = anthropic_stub.base_url.rstrip("/")
    signals: list[dict[str, Any]] = []
    a = boxed(git_repo, tmp_path / "home", "n", "none", signals)
    a.env["ANTHROPIC_BASE_URL"] = stub
    try:
        done = a.sh("env | grep -ci _proxy; "
                    f"curl -sS -m 5 -X POST {stub}/v1/messages -d '{ASK}' || echo NONE-REFUSED")
    finally:
        a.box.close()
    assert done.stdout.split() == ["0", "NONE-REFUSED"], (done.stdout, done.stderr)
    assert anthropic_stub.requests == [] and signals == []


def test_doctor_makes_an_api_box_for_the_agents_that_ask_for_one(git_repo: Path,
                                                                 tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[agents.claude]\ncommand = ["claude", "-p"]\nadapter = "claude"\n'
                   '[agents.claude.sandbox]\nnetwork = "api"\napi_hosts = ["llm.internal"]\n')
    done = subprocess.run([sys.executable, "-P", "-m", "swarmtui", "doctor", "--json",
                           "--repo", str(git_repo), "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SWARMTUI_TMUX_SOCKET": str(tmp_path / "tmux")})
    checks = {c["what"]: c for c in json.loads(done.stdout)["checks"]}
    net = checks["sandbox network"]
    assert net["level"] == "ok", net
    assert net["detail"].startswith('network = "api" for claude: the API proxy works (')


@pytest.mark.parametrize("network", ["api", "none"])
def test_the_supervisors_channel_still_answers_without_the_network(
        git_repo: Path, tmp_path: Path, network: str) -> None:
    """The channel is a Unix socket by path: a box with a network of its own keeps it."""
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    a = boxed(git_repo, tmp_path / "home", "c", network, [])
    try:
        done = a.sh(f"{sys.executable} -P -c \"import os; from swarmtui.engine.sandbox.channel "
                    "import ask; print(ask(os.environ['SWARMTUI_AGENT_SOCKET'], 'hello', {}))\"")
    finally:
        a.box.close()
    assert "'hello' is not something an agent asks" in done.stdout, (done.stdout, done.stderr)


def test_the_machines_abstract_unix_sockets_are_cut_off_with_a_network_of_its_own(
        git_repo: Path, tmp_path: Path) -> None:
    """Abstract Unix sockets (a desktop's D-Bus or X server, say) belong to a network
    namespace: shared with "full", not there with "api" or "none"."""
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    name = f"swarmtui-test-{os.getpid()}-{tmp_path.name}"
    probe_py = (f"{sys.executable} -c \"import socket; c = socket.socket(socket.AF_UNIX); "
                f"c.connect(chr(0) + '{name}'); print('REACHED')\" 2>&1 | tail -1")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("\0" + name)
        s.listen(4)
        seen = {}
        for network in ("full", "api", "none"):
            a = boxed(git_repo, tmp_path / f"home-{network}", f"u{network}", network, [])
            try:
                seen[network] = a.sh(probe_py).stdout.strip()
            finally:
                a.box.close()
    assert seen["full"] == "REACHED", seen
    assert all("ConnectionRefusedError" in seen[n] for n in ("api", "none")), seen
