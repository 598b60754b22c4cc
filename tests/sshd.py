"""Real OpenSSH servers standing in for remote hosts, for tests.

Each host is a real ``sshd`` (Debian's openssh-server) listening on a loopback address of its
own (127.0.0.2, 127.0.0.3, ...) on a free port, with its own sshd_config (public keys only, no
PAM, ``StrictModes no`` because everything lives under /tmp), its own host key made for the test,
and a work directory that stands in for that machine's disk: sessions get ``HOME``, ``TMPDIR``
and ``TMUX_TMPDIR`` there and start in it (a ForceCommand wrapper ``cd``s there and runs the
requested command with the login shell, as sshd would). One client key pair per fleet is
authorized on every host, and one ssh client config file names every host (``Host hostA`` ->
HostName, Port, User, IdentityFile, known_hosts holding the host's key, ControlMaster settings),
so ``ssh -F <config> hostA true`` works with no prompt.

Every host's sshd runs under a small "init" of its own: a Python process that is a child
subreaper (PR_SET_CHILD_SUBREAPER), so every process started through the host, daemons and tmux
servers included, stays its descendant and is reaped by it. Killing "every process started
through the host" is killing that init's descendants; the init does it itself when the test
process goes away (its stdin closes), so even a killed pytest leaves nothing behind.

Failure modes a test can cause:

- ``stop()``: the host drops. Its sshd and every ssh connection to it end at once (clients see the
  connection close); new connections are refused. Processes started through it (a tmux server,
  agents) keep running, as on a machine that lost its network. ``start()`` brings sshd back on the
  same address, port and host key.
- ``refuse()``: sshd's listener ends, nothing is bound: new connections are refused (RST), while
  connections already open keep working.
- ``freeze()`` / ``thaw()``: every sshd process of the host is stopped (SIGSTOP): the kernel still
  completes TCP handshakes but nothing answers, so connects time out in the banner exchange and
  commands on an open connection hang, as on a partitioned network.
- ``crash()``: sshd and every process started through the host are killed (a power cut).

Limitations (the hosts are this machine): processes on a "host" run as the same local user, in
the same network namespace, and can see the whole file system, the test's venv and the test's
own processes. Only convention keeps them in the host's work directory (HOME, TMPDIR, TMUX_TMPDIR
and the start directory point there). Abstract Unix sockets (swarmtui's wake-up nudges) and
loopback TCP are shared with the local side. PATH is sshd's default for the user unless
``env={"PATH": ...}`` is given: a real host would have its own install of swarmtui.

Needs ``/usr/sbin/sshd`` (``apt-get install -y openssh-server``); as root, sshd also needs its
privilege separation directory ``/run/sshd``, which is created here when missing. Without sshd
the tests that use it are skipped, except under ``CI`` where they fail.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.waiting import eventually

SSHD = "/usr/sbin/sshd"
SSHD_NAMES = ("sshd", "sshd-session", "sshd-auth")  # OpenSSH >= 9.8 splits the server
MARKER_ENV = "SWARMTUI_TEST_HOST"  # every session on a host has it: the host's name

# The init each host's sshd runs under: a child subreaper that reaps everything below it and,
# on request or when its stdin closes, kills all of it. Commands on stdin, one per line:
#   start <json argv> <stderr path>   -> "pid N"
#   killall                           -> "ok"
#   exit (or EOF)                     -> kills everything and exits
_HOST_INIT = r'''
import ctypes, json, os, signal, sys, threading, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
me = os.getpid()
lock = threading.Lock()

def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return

def reaper():
    while True:
        with lock:
            reap()
        time.sleep(0.05)

def descendants():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if rest and rest[0] not in ("Z", "X"):
            kids.setdefault(int(rest[1]), []).append(int(d))
    out, todo = [], [me]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out

def killall():
    for _ in range(500):
        found = descendants()
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
        with lock:
            reap()
    with lock:
        reap()

def finish(*_):
    killall()
    os._exit(0)

signal.signal(signal.SIGTERM, finish)
signal.signal(signal.SIGHUP, finish)
threading.Thread(target=reaper, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "start":
        argv, errpath = json.loads(arg)
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, errpath,
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
                   (os.POSIX_SPAWN_DUP2, 1, 2)]
        try:
            with lock:
                pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions)
            print(f"pid {pid}", flush=True)
        except OSError as e:
            print(f"error {e}", flush=True)
    elif cmd == "killall":
        killall()
        print("ok", flush=True)
    elif cmd == "exit":
        break
finish()
'''


class SshdError(RuntimeError):
    pass


def sshd_available() -> bool:
    return os.access(SSHD, os.X_OK) and shutil.which("ssh") is not None \
        and shutil.which("ssh-keygen") is not None


def require_sshd() -> None:
    """Skip the test when OpenSSH's server is missing (fail instead under CI)."""
    if sshd_available():
        return
    message = ("OpenSSH server not installed: apt-get install -y openssh-server "
               "(tests/sshd.py needs /usr/sbin/sshd, ssh and ssh-keygen)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _ensure_privsep_dir() -> None:
    # Debian's sshd, started as root, chroots its pre-auth child into /run/sshd; the service
    # unit normally creates it (RuntimeDirectory), and /run is a tmpfs.
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)


_SUPPORTS: dict[str, bool] = {}


def _sshd_supports(option: str) -> bool:
    """Whether this sshd knows ``option`` (probed once with ``sshd -t``)."""
    if option not in _SUPPORTS:
        with tempfile.TemporaryDirectory() as d:
            key = Path(d) / "k"
            _keygen(key)
            done = subprocess.run([SSHD, "-t", "-f", "/dev/null", "-o", f"HostKey={key}",
                                   "-o", option], capture_output=True, text=True, check=False)
            _SUPPORTS[option] = done.returncode == 0
    return _SUPPORTS[option]


def _keygen(path: Path, comment: str = "swarmtui-test") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                    "-f", str(path)], check=True, capture_output=True)


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


# -- /proc --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str
    comm: str


def _proc_table() -> dict[int, ProcInfo]:
    table: dict[int, ProcInfo] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) < 2:
            continue
        table[int(d)] = ProcInfo(int(d), int(rest[1]), rest[0], comm)
    return table


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (PID 1 here may never reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")


def descendants(root: int, table: Mapping[int, ProcInfo] | None = None) -> list[ProcInfo]:
    """Every live (non-zombie) process below ``root``."""
    table = _proc_table() if table is None else table
    kids: dict[int, list[ProcInfo]] = {}
    for p in table.values():
        kids.setdefault(p.ppid, []).append(p)
    out: list[ProcInfo] = []
    todo = [root]
    while todo:
        for child in kids.get(todo.pop(), []):
            todo.append(child.pid)
            if child.state not in ("Z", "X"):
                out.append(child)
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _established(address: str, port: int) -> int:
    """TCP connections in ESTABLISHED state whose local end is address:port (/proc/net/tcp)."""
    want = f"{socket.inet_aton(address)[::-1].hex().upper()}:{port:04X}"
    count = 0
    try:
        with open("/proc/net/tcp", encoding="ascii") as f:
            next(f)
            for line in f:
                cols = line.split()
                if len(cols) > 3 and cols[1] == want and cols[3] == "01":
                    count += 1
    except OSError:
        return 0
    return count


# -- one host -----------------------------------------------------------------------------------

@dataclass
class SshdHost:
    """One stand-in host: a real sshd on ``address:port`` whose sessions live in ``workdir``."""

    name: str
    alias: str
    address: str
    port: int
    root: Path      # the host's private files: sshd_config, host key, log (not its "disk")
    workdir: Path   # the host's "home": its disk, where everything run there should live
    fleet: SshdFleet = field(repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # The sessions' LANG; None: no LANG and no LC_* at all, as sshd gives without PAM or
    # AcceptEnv (tmux then prints in the C locale unless told otherwise).
    lang: str | None = "C.UTF-8"
    listener_pid: int | None = None
    _init: subprocess.Popen[str] | None = field(default=None, repr=False)
    _frozen: bool = False

    @property
    def ssh_config(self) -> Path:
        """The fleet's ssh client config file (every host of the fleet is in it)."""
        return self.fleet.ssh_config

    @property
    def log_path(self) -> Path:
        return self.root / "sshd.log"

    @property
    def host_key(self) -> Path:
        return self.root / "ssh_host_ed25519_key"

    @property
    def sshd_config(self) -> Path:
        return self.root / "sshd_config"

    def known_hosts_line(self) -> str:
        kind, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[{self.address}]:{self.port} {kind} {key}"

    def client_config_block(self) -> str:
        f = self.fleet
        return "\n".join([
            f"Host {self.alias}",
            f"    HostName {self.address}",
            f"    Port {self.port}",
            f"    User {f.user}",
            f"    IdentityFile {f.client_key}",
            "    IdentitiesOnly yes",
            "    IdentityAgent none",
            f"    UserKnownHostsFile {f.known_hosts}",
            "    GlobalKnownHostsFile /dev/null",
            "    StrictHostKeyChecking yes",
            "    UpdateHostKeys no",
            "    BatchMode yes",
            "    PasswordAuthentication no",
            "    ConnectTimeout 5",
            "    LogLevel ERROR",
            "    ControlMaster auto",
            f"    ControlPath {f.base}/cm/%C",
            "    ControlPersist 60",
            "",
        ])

    # -- set-up -------------------------------------------------------------------------

    def _write_files(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        if not self.host_key.exists():
            _keygen(self.host_key, f"host-{self.name}")
        (self.workdir / ".gitconfig").write_text(
            f"[user]\n\tname = swarmtui-{self.name}\n\temail = {self.name}@swarmtui.invalid\n"
            "[init]\n\tdefaultBranch = main\n")
        session = self.root / "session.sh"
        session.write_text(
            "#!/bin/sh\n"
            "# The host's sessions start in its work directory, as sshd starts them in $HOME.\n"
            f"cd {shlex.quote(str(self.workdir))} || exit 1\n"
            'cmd=$SSH_ORIGINAL_COMMAND\n'
            "unset SSH_ORIGINAL_COMMAND\n"
            'if [ -n "$cmd" ]; then exec "$SHELL" -c "$cmd"; fi\n'
            'exec "$SHELL" -l\n')
        session.chmod(0o755)
        env = {
            "HOME": str(self.workdir),
            "TMPDIR": str(self.workdir / "tmp"),
            "TMUX_TMPDIR": str(self.workdir / "tmp"),
            **({"LANG": self.lang} if self.lang is not None else {}),
            MARKER_ENV: self.name,
            **self.env,
        }
        if self.lang is None and any(k == "LANG" or k.startswith("LC_") for k in env):
            raise SshdError(f"{self.name}: lang=None, but env sets a locale variable")
        setenv = []
        for k, v in env.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) or any(c in v for c in '"\n\\'):
                raise SshdError(f"cannot pass {k}={v!r} through SetEnv")
            setenv.append(f'"{k}={v}"')
        lines = [
            f"ListenAddress {self.address}:{self.port}",
            f"HostKey {self.host_key}",
            "PidFile none",
            f"AuthorizedKeysFile {self.fleet.client_key}.pub",
            f"AllowUsers {self.fleet.user}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "PermitUserEnvironment no",
            "LogLevel VERBOSE",
            "MaxStartups 100:30:200",
            f"SetEnv {' '.join(setenv)}",
            f"ForceCommand {session}",
        ]
        if _sshd_supports("PerSourcePenalties=no"):
            lines.append("PerSourcePenalties no")  # tests fail logins and drop connections
        self.sshd_config.write_text("\n".join(lines) + "\n")

    def _init_proc(self) -> subprocess.Popen[str]:
        if self._init is None or self._init.poll() is not None:
            proc = subprocess.Popen(
                [sys.executable, "-c", _HOST_INIT], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, start_new_session=True,
                cwd=str(self.workdir))
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SshdError(f"{self.name}: the host's init did not start")
            self._init = proc
        return self._init

    def _ask(self, line: str) -> str:
        proc = self._init_proc()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    # -- state ---------------------------------------------------------------------------

    @property
    def init_pid(self) -> int | None:
        return self._init.pid if self._init is not None and self._init.poll() is None else None

    @property
    def running(self) -> bool:
        """True while sshd's listener is up."""
        return self.listener_pid is not None and pid_alive(self.listener_pid)

    def all_processes(self) -> list[ProcInfo]:
        """Every live process of the host: sshd's and those started through it."""
        return descendants(self.init_pid) if self.init_pid else []

    def sshd_processes(self) -> list[ProcInfo]:
        return [p for p in self.all_processes() if p.comm in SSHD_NAMES]

    def processes(self) -> list[ProcInfo]:
        """Processes started through the host (sessions, daemons, tmux servers), sshd's own
        excluded."""
        return [p for p in self.all_processes() if p.comm not in SSHD_NAMES]

    def log_bytes(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def log(self) -> str:
        return self.log_bytes().decode(errors="replace")

    def connections(self) -> int:
        """TCP connections sshd has accepted since the host was made (from its log)."""
        return self.log().count("Connection from ")

    def established(self) -> int:
        """TCP connections open to sshd right now."""
        return _established(self.address, self.port)

    # -- transitions ---------------------------------------------------------------------

    def start(self) -> None:
        """Start sshd (again) on the same address, port and host key; waits until it listens.
        A frozen host is thawed."""
        if self._frozen:
            self.thaw()
        if self.running:
            return
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        argv = [SSHD, "-D", "-f", str(self.sshd_config), "-E", str(self.log_path)]
        reply = self._ask("start " + json.dumps([argv, str(self.root / "sshd.stderr")]))
        if not reply.startswith("pid "):
            raise SshdError(f"{self.name}: could not start sshd: {reply}")
        pid = int(reply.split()[1])
        ready = f"Server listening on {self.address} port {self.port}.".encode()

        def listening() -> bool:
            return ready in self.log_bytes()[offset:] or not pid_alive(pid)

        eventually(listening, 10, interval=0.02)
        if not pid_alive(pid) or ready not in self.log_bytes()[offset:]:
            err = (self.root / "sshd.stderr").read_text(errors="replace") \
                if (self.root / "sshd.stderr").exists() else ""
            raise SshdError(f"{self.name}: sshd did not start listening on {self.address} port "
                            f"{self.port}:\n{self.log_bytes()[offset:].decode(errors='replace')}"
                            f"{err}")
        self.listener_pid = pid

    def _kill(self, pids: list[int], sig: int = signal.SIGKILL) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """The host drops: sshd and every connection to it end; new ones are refused.
        Processes started through the host keep running."""
        self._frozen = False
        pids = [p.pid for p in self.sshd_processes()]
        self._kill(pids)
        if not eventually(lambda: not any(pid_alive(p) for p in pids), 10, interval=0.02):
            raise SshdError(f"{self.name}: sshd processes survived SIGKILL: {pids}")
        self.listener_pid = None

    def refuse(self) -> None:
        """New connections are refused (sshd's listener is gone and nothing is bound);
        connections already open keep working."""
        if self.listener_pid is None:
            return
        if self._frozen:
            self.thaw()
        pid = self.listener_pid
        self._kill([pid])
        eventually(lambda: not pid_alive(pid), 10, interval=0.02)
        self.listener_pid = None

    def freeze(self) -> None:
        """Nothing answers any more (every sshd process SIGSTOPped): connects time out in the
        banner exchange and commands on open connections hang."""
        self._kill([p.pid for p in self.sshd_processes()], signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        self._kill([p.pid for p in self.sshd_processes()], signal.SIGCONT)
        self._frozen = False

    def kill_processes(self) -> None:
        """Kill every process started through the host (and sshd): nothing is left of it."""
        if self.init_pid is not None and self._ask("killall") != "ok":
            raise SshdError(f"{self.name}: the host's init did not kill its processes")
        self.listener_pid = None
        self._frozen = False

    def crash(self) -> None:
        """A power cut: sshd and everything started through the host are killed."""
        self.kill_processes()

    def close(self) -> None:
        """Kill everything of the host and its init."""
        proc = self._init
        if proc is None:
            return
        left = [p.pid for p in self.all_processes()]
        if proc.poll() is None:
            try:
                self.kill_processes()
                assert proc.stdin is not None
                proc.stdin.write("exit\n")
                proc.stdin.close()
            except (OSError, SshdError, ValueError):
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._kill([p for p in left if pid_alive(p)], signal.SIGCONT)
        self._kill([p for p in left if pid_alive(p)])
        if proc.stdout is not None:
            proc.stdout.close()
        self._init = None
        self.listener_pid = None

    # -- client side ---------------------------------------------------------------------

    def ssh_argv(self, *argv: str) -> list[str]:
        """``ssh -F <config> <alias> -- <quoted argv>`` (through the config's ControlMaster)."""
        cmd = [shlex.join(argv)] if argv else []
        return ["ssh", "-F", str(self.ssh_config), self.alias, *cmd]

    def ssh(self, *argv: str, input: str | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the host with plain ssh (not the transport under test)."""
        return subprocess.run(self.ssh_argv(*argv), input=input, capture_output=True,
                              text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL if input is None else None)


# -- a fleet of hosts ---------------------------------------------------------------------------

class SshdFleet:
    """The hosts of one test: one client key pair, one known_hosts, one ssh config.

    Paths stay short (ControlPath and tmux socket paths are Unix socket paths, 108 bytes at
    most), so the fleet lives in ``/tmp/swh-XXXXXXXX``, removed by ``close``.
    """

    def __init__(self, *, prefix: str = "host") -> None:
        _ensure_privsep_dir()
        self.base = Path(tempfile.mkdtemp(prefix="swh-", dir="/tmp"))
        self.prefix = prefix
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.client_key = self.base / "client_key"
        self.known_hosts = self.base / "known_hosts"
        self.ssh_config = self.base / "ssh_config"
        self.control_dir = self.base / "ctl"   # a short dir for SshHost control sockets
        (self.base / "cm").mkdir(mode=0o700)
        self.control_dir.mkdir(mode=0o700)
        _keygen(self.client_key, "swarmtui-test-client")
        self.hosts: list[SshdHost] = []
        self._lock = threading.Lock()
        self._closed = False
        self._write_client_files()

    def _write_client_files(self) -> None:
        self.known_hosts.write_text("".join(h.known_hosts_line() + "\n" for h in self.hosts))
        self.ssh_config.write_text("\n".join(h.client_config_block() for h in self.hosts))

    def add(self, n: int = 1, *, env: Mapping[str, str] | None = None,
            start: bool = True, lang: str | None = "C.UTF-8") -> list[SshdHost]:
        """``n`` more hosts (hostA, hostB, ... on 127.0.0.2, 127.0.0.3, ...), started unless
        ``start=False``; ``env`` is added to every session's environment on them; ``lang`` is
        their sessions' LANG (None: no LANG or LC_* at all)."""
        made: list[SshdHost] = []
        with self._lock:
            for _ in range(n):
                i = len(self.hosts)
                letter = chr(ord("A") + i) if i < 26 else str(i)
                name = f"{self.prefix}{letter}"
                address = f"127.0.0.{2 + i}"
                host = SshdHost(name=name, alias=name, address=address,
                                port=_free_port(address), root=self.base / name / "sshd",
                                workdir=self.base / name / "home", fleet=self,
                                env=dict(env or {}), lang=lang)
                host._write_files()
                self.hosts.append(host)
                made.append(host)
            self._write_client_files()
        if start:
            for host in made:
                self._start_first(host)
        return made

    def _start_first(self, host: SshdHost) -> None:
        for _ in range(5):
            try:
                host.start()
                return
            except SshdError as e:
                if "Address already in use" not in str(e):
                    raise
            host.port = _free_port(host.address)  # taken in between: another port
            host._write_files()
            with self._lock:
                self._write_client_files()
        host.start()

    def local_clients(self) -> list[int]:
        """Local processes (ssh masters and clients) whose command line names this fleet's
        directory: what the fleet's config or an SshHost under ``control_dir`` left running."""
        needle = os.fsencode(self.base)
        table = _proc_table()
        hosts = {os.getpid()}
        for h in self.hosts:
            if h.init_pid is not None:
                hosts.add(h.init_pid)
                hosts.update(p.pid for p in descendants(h.init_pid, table))
        return [pid for pid, p in table.items()
                if pid not in hosts and p.state not in ("Z", "X") and needle in _cmdline(pid)]

    def close(self) -> None:
        """Kill every sshd, every process started through a host, and every local ssh client
        started with this fleet's files; remove the fleet's directory."""
        if self._closed:
            return
        self._closed = True
        for host in self.hosts:
            host.close()
        clients = self.local_clients()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in clients:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if eventually(lambda: not any(pid_alive(p) for p in clients), 3, interval=0.02):
                break
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> SshdFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HostFactory:
    """What the ``ssh_hosts`` fixture gives a test: call it for hosts."""

    def __init__(self, fleet: SshdFleet) -> None:
        self.fleet = fleet

    def __call__(self, n: int = 1, *, env: Mapping[str, str] | None = None,
                 start: bool = True, lang: str | None = "C.UTF-8") -> list[SshdHost]:
        """``n`` more hosts, started unless ``start=False``; ``env`` is added to every
        session's environment on them (e.g. ``{"PATH": ...}``); ``lang=None`` makes hosts
        whose sessions have no LANG or LC_* at all."""
        return self.fleet.add(n, env=env, start=start, lang=lang)

    @property
    def control_dir(self) -> Path:
        """A short directory for SshHost control sockets, cleaned up with the fleet."""
        return self.fleet.control_dir


@pytest.fixture
def ssh_hosts() -> Iterator[HostFactory]:
    """A factory: ``ssh_hosts(n, env=None)`` starts ``n`` more stand-in hosts and returns them.
    Every host, every process started through one and every local ssh client that used the
    fleet's files is gone after the test."""
    require_sshd()
    fleet = SshdFleet()
    try:
        yield HostFactory(fleet)
    finally:
        fleet.close()
