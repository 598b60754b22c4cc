"""SSH: commands on another host through the system's OpenSSH client and one master per host.

``SshHost`` runs every command through an OpenSSH ControlMaster: the first use opens one TCP
connection (``ssh -f -N`` with ``ControlMaster=yes``), every later command is a multiplexed
session over it, and a master that died (host dropped, keepalive expired, ``ControlPersist`` ran
out) is started again on the next use. Commands are argument lists: the remote command line is
``shlex.join(argv)``, parsed by the remote user's POSIX shell, so nothing is ever expanded or
split there. Nothing here uses a local shell either.

A multiplexed client whose master is gone would fall back to opening a connection of its own.
Clients here are given a ProxyCommand that fails with a marker instead, so a command never opens
a connection behind the master's back: the marker means "the master is gone, the command was
never sent", and only then is the command retried (once, after starting a new master).

Failures to reach the host are typed (``SshError`` subclasses), with a sentence naming the host
and the cause, from ssh's own messages. A remote command that exits non-zero is not an error:
``run`` returns its exit code. Every call blocks; the engine calls them from worker threads.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from swarmtui.engine.runtime.ssherrors import (
    SshConnectionLost,
    SshError,
    SshTimeout,
    classify,
    last_line,
)

# What a multiplexed client prints (through its ProxyCommand) when it could not reach the master.
NO_MASTER_MARKER = "swarmtui-ssh: no control master"
_GUARD_PROXY = f'sh -c "echo {NO_MASTER_MARKER} >&2; exit 1"'
# How ssh names the peer of a ProxyCommand connection: only the guard's, for a client here.
_PROXY_PEER = "UNKNOWN port 65535"
# ssh binds a temporary name (the path plus 17 characters) before renaming it to ControlPath, and
# a Unix socket path has 108 bytes at most.
MAX_CONTROL_PATH = 90
_OPTION = re.compile(r"^[A-Za-z][A-Za-z0-9]*=.*$", re.DOTALL)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X", "")


def remote_command(argv: Sequence[str], *, cwd: str | None = None,
                   env: Mapping[str, str] | None = None) -> str:
    """The command line the remote shell runs: ``argv`` quoted word by word, optionally run in
    ``cwd`` with ``env`` added (``cd DIR && exec env K=V ... ARGV``)."""
    words = [str(a) for a in argv]
    if not words:
        raise ValueError("an empty command")
    if env:
        for name in env:
            if not _ENV_NAME.match(name):
                raise ValueError(f"not an environment variable name: {name!r}")
        if "=" in words[0]:
            raise ValueError(f"env would take the command {words[0]!r} for an assignment")
        words = ["env", *(f"{k}={v}" for k, v in env.items()), *words]
    line = shlex.join(words)
    if env or cwd is not None:
        line = f"exec {line}"
    if cwd is not None:
        line = f"cd {shlex.quote(cwd)} && {line}"
    return line


# Run remotely around a stream's command: the command's stdin is /dev/null, the session's stdin
# is watched, and when it closes (the local client ended, or close_stream) the command is sent
# TERM, so a watcher never outlives the stream that reads it.
# (An asynchronous list's stdin is /dev/null in a non-interactive shell, hence fd 3.)
_STREAM_WRAPPER = ('exec 3<&0; "$@" </dev/null 3<&- & p=$!; '
                   '{ cat <&3; kill -TERM "$p"; } >/dev/null 2>&1 & '
                   'exec 3<&-; wait "$p"; s=$?; exit "$s"')


class SshHost:
    """One host reached through OpenSSH, with one ControlMaster shared by every call.

    ``destination`` is an alias from ``config_file`` (or ``~/.ssh/config`` when None) or a
    ``[user@]host``. The master's socket lives in ``control_dir`` (keep the path short: a Unix
    socket path has 108 bytes at most). ``extra_options`` are ``Key=Value`` strings passed as
    ``-o`` to every ssh this object runs (and to git's, through ``git_ssh_command``).
    """

    def __init__(self, destination: str, *, config_file: str | Path | None = None,
                 control_dir: str | Path, connect_timeout: float = 10.0,
                 extra_options: Sequence[str] = (), keepalive_interval: int = 5,
                 keepalive_count: int = 3, persist: int = 600, max_sessions: int = 8,
                 ssh_binary: str = "ssh") -> None:
        if not destination or destination.startswith("-") or any(c.isspace()
                                                                  for c in destination):
            raise ValueError(f"not an ssh destination: {destination!r}")
        for opt in extra_options:
            if not _OPTION.match(opt) or "\n" in opt:
                raise ValueError(f"an ssh option must read Key=Value: {opt!r}")
        self.destination = destination
        self.config_file = Path(config_file) if config_file is not None else None
        if self.config_file is not None and not self.config_file.is_file():
            raise ValueError(f"ssh config file {self.config_file} does not exist")
        self.control_dir = Path(control_dir)
        self.connect_timeout = max(1, math.ceil(connect_timeout))
        self.extra_options = tuple(extra_options)
        self.keepalive_interval = keepalive_interval
        self.keepalive_count = keepalive_count
        self.persist = persist
        self.ssh_binary = ssh_binary
        key = f"{destination}\0{self.config_file.resolve() if self.config_file else ''}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.control_path = self.control_dir / f"{digest}.sock"
        self.master_log = self.control_dir / f"{digest}.log"
        if len(os.fsencode(self.control_path)) > MAX_CONTROL_PATH:
            raise ValueError(f"control path {self.control_path} is too long for a Unix socket "
                             f"(at most {MAX_CONTROL_PATH} bytes): use a shorter control_dir")
        self._lock = threading.Lock()
        self._sessions = threading.BoundedSemaphore(max_sessions)
        self._master_pid: int | None = None
        self.masters_started = 0
        # Why the previous master ended, when its log says (a keepalive timeout is logged; a
        # connection the host closed is not).
        self.last_drop: str = ""
        self._log_is_ours = False  # master_log is that of a master this object started

    # -- argv ------------------------------------------------------------------------------

    def _options(self) -> list[str]:
        argv = []
        if self.config_file is not None:
            argv += ["-F", str(self.config_file)]
        argv += ["-o", f"ControlPath={self.control_path}", "-o", "BatchMode=yes",
                 "-o", f"ConnectTimeout={self.connect_timeout}"]
        for opt in self.extra_options:
            argv += ["-o", opt]
        return argv

    def _client_argv(self) -> list[str]:
        """A multiplexed client: through the master or not at all."""
        # ControlPersist=no: with it set (say, by the config file) ssh sends a ProxyCommand's
        # stderr to /dev/null, and the marker with it.
        return [self.ssh_binary, *self._options(), "-o", "ControlMaster=no",
                "-o", "ControlPersist=no", "-o", f"ProxyCommand={_GUARD_PROXY}",
                "-o", "LogLevel=ERROR", "-T"]

    def _keepalive(self) -> list[str]:
        return ["-o", f"ServerAliveInterval={self.keepalive_interval}",
                "-o", f"ServerAliveCountMax={self.keepalive_count}"]

    def git_ssh_command(self) -> str:
        """GIT_SSH_COMMAND for git over this host's master (started by git when none is up)."""
        argv = [self.ssh_binary, *self._options(), "-o", "ControlMaster=auto",
                "-o", f"ControlPersist={self.persist}", *self._keepalive()]
        return shlex.join(argv)

    def git_url(self, path: str) -> str:
        """A git remote URL for ``path`` on this host (relative to the remote home directory
        unless absolute), for use with ``git_ssh_command``."""
        return f"{self.destination}:{path}"

    # -- the master ------------------------------------------------------------------------

    def _check(self) -> int | None:
        """``ssh -O check``: the master's pid when one answers on the control socket."""
        try:
            done = subprocess.run(
                [self.ssh_binary, *self._options(), "-O", "check", "--", self.destination],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=self.connect_timeout + 5,
                check=False)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode != 0:
            return None
        found = re.search(r"pid=(\d+)", _decode(done.stderr) + _decode(done.stdout))
        return int(found.group(1)) if found else 0

    def master_running(self) -> bool:
        """True when a master answers ``ssh -O check`` (it may still have lost its host)."""
        return self._check() is not None

    def _note_drop(self) -> None:
        if not self._log_is_ours:
            return  # the log is that of a failed start (already raised) or of no master
        self._log_is_ours = False
        try:
            log = self.master_log.read_text(errors="replace")
        except OSError:
            return
        line = last_line(log, "Timeout", "closed by", "Connection", "Broken pipe",
                          "error", "reset")
        if line:
            self.last_drop = line

    def _start_master(self) -> None:
        self.control_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._note_drop()
        # A socket nobody answers on would make the new master give up multiplexing.
        try:
            self.control_path.unlink()
        except FileNotFoundError:
            pass
        try:
            self.master_log.unlink()
        except FileNotFoundError:
            pass
        argv = [self.ssh_binary, *self._options(), *self._keepalive(),
                "-o", "ControlMaster=yes", "-o", f"ControlPersist={self.persist}",
                "-o", "LogLevel=INFO", "-E", str(self.master_log), "-f", "-N", "-T",
                "--", self.destination]
        with tempfile.TemporaryFile() as err:
            try:
                done = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=err, check=False,
                                      timeout=2 * self.connect_timeout + 10,
                                      start_new_session=True)
            except subprocess.TimeoutExpired:
                raise SshTimeout(
                    self.destination, f"ssh to {self.destination} failed: no connection within "
                                      f"{2 * self.connect_timeout + 10} s") from None
            err.seek(0)
            stderr = _decode(err.read())
        if done.returncode != 0:
            try:
                stderr += _decode(self.master_log.read_bytes())
            except OSError:
                pass
            raise classify(self.destination, stderr) or SshError(
                self.destination, f"ssh to {self.destination} failed: exit "
                                  f"{done.returncode}: {stderr.strip()[-300:]}", stderr)
        pid = self._check()
        if pid is None:
            raise SshError(self.destination,
                           f"ssh to {self.destination}: the master connected but does not "
                           f"answer on {self.control_path}")
        self._master_pid = pid
        self._log_is_ours = True
        self.masters_started += 1

    def ensure_master(self) -> None:
        """Start the master unless one is up (checked with ``ssh -O check``)."""
        with self._lock:
            if self._master_pid and _pid_alive(self._master_pid):
                return
            pid = self._check()
            if pid is not None:
                self._master_pid = pid
                return
            self._start_master()

    def _master_gone(self) -> None:
        with self._lock:
            self._master_pid = None

    # -- commands --------------------------------------------------------------------------

    def run_bytes(self, argv: Sequence[str], *, input: bytes | None = None,
                  timeout: float | None = 60.0, cwd: str | None = None,
                  env: Mapping[str, str] | None = None) -> tuple[int, bytes, bytes]:
        """Run ``argv`` on the host; returns its exit code, stdout and stderr.

        Raises an ``SshError`` subclass when the host cannot be reached or the connection
        fails, and ``SshTimeout`` when the command has not finished after ``timeout`` seconds
        (the local client is then killed; the remote command may still be running).
        """
        line = remote_command(argv, cwd=cwd, env=env)
        with self._sessions:
            for _ in range(2):
                self.ensure_master()
                argv_ = [*self._client_argv(), "--", self.destination, line]
                try:
                    if input is None:
                        done = subprocess.run(argv_, stdin=subprocess.DEVNULL,
                                              capture_output=True, timeout=timeout, check=False)
                    else:
                        done = subprocess.run(argv_, input=input, capture_output=True,
                                              timeout=timeout, check=False)
                except subprocess.TimeoutExpired:
                    raise SshTimeout(
                        self.destination, f"ssh to {self.destination}: {line[:80]!r} did not "
                                          f"finish within {timeout} s (it may still be running "
                                          f"there)") from None
                code, out, err = done.returncode, done.stdout, done.stderr
                if code != 255:
                    return code, out, err
                text = _decode(err)
                if NO_MASTER_MARKER in text or _PROXY_PEER in text:
                    self._master_gone()
                    if "mux_client_request_session" in text:
                        raise SshConnectionLost(
                            self.destination, f"ssh to {self.destination}: the connection was "
                                              f"lost while the command was being sent (it may "
                                              f"or may not have run)", text)
                    continue  # never sent: start a master and send it again
                failure = classify(self.destination, text)
                if failure is not None:
                    self._master_gone()
                    raise failure
                return code, out, err  # the remote command itself exited 255
        raise SshConnectionLost(self.destination,
                                f"ssh to {self.destination}: the master connection ended again "
                                f"right after it was started ({self.last_drop or 'no reason'})")

    def run(self, argv: Sequence[str], *, input: str | bytes | None = None,
            timeout: float | None = 60.0, cwd: str | None = None,
            env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        """``run_bytes`` with text in and out (UTF-8; undecodable bytes replaced)."""
        data = input.encode() if isinstance(input, str) else input
        code, out, err = self.run_bytes(argv, input=data, timeout=timeout, cwd=cwd, env=env)
        return code, _decode(out), _decode(err)

    def open_stream(self, argv: Sequence[str], *, cwd: str | None = None,
                    env: Mapping[str, str] | None = None,
                    stderr: int | IO[Any] | None = subprocess.PIPE) -> subprocess.Popen[str]:
        """Start a long-lived command whose stdout is read line by line (``proc.stdout``).

        The remote command is sent TERM when the stream's stdin closes: end a stream with
        ``close_stream``. A stream holds one of the server's sessions (sshd's MaxSessions, 10
        by default) for as long as it runs. When the connection drops the stream ends (EOF on
        stdout, exit code 255, the reason on stderr).
        """
        self.ensure_master()
        inner = remote_command(["sh", "-c", _STREAM_WRAPPER, "sh", *argv], cwd=cwd, env=env)
        return subprocess.Popen(
            [*self._client_argv(), "--", self.destination, inner], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1, errors="replace")

    def open_channel(self, argv: Sequence[str], *, stderr: int | IO[Any] | None = None
                     ) -> subprocess.Popen[bytes]:
        """Start a long-lived command that reads the session's stdin itself (binary pipes both
        ways). When the local client ends or the connection drops, the remote command sees EOF
        on its stdin: it must end then. End it with ``close_stream``."""
        self.ensure_master()
        return subprocess.Popen(
            [*self._client_argv(), "--", self.destination, remote_command(argv)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if stderr is None else stderr, bufsize=0)

    @staticmethod
    def close_stream(proc: subprocess.Popen[Any], timeout: float = 5.0) -> int:
        """End a stream from ``open_stream``: close its stdin (the remote command gets TERM),
        then end the local client; returns its exit code."""
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
        finally:
            for f in (proc.stdout, proc.stderr):
                if f is not None:
                    f.close()

    def reachable(self) -> tuple[bool, str, float | None]:
        """Whether the host answers: (ok, a sentence, round-trip seconds of a no-op command over
        the master, local client start included). Never raises for an unreachable host."""
        wait = self.connect_timeout
        try:
            self.ensure_master()
            start = time.monotonic()
            code, _, err = self.run_bytes(["true"], timeout=wait)
            latency = time.monotonic() - start
        except SshTimeout as e:
            if "did not finish" not in str(e):
                return False, str(e), None
            return False, (f"ssh to {self.destination}: the connection is open but the host did "
                           f"not answer within {wait} s (hung, or the network is down)"), None
        except SshError as e:
            return False, str(e), None
        if code != 0:
            return False, (f"{self.destination} answered but `true` exited {code}: "
                           f"{_decode(err).strip()[:200]}"), None
        return True, f"{self.destination} is reachable ({latency * 1000:.0f} ms round trip)", \
            latency

    def close(self) -> None:
        """End the master (``ssh -O exit``) and with it every session and stream on it."""
        with self._lock:
            self._master_pid = None
            if not self.control_path.exists():
                return
            try:
                done = subprocess.run(
                    [self.ssh_binary, *self._options(), "-O", "exit", "--", self.destination],
                    stdin=subprocess.DEVNULL, capture_output=True, check=False,
                    timeout=self.connect_timeout + 5)
                exited = done.returncode == 0
            except subprocess.TimeoutExpired:
                exited = False
            deadline = time.monotonic() + 5
            while exited and self.control_path.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.control_path.exists() and self._check() is None:
                try:
                    self.control_path.unlink()  # a socket nobody answers on
                except FileNotFoundError:
                    pass

    def __enter__(self) -> SshHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SshHost({self.destination!r}, control_path={str(self.control_path)!r})"
