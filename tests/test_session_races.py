"""Starting and leaving a run from several shells at once, with real processes and a real tmux
server on its own socket."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.clirun import (
    SWARMTUI,
    processes_mentioning,
    run,
    supervisor_pid,
    wait_for,
    write_config,
    write_tasks,
)
from tests.fleet import fake

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
        wait_for(lambda: not _supervisors(git_repo), what="the supervisor to leave")
