"""The SSH transport (swarmtui/engine/runtime/ssh.py) against real sshd hosts (tests/sshd.py)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from swarmtui.engine.runtime.ssh import SshHost, remote_command
from swarmtui.engine.runtime.ssherrors import (
    SshAuthFailed,
    SshConnectionLost,
    SshConnectionRefused,
    SshError,
    SshHostKeyError,
    SshTimeout,
    SshUnknownHost,
    classify,
)
from tests.conftest import git
from tests.sshd import HostFactory, SshdFleet, SshdHost, pid_alive, require_sshd
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture
from tests.waiting import wait_until


@pytest.fixture
def transports(ssh_hosts: HostFactory) -> Iterator[list[SshHost]]:
    """SshHost objects a test makes; closed afterwards."""
    made: list[SshHost] = []
    yield made
    for t in made:
        t.close()


def connect(ssh_hosts: HostFactory, transports: list[SshHost], host: SshdHost,
            control: str = "", connect_timeout: float = 2,
            extra_options: Sequence[str] = (), keepalive: tuple[int, int] = (5, 3)) -> SshHost:
    """An SshHost for ``host``; a different ``control`` gives it a master of its own."""
    control_dir = ssh_hosts.control_dir / control if control else ssh_hosts.control_dir
    t = SshHost(host.alias, config_file=host.ssh_config, control_dir=control_dir,
                connect_timeout=connect_timeout, extra_options=extra_options,
                keepalive_interval=keepalive[0], keepalive_count=keepalive[1])
    transports.append(t)
    return t


def one(ssh_hosts: HostFactory, transports: list[SshHost],
        connect_timeout: float = 2) -> tuple[SshdHost, SshHost]:
    (host,) = ssh_hosts(1)
    return host, connect(ssh_hosts, transports, host, connect_timeout=connect_timeout)


# -- pure parts --------------------------------------------------------------------------------

def test_remote_command_quotes_every_word() -> None:
    assert remote_command(["echo", "a b", "$HOME", "it's"]) == \
        "echo 'a b' '$HOME' 'it'\"'\"'s'"
    assert remote_command(["ls"], cwd="my dir") == "cd 'my dir' && exec ls"
    assert remote_command(["x"], env={"A": "1 2"}) == "exec env 'A=1 2' x"
    with pytest.raises(ValueError):
        remote_command([])
    with pytest.raises(ValueError):
        remote_command(["x"], env={"A B": "1"})
    with pytest.raises(ValueError):
        SshHost("-oProxyCommand=x", control_dir="/tmp")
    with pytest.raises(ValueError):
        SshHost("h", control_dir="/tmp", extra_options=["-v"])
    with pytest.raises(ValueError):
        SshHost("h", control_dir="/tmp/" + "x" * 100)


@pytest.mark.parametrize(("stderr", "kind", "words"), [
    ("ssh: connect to host 10.1.2.3 port 22: Connection refused", SshConnectionRefused,
     "refused"),
    ("ssh: Could not resolve hostname nowhere: Name or service not known", SshUnknownHost,
     "does not resolve"),
    ("root@127.0.0.2: Permission denied (publickey).", SshAuthFailed, "authentication"),
    ("Connection timed out during banner exchange", SshTimeout, "in time"),
    ("ssh: connect to host 10.1.2.3 port 22: Connection timed out", SshTimeout, "in time"),
    ("Timeout, server 127.0.0.2 not responding.", SshTimeout, "in time"),
    ("No ED25519 host key is known for [127.0.0.2]:2222 and you have requested strict "
     "checking.\nHost key verification failed.", SshHostKeyError, "host key"),
    ("Connection to 127.0.0.2 closed by remote host.", SshConnectionLost, "lost"),
    ("kex_exchange_identification: read: Connection reset by peer", SshConnectionLost, "lost"),
])
def test_classify_names_host_and_cause(stderr: str, kind: type[SshError], words: str) -> None:
    err = classify("build-1", stderr)
    assert type(err) is kind
    assert err is not None and err.host == "build-1" and "build-1" in str(err)
    assert words in str(err) and err.detail == stderr
    assert classify("build-1", "") is None
    assert classify("build-1", "some output of the remote command") is None


# -- the fixture -------------------------------------------------------------------------------

def test_hosts_are_plain_ssh_destinations(ssh_hosts: HostFactory) -> None:
    a, b = ssh_hosts(2)
    assert (a.alias, a.address, b.alias, b.address) == ("hostA", "127.0.0.2", "hostB", "127.0.0.3")
    assert a.ssh_config == b.ssh_config and a.workdir != b.workdir
    for host in (a, b):
        done = subprocess.run(
            ["ssh", "-F", str(host.ssh_config), host.alias,
             'echo "$SWARMTUI_TEST_HOST $PWD $HOME $TMUX_TMPDIR"'],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        w = host.workdir
        assert done.stdout == f"{host.name} {w} {w} {w}/tmp\n"
    assert a.connections() == 1 and b.connections() == 1


# -- commands ----------------------------------------------------------------------------------

def test_run_command(ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    code, out, err = t.run(["sh", "-c", 'pwd; echo "$1"; echo oops >&2; exit 3', "sh",
                            "a b $HOME 'q'"])
    assert (code, out, err) == (3, f"{host.workdir}\na b $HOME 'q'\n", "oops\n")
    (host.workdir / "sub dir").mkdir()
    assert t.run(["pwd"], cwd="sub dir")[1] == f"{host.workdir}/sub dir\n"
    assert t.run(["sh", "-c", 'echo "$X"'], env={"X": "x y"})[1] == "x y\n"
    # A remote command that exits 255 is the command's exit code, not an ssh failure.
    assert t.run(["sh", "-c", "exit 255"])[0] == 255
    assert t.run(["false"])[0] == 1
    with pytest.raises(SshTimeout, match="did not finish within"):
        t.run(["sleep", "5"], timeout=0.5)


def test_input_output_round_trip(ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    _, t = one(ssh_hosts, transports)
    assert t.run(["cat"], input="line 1\nline 2 é\n") == (0, "line 1\nline 2 é\n", "")
    blob = os.urandom(300_000)
    code, out, _ = t.run_bytes(["cat"], input=blob)
    assert code == 0 and out == blob
    code, out, _ = t.run_bytes(["sha256sum"], input=blob)
    import hashlib
    assert out.split()[0].decode() == hashlib.sha256(blob).hexdigest()


def test_master_is_reused(ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    before = host.connections()
    for i in range(10):
        assert t.run(["echo", str(i)])[1] == f"{i}\n"
    results: list[int] = []

    def work() -> None:
        for _ in range(3):
            results.append(t.run(["true"])[0])

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [0] * 18
    assert host.connections() - before == 1  # one TCP connection for 28 commands
    assert host.established() == 1
    assert t.masters_started == 1 and t.master_running()
    # A second SshHost for the same destination shares the master.
    again = connect(ssh_hosts, transports, host)
    assert again.run(["true"])[0] == 0
    assert host.connections() - before == 1 and again.masters_started == 0


def test_latency_is_measured(ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    _, t = one(ssh_hosts, transports)
    ok, reason, latency = t.reachable()
    assert ok, reason
    assert latency is not None and 0 < latency < 1
    assert "reachable" in reason and "ms" in reason


# -- failures ----------------------------------------------------------------------------------

def test_dropped_host_is_detected_and_restart_works(ssh_hosts: HostFactory,
                                                    transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    assert t.run(["true"])[0] == 0
    stream = t.open_stream(["sh", "-c", "while :; do echo tick; sleep 0.1; done"])
    assert stream.stdout is not None and stream.stdout.readline() == "tick\n"
    host.stop()
    # The stream ends (EOF, ssh's 255) as soon as the connection drops.
    start = time.monotonic()
    assert stream.stdout.read() is not None
    assert stream.wait(timeout=5) == 255 and time.monotonic() - start < 2
    t.close_stream(stream)
    start = time.monotonic()
    with pytest.raises((SshConnectionRefused, SshConnectionLost)) as e:
        t.run(["true"])
    assert host.alias in str(e.value)
    with pytest.raises(SshConnectionRefused, match=f"{host.address} port {host.port}"):
        t.run(["true"])
    assert time.monotonic() - start < 2
    ok, reason, latency = t.reachable()
    assert not ok and "refused" in reason and latency is None
    host.start()
    before = host.connections()
    assert t.run(["echo", "back"])[1] == "back\n"
    assert host.connections() - before == 1 and t.masters_started == 2


def test_master_killed_behind_our_back_is_restarted(ssh_hosts: HostFactory,
                                                    transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    assert t.run(["true"])[0] == 0
    t.close()  # ssh -O exit
    assert not t.master_running()
    assert t.run(["echo", "1"])[1] == "1\n"
    done = subprocess.run(["ssh", "-o", f"ControlPath={t.control_path}", "-O", "check",
                           host.alias], capture_output=True, text=True, check=False)
    pid = int(done.stderr.split("pid=")[1].split(")")[0])
    os.kill(pid, 9)  # the master dies without a word; its socket is left behind
    wait_until(lambda: not pid_alive(pid), 5, interval=0.02)
    assert t.run(["echo", "2"])[1] == "2\n"  # noticed by ssh -O check
    assert t.masters_started == 3
    # A master that dies between the check and the command: the client's guard reports it
    # (it never connects on its own) and the command is sent again over a new master.
    t._master_pid = os.getpid()  # "known to be up"
    master = t._check()
    assert master
    os.kill(master, 9)
    wait_until(lambda: not pid_alive(master), 5, interval=0.02)
    before = host.connections()
    assert t.run(["echo", "3"])[1] == "3\n"
    assert t.masters_started == 4 and host.connections() - before == 1


def test_refused_host_gives_the_reason(ssh_hosts: HostFactory,
                                       transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    host.refuse()
    with pytest.raises(SshConnectionRefused) as e:
        t.run(["true"])
    msg = str(e.value)
    assert msg.startswith(f"ssh to {host.alias} failed: the connection was refused")
    assert f"{host.address} port {host.port}" in msg and "sshd" in msg
    assert "Connection refused" in e.value.detail
    ok, reason, _ = t.reachable()
    assert not ok and reason == msg


def test_refuse_keeps_open_connections(ssh_hosts: HostFactory,
                                       transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    assert t.run(["true"])[0] == 0
    host.refuse()
    assert t.run(["echo", "still"])[1] == "still\n"  # through the master already open
    fresh = connect(ssh_hosts, transports, host, control="2")  # a new connection
    with pytest.raises(SshConnectionRefused):
        fresh.run(["true"])


def test_frozen_host_times_out(ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    (host,) = ssh_hosts(1)
    t = connect(ssh_hosts, transports, host, connect_timeout=1, keepalive=(1, 3))
    assert t.run(["true"])[0] == 0
    host.freeze()
    frozen = time.monotonic()
    with pytest.raises(SshTimeout, match="did not finish within"):
        t.run(["true"], timeout=1)  # the open connection hangs
    ok, reason, _ = t.reachable()
    assert not ok and "did not answer within 1 s" in reason
    other = connect(ssh_hosts, transports, host, control="2", connect_timeout=1)
    start = time.monotonic()
    ok, reason, _ = other.reachable()  # a new connection: no banner
    assert not ok and "did not answer in time" in reason and host.alias in reason
    assert time.monotonic() - start < 4
    # The master's keepalives give up after about 4 s: the master ends and says why.
    wait_until(lambda: not t.master_running(), 8, interval=0.02)
    assert time.monotonic() - frozen < 8
    host.thaw()
    assert t.run(["echo", "ok"])[1] == "ok\n"
    assert "Timeout, server" in t.last_drop and t.masters_started == 2


def test_unknown_host_auth_failure_and_host_key(ssh_hosts: HostFactory,
                                                transports: list[SshHost],
                                                tmp_path: Path) -> None:
    (host,) = ssh_hosts(1)
    config = tmp_path / "ssh_config"
    config.write_text(host.ssh_config.read_text()
                      + "Host ghost\n    HostName ghost.invalid\n    BatchMode yes\n")
    ghost = SshHost("ghost", config_file=config, control_dir=ssh_hosts.control_dir,
                    connect_timeout=2)
    transports.append(ghost)
    with pytest.raises(SshUnknownHost, match=r"ghost.*does not resolve"):
        ghost.run(["true"])
    wrong_user = connect(ssh_hosts, transports, host, extra_options=["User=nobody"])
    with pytest.raises(SshAuthFailed, match=rf"{host.alias}.*refused authentication"):
        wrong_user.run(["true"])
    other_key = tmp_path / "known_hosts"
    other_key.write_text(f"[{host.address}]:{host.port} "
                         + " ".join(Path(f"{host.ssh_config.parent}/client_key.pub")
                                    .read_text().split()[:2]) + "\n")
    bad_key = connect(ssh_hosts, transports, host,
                      extra_options=[f"UserKnownHostsFile={other_key}"])
    with pytest.raises(SshHostKeyError, match="host key"):
        bad_key.run(["true"])
    assert host.processes() == []


# -- streams -----------------------------------------------------------------------------------

def _lines(proc: subprocess.Popen[str]) -> queue.Queue[tuple[float, str]]:
    q: queue.Queue[tuple[float, str]] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put((time.monotonic(), line))

    threading.Thread(target=pump, daemon=True).start()
    return q


def test_stream_delivers_lines_at_once_and_ends_its_command(
        ssh_hosts: HostFactory, transports: list[SshHost]) -> None:
    host, t = one(ssh_hosts, transports)
    t.run(["true"])
    start = time.monotonic()
    proc = t.open_stream([sys.executable, "-u", "-c",
                          "import time\nfor i in range(1000):\n"
                          "    print('line', i); time.sleep(0.3)\n"])
    q = _lines(proc)
    at, line = q.get(timeout=1)
    assert line == "line 0\n" and at - start < 1
    at1, line = q.get(timeout=1)
    assert line == "line 1\n" and 0.1 < at1 - at < 2  # as written, not when the command ends
    assert any(p.comm.startswith("python") for p in host.processes())
    t.close_stream(proc)
    assert proc.returncode is not None
    # Closing the stream ended the remote command too.
    wait_until(lambda: not any(p.comm.startswith("python") for p in host.processes()), 3,
               "the remote command to end with its stream", seen=host.processes)


# -- git -----------------------------------------------------------------------------------------

def test_git_push_clone_fetch_over_the_master(ssh_hosts: HostFactory,
                                              transports: list[SshHost],
                                              git_repo: Path, tmp_path: Path) -> None:
    host, t = one(ssh_hosts, transports)
    assert t.run(["git", "init", "-q", "--bare", "-b", "main", "repo.git"])[0] == 0
    before = host.connections()
    env = {**os.environ, "GIT_SSH_COMMAND": t.git_ssh_command()}

    def g(repo: Path, *args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid",
                               *args], cwd=repo, env=env, check=True, capture_output=True,
                              text=True).stdout

    g(git_repo, "remote", "add", "origin", t.git_url("repo.git"))
    g(git_repo, "push", "-q", "origin", "main")
    code, out, _ = t.run(["git", "-C", "repo.git", "log", "--format=%s", "main"])
    assert (code, out) == (0, "initial\n")
    clone = tmp_path / "clone"
    g(tmp_path, "clone", "-q", t.git_url("repo.git"), str(clone))
    (clone / "new.txt").write_text("from the clone\n")
    g(clone, "add", "new.txt")
    g(clone, "commit", "-q", "-m", "second")
    g(clone, "push", "-q", "origin", "main")
    g(git_repo, "fetch", "-q", "origin")
    assert git(git_repo, "log", "--format=%s", "origin/main").splitlines() == \
        ["second", "initial"]
    # A clone made on the host, from its own disk, as a remote runner would.
    assert t.run(["git", "clone", "-q", "repo.git", "work"])[0] == 0
    assert (host.workdir / "work" / "new.txt").read_text() == "from the clone\n"
    assert host.connections() == before  # git went through the same master
    assert t.masters_started == 1


# -- cleanup -------------------------------------------------------------------------------------

def test_cleanup_leaves_no_process() -> None:
    require_sshd()
    fleet = SshdFleet()
    try:
        a, b = fleet.add(2)
        t = SshHost(a.alias, config_file=a.ssh_config, control_dir=fleet.control_dir,
                    connect_timeout=2)
        # A daemon that leaves its session, a tmux server, a stream, and a plain-ssh master.
        assert t.run(["sh", "-c", "nohup setsid sleep 300 >/dev/null 2>&1 &"])[0] == 0
        assert t.run(["tmux", "new-session", "-d", "-s", "agents", "sleep", "300"])[0] == 0
        assert t.run(["tmux", "ls"])[1].startswith("agents:")
        stream = t.open_stream(["sleep", "300"])
        assert b.ssh("true").returncode == 0
        assert any(p.comm.startswith("tmux") for p in a.processes())
        # The tmux server is the host's: its socket is in the host's work directory.
        assert list((a.workdir / "tmp").glob("tmux-*/default"))
        everything = [p.pid for h in fleet.hosts for p in h.all_processes()]
        everything += [h.init_pid for h in fleet.hosts if h.init_pid]
        clients = fleet.local_clients()
        assert len(clients) >= 2  # t's master, b's config master (and the stream's client)
        assert len(everything) > 8
    finally:
        fleet.close()
    stream.wait(timeout=5)
    for f in (stream.stdout, stream.stderr, stream.stdin):
        if f is not None:
            f.close()
    time.sleep(0.1)
    alive = [p for p in everything + clients if pid_alive(p)]
    assert alive == []
    assert not fleet.base.exists()
