"""Starting and leaving a run from several shells at once, with real processes and a real tmux
server on its own socket."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.clirun import (
    SWARMTUI,
    processes_mentioning,
    run,
    supervisor_pid,
    write_config,
    write_tasks,
)
from tests.fleet import fake
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _supervisors(repo: Path) -> list[int]:
    # (the tmux server's own command line holds the first window's command: not counted)
    return [pid for pid, cmd in processes_mentioning(str(repo))
            if " supervise " in f" {cmd} " and not cmd.startswith("tmux")]


def test_two_ups_at_once_leave_exactly_one_supervisor(git_repo: Path, tmux_socket: str,
                                                      tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=2.0)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    argv = [*SWARMTUI, "up", str(tf), "--detach", "--no-tui", "--repo", str(git_repo),
            "--config", str(cfg)]
    for round_ in range(3):
        ups = [subprocess.Popen(argv, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT) for _ in range(2)]
        said = [u.communicate(timeout=60)[0] for u in ups]
        codes = [u.returncode for u in ups]
        assert sorted(codes) == [0, 2], (round_, codes, said)
        winner, loser = (said[0], said[1]) if codes[0] == 0 else (said[1], said[0])
        pid = supervisor_pid(git_repo)
        assert pid is not None, (round_, said)
        assert _supervisors(git_repo) == [pid], (round_, said)
        assert f"pid {pid}" in winner
        # The loser names who holds the run: the supervisor, or the other start.
        assert "already running" in loser or "is starting the supervisor" in loser, loser
        assert "pid" in loser, loser
        if "already running" in loser:
            assert f"pid {pid}, in window 0 of tmux session" in loser, loser
        down = run("down", "--repo", str(git_repo))
        assert down.returncode == 0, down.stdout + down.stderr
        wait_until(lambda: not _supervisors(git_repo), what="the supervisor to leave")


# -- issue 18.9: every way out of an attached client says what happened ----------------------


class Attached:
    """`swarmtui attach` in a real pseudo-terminal, its output collected until it exits."""

    def __init__(self, repo: Path, cfg: Path, sock: str, *extra: str) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        self.repo, self.sock = repo, sock
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.proc = subprocess.Popen(
            [*SWARMTUI, "attach", "--repo", str(repo), "--config", str(cfg), *extra],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color"})
        os.close(slave)
        self.master = master
        self.out = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.out += chunk

    def clients(self) -> list[str]:
        res = subprocess.run(["tmux", "-S", self.sock, "list-clients", "-F",
                              "#{window_index}:#{window_name}"], capture_output=True, text=True)
        return res.stdout.split()

    def wait_attached(self) -> str:
        wait_until(lambda: bool(self.clients()), what="the tmux client to attach")
        return self.clients()[0]

    def said(self) -> str:
        assert self.proc.wait(30) is not None
        self._reader.join(10)
        os.close(self.master)
        return self.out.decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _detach(sock: str) -> None:
    subprocess.run(["tmux", "-S", sock, "detach-client", "-a"], capture_output=True)
    subprocess.run(["tmux", "-S", sock, "detach-client"], capture_output=True)


def test_leaving_an_attached_client_says_what_happened(git_repo: Path, tmux_socket: str,
                                                       tmp_path: Path) -> None:
    from tests.test_inbox import gated

    cfg = write_config(tmp_path / "c.toml", {"gated": gated(tmp_path / "never")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = run("up", str(tf), "--detach", "--no-tui", "--repo", str(git_repo), "--config",
             str(cfg))
    assert up.returncode == 0, up.stdout + up.stderr
    wait_until(lambda: "a-1" in _windows(tmux_socket), what="the agent's window")
    clients: list[Attached] = []
    try:
        # Detached: the run goes on.
        c = Attached(git_repo, cfg, tmux_socket, "--no-tui")
        clients.append(c)
        c.wait_attached()
        _detach(tmux_socket)
        assert "swarmtui: detached; the run goes on" in c.said()
        # The supervisor crashed: the client (left in an agent's window) says so on leaving.
        c = Attached(git_repo, cfg, tmux_socket, "--no-tui")
        clients.append(c)
        c.wait_attached()
        pid = supervisor_pid(git_repo)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: supervisor_pid(git_repo) is None, what="the lock to go")
        wait_until(lambda: c.clients() == ["1:a-1"], what="tmux to show the agent's window")
        _detach(tmux_socket)
        said = c.said()
        assert "swarmtui: the supervisor is not running: it ended without" in said, said
        assert "detached; the run goes on" not in said
        # attach after the crash restarts the supervisor and lands in window 0.
        c = Attached(git_repo, cfg, tmux_socket, "--no-tui")
        clients.append(c)
        assert c.wait_attached() == "0:swarmtui"
        assert supervisor_pid(git_repo) is not None
        # `swarmtui down` from another shell: the client says the run was stopped.
        down = run("down", "--repo", str(git_repo))
        assert down.returncode == 0, down.stdout + down.stderr
        said = c.said()
        assert "swarmtui: the run was stopped (swarmtui down, or Q" in said, said
        assert "agents ended" in said
        assert "detached; the run goes on" not in said
    finally:
        for c in clients:
            c.close()
        run("down", "--repo", str(git_repo))


def _windows(sock: str) -> str:
    return subprocess.run(["tmux", "-S", sock, "list-windows", "-a", "-F",
                           "#{window_index}:#{window_name}"], capture_output=True,
                          text=True).stdout


def test_q_in_window_zero_says_the_run_was_stopped(git_repo: Path, tmux_socket: str,
                                                   tmp_path: Path) -> None:
    from swarmtui.engine.runtime.tmux import session_name_for
    from tests.test_inbox import gated

    cfg = write_config(tmp_path / "c.toml", {"gated": gated(tmp_path / "never")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = run("up", str(tf), "--detach", "--repo", str(git_repo), "--config", str(cfg))
    assert up.returncode == 0, up.stdout + up.stderr
    target = f"={session_name_for(git_repo)}:0"

    def screen() -> str:
        return subprocess.run(["tmux", "-S", tmux_socket, "capture-pane", "-p", "-t", target],
                              capture_output=True, text=True).stdout

    c = Attached(git_repo, cfg, tmux_socket)
    try:
        assert c.wait_attached() == "0:swarmtui"
        wait_until(lambda: "a-1" in screen(), timeout=60, what="the TUI to show the agent")
        subprocess.run(["tmux", "-S", tmux_socket, "send-keys", "-t", target, "Q"], check=True)
        wait_until(lambda: "Stop the run?" in screen(), what="the confirmation")
        subprocess.run(["tmux", "-S", tmux_socket, "send-keys", "-t", target, "y"], check=True)
        said = c.said()
        assert "swarmtui: the run was stopped (swarmtui down, or Q" in said, said
        assert "detached; the run goes on" not in said
    finally:
        c.close()
        run("down", "--repo", str(git_repo))
