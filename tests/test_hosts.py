"""[[hosts]]: the config, placement, a host that refuses SSH, the mirror's hostile input, and
the ``hosts`` and ``doctor`` commands against real sshd hosts."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config import config_from_dict
from swarmtui.engine.runners.hosts import HostsRunner, HostStatus
from swarmtui.engine.runners.placement import Candidate, place
from swarmtui.engine.runners.sshmirror import MirrorLink, ProtocolError
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.runtime.ssh import SshHost
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.errors import ConfigError
from tests.sshd import HostFactory, SshdHost
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture
from tests.waiting import wait_until

HOST_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
SWARMTUI = [sys.executable, "-m", "swarmtui"]


def entry(host: SshdHost, **kw: object) -> dict[str, object]:
    return {"name": host.name, "ssh": host.alias, "ssh_config": str(host.ssh_config),
            "slots": 2, "python": sys.executable, "connect_timeout": "2s",
            "lost_after": "1s", **kw}


def write_hosts_config(path: Path, hosts: list[dict[str, object]]) -> Path:
    lines = []
    for h in hosts:
        lines.append("[[hosts]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in h.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- config --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hosts", "message"), [
    ([{"name": "a"}], "key `hosts[0].ssh`: host 'a' needs an ssh destination"),
    ([{"name": "local", "ssh": "x"}], "key `hosts[0].ssh`: the host named `local` is this"),
    ([{"name": "a", "ssh": "-oProxyCommand=x"}], "key `hosts[0].ssh`: expected an ssh dest"),
    ([{"name": "a", "ssh": "a", "slots": -1}], "key `hosts[0].slots`: expected an integer"),
    ([{"name": "a", "ssh": "a", "ssh_options": ["ControlPath=/x"]}],
     "key `hosts[0].ssh_options[0]`: ControlPath is set by swarmtui itself"),
    ([{"name": "a", "ssh": "a"}, {"name": "a", "ssh": "b"}],
     "key `hosts[1].name`: host 'a' is named twice"),
    ([{"name": "a", "ssh": "a", "roles": ["nope"]}],
     "key `hosts[0].roles[0]`: expected a role from [slots.pools]"),
    ([{"name": "a b", "ssh": "a"}], "key `hosts[0].name`: expected a host name"),
    ([{"name": "a", "ssh": "a", "slot": 2}], "hosts[0].slot"),
])
def test_hosts_config_errors_name_the_file_and_key(hosts: list[dict[str, object]],
                                                  message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"hosts": hosts}, "my.toml")
    assert str(info.value).startswith("my.toml: ")
    assert message in str(info.value)


def test_hosts_config_reads_a_file(tmp_path: Path) -> None:
    from swarmtui.config import load_config_file

    path = write_hosts_config(tmp_path / "c.toml", [
        {"name": "local", "slots": 1},
        {"name": "build1", "ssh": "me@build1", "slots": 3, "roles": ["worker"],
         "ssh_options": ["Port=2222"], "lost_after": "30s"}])
    cfg = load_config_file(path)
    assert [h.name for h in cfg.hosts] == ["local", "build1"]
    assert cfg.hosts[1].lost_after == 30.0 and cfg.hosts[1].workdir == "swarmtui"


# -- placement (pure) ---------------------------------------------------------------------------

def test_placement_prefers_a_clone_then_free_slots_then_config_order() -> None:
    hosts = [Candidate("local", 1), Candidate("a", 2, has_clone=False), Candidate("b", 2),
             Candidate("c", 3, roles=("resolver",)), Candidate("d", 9, reachable=False)]
    assert place(hosts, "worker", {}) == "b"  # a clone, and more free slots than local
    assert place(hosts, "worker", {"b": 2}) == "local"
    assert place(hosts, "worker", {"b": 2, "local": 1}) == "a"  # no clone yet, but free
    assert place(hosts, "worker", {"b": 2, "local": 1, "a": 2}) is None  # d is unreachable
    assert place(hosts, "resolver", {"b": 2, "local": 1, "a": 2}) == "c"


# -- a host that refuses SSH ------------------------------------------------------------------

def test_a_host_refusing_ssh_is_shown_with_the_reason_and_gets_no_work(
        git_repo: Path, ssh_hosts: HostFactory, tmux_socket: str) -> None:
    good, bad = ssh_hosts(2, env={"PATH": HOST_PATH})
    bad.refuse()
    cfg = config_from_dict({"hosts": [{"name": "local", "slots": 0}, entry(good),
                                      entry(bad)]}, "test")
    (git_repo / P.SWARM_DIR).mkdir()
    runner = HostsRunner.from_config(git_repo, cfg, Tmux(session_name_for(git_repo)),
                                     Git(git_repo))
    try:
        states: dict[str, HostStatus] = {}

        def settled() -> bool:
            runner.snapshot()
            states.update((s.name, s) for s in runner.status())
            return states["hostA"].state == "up" and states["hostB"].state == "unreachable"

        wait_until(settled, 20, "hostA up and hostB unreachable", interval=0.1,
                   seen=lambda: states)
        a, b = states["hostA"], states["hostB"]
        assert a.state == "up" and b.state == "unreachable", (a, b)
        assert "refused" in b.reason
        assert [runner.place("worker", {}) for _ in range(3)] == ["hostA"] * 3
        assert runner.place("worker", {"hostA": 2}) is None  # full, and local takes none
        runner.write_status()
        view = json.loads((git_repo / P.SWARM_DIR / "hosts.json").read_text())
        assert {h["name"]: h["state"] for h in view["hosts"]} == {
            "local": "up", "hostA": "up", "hostB": "unreachable"}
    finally:
        runner.close()


# -- the mirror's input is hostile ----------------------------------------------------------

def test_the_mirror_writes_only_watched_protocol_files_and_never_through_a_link(
        tmp_path: Path) -> None:
    swarm = tmp_path / ".swarm"
    (swarm / "agents" / "t-1").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_text("keep me\n")
    os.symlink(secret, swarm / "agents" / "t-1" / P.PROGRESS_FILE)
    host = SshHost("nowhere", control_dir=Path("/tmp/swarmtui-test-unused"))  # never used
    link = MirrorLink(host, name="h", local_swarm=swarm, session="s", argv=list,
                      before_whole=lambda aid, name: True)
    link.watched.add("t-1")

    def frame(**kw: object) -> dict[str, object]:
        return {"k": "f", "a": "t-1", "o": 0, **kw}

    data = base64.b64encode(b"line\n").decode()
    with pytest.raises(OSError):  # ELOOP: the link is not followed
        link._apply(frame(n=P.PROGRESS_FILE, d=data))
    assert secret.read_text() == "keep me\n"
    for bad in (frame(n="../../secret", d=data), frame(n="launch.json", d=data, w=True),
                frame(n=P.SIGNALS_FILE, d="not base64!"), frame(n=P.SIGNALS_FILE, d=data, o=-1),
                {"k": "f", "a": "../x", "n": P.SIGNALS_FILE, "o": 0, "d": data},
                {"k": "nope"}, ["not", "an", "object"]):
        with pytest.raises(ProtocolError):
            link._apply(bad)
    link._apply({"k": "f", "a": "t-2", "n": P.SIGNALS_FILE, "o": 0, "d": data})  # not watched
    assert not (swarm / "agents" / "t-2").exists()
    link._apply(frame(n=P.SIGNALS_FILE, d=data))
    with pytest.raises(ProtocolError):  # a gap: bytes from beyond what is here
        link._apply(frame(n=P.SIGNALS_FILE, d=data, o=100))
    link._apply(frame(n=P.RESULTS_FILE, d=base64.b64encode(b"{}").decode(), w=True))
    assert (swarm / "agents" / "t-1" / P.SIGNALS_FILE).read_bytes() == b"line\n"
    assert (swarm / "agents" / "t-1" / P.RESULTS_FILE).read_bytes() == b"{}"
    assert not (swarm / "agents" / "t-1" / "launch.json").exists()


# -- the commands ---------------------------------------------------------------------------

def test_hosts_and_doctor_commands_probe_each_host(git_repo: Path, ssh_hosts: HostFactory,
                                                   tmp_path: Path) -> None:
    good, bad = ssh_hosts(2, env={"PATH": HOST_PATH})
    bad.stop()
    cfg = write_hosts_config(tmp_path / "c.toml", [entry(good), entry(bad)])
    env = {**os.environ, "SWARMTUI_CONFIG": str(cfg)}
    done = subprocess.run([*SWARMTUI, "hosts", "--json", "--repo", str(git_repo)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    view = json.loads(done.stdout)
    hosts = {h["name"]: h for h in view["hosts"]}
    assert view["source"] == "probe"
    assert hosts["local"]["state"] == "up"
    assert hosts["hostA"]["state"] == "up" and hosts["hostA"]["latency_ms"] is not None
    assert hosts["hostA"]["versions"]["tmux"].startswith("tmux ")
    assert hosts["hostB"]["state"] == "unreachable"
    assert "refused" in hosts["hostB"]["reason"]
    done = subprocess.run([*SWARMTUI, "doctor", "--json", "--repo", str(git_repo)],
                          capture_output=True, text=True, env=env, timeout=120)
    checks = {c["what"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["host hostA"]["level"] == "ok", checks["host hostA"]
    assert "tmux" in checks["host hostA"]["detail"] and "GiB free" in checks["host hostA"][
        "detail"]
    assert checks["host hostB"]["level"] == "fail"
    assert "refused" in checks["host hostB"]["detail"]
    human = subprocess.run([*SWARMTUI, "hosts", "--repo", str(git_repo)], capture_output=True,
                           text=True, env=env, timeout=120).stdout
    assert "hostB" in human and "refused" in human and "probed now" in human
