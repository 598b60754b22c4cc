"""Spawning many attempts at once, with real git, tmux and supervisors: worktrees made with
only git's bookkeeping serialised, windows opened many per tmux call, and a tick's spawn
events committed together (a supervisor killed before that commit leaves nothing behind)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.engine.runtime.tmux import Tmux, TmuxError, TmuxSessionGone
from swarmtui.engine.runtime.worktrees import branch_commit
from tests.clirun import events, run, start, store_of, write_config, write_tasks
from tests.fleet import fake


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def test_a_worktree_is_checked_out_clean_and_its_hook_runs(git_repo: Path) -> None:
    hook = git_repo / ".git" / "hooks" / "post-checkout"
    ran = git_repo.parent / "hook.log"
    hook.write_text(f'#!/bin/sh\necho "$3" >> {ran}\n')
    hook.chmod(0o755)
    wt = git_repo / ".swarm" / "worktrees" / "a-1"
    Git(git_repo).add_worktree(wt, "swarm/a-1", "main")
    assert (wt / "shared.txt").read_text() == (git_repo / "shared.txt").read_text()
    assert _git(wt, "status", "--porcelain") == ""
    assert _git(wt, "symbolic-ref", "HEAD").strip() == "refs/heads/swarm/a-1"
    assert ran.read_text().split() == ["1"]  # as `git worktree add` runs it: a branch checkout
    with pytest.raises(GitError, match="already exists"):
        Git(git_repo).add_worktree(git_repo / ".swarm" / "worktrees" / "a-1b", "swarm/a-1",
                                   "main")
    assert not (git_repo / ".swarm" / "worktrees" / "a-1b").exists()


def test_a_new_worktree_says_the_commit_its_branch_starts_at(git_repo: Path) -> None:
    main = _git(git_repo, "rev-parse", "main").strip()
    made = Git(git_repo).add_worktree(git_repo / ".swarm" / "worktrees" / "c-1", "swarm/c-1",
                                      "main")
    assert made == main == _git(git_repo, "rev-parse", "swarm/c-1").strip()
    _git(git_repo, "pack-refs", "--all")  # no loose ref file left: git is asked instead
    assert not (git_repo / ".git" / "refs" / "heads" / "swarm" / "c-1").exists()
    assert branch_commit(git_repo, "swarm/c-1") == main
    assert branch_commit(git_repo, "swarm/none") == ""


def test_a_failed_checkout_leaves_neither_branch_nor_worktree(git_repo: Path) -> None:
    hook = git_repo / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho refused >&2\nexit 3\n")  # its status is checkout's
    hook.chmod(0o755)
    wt = git_repo / ".swarm" / "worktrees" / "b-1"
    with pytest.raises(GitError):
        Git(git_repo).add_worktree(wt, "swarm/b-1", "main")
    assert not Git(git_repo).branch_exists("swarm/b-1")
    assert str(wt) not in _git(git_repo, "worktree", "list", "--porcelain")
    assert not wt.exists()
    hook.unlink()
    Git(git_repo).add_worktree(wt, "swarm/b-1", "main")  # the name is free again
    assert (wt / "README.md").is_file()


def test_many_windows_open_in_one_call_each_once(tmux_socket: str, tmp_path: Path) -> None:
    tmux = Tmux("spawnbatch")
    tmux.new_session([sys.executable, "-c", "import time; time.sleep(600)"], cwd=tmp_path)
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    names = [f"w{i}" for i in range(12)]
    # tmux reads an argument ending in ";" as a separator even in one command: such a window
    # stays out of the sequence (where it would split a neighbour's command) and fails alone.
    got = tmux.new_windows([(n, sleeper, tmp_path) for n in [*names[:6], "odd;", *names[6:]]])
    assert sorted(got) == sorted([*names, "odd;"])
    assert isinstance(got.pop("odd;"), TmuxError)
    assert all(not isinstance(v, TmuxError) and v.pane_pid > 0 for v in got.values())
    panes = tmux.list_panes()
    listed = subprocess.run(["tmux", "-S", tmux_socket, "list-windows", "-t", "=spawnbatch",
                             "-F", "#{window_name}"], capture_output=True, text=True).stdout
    assert sorted(listed.split("\n")[1:-1]) == sorted(names)  # each once, after window 0
    assert {n: panes[n].pane_pid for n in names} == {
        n: v.pane_pid for n, v in got.items() if not isinstance(v, TmuxError)}
    with pytest.raises(TmuxSessionGone):  # nothing opened: the runner makes the session
        Tmux("no-such-session").new_windows([("x", sleeper, tmp_path)])

def _config(tmp_path: Path, n: int) -> Path:
    return write_config(tmp_path / "c.toml", {"ok": fake("success", pace=0.05)}, max_agents=n)


def test_a_tick_of_spawns_all_start_each_in_its_window(git_repo: Path, tmux_socket: str,
                                                        tmp_path: Path) -> None:
    n = 6
    tf = write_tasks(tmp_path / "t.toml", [{"id": f"s{i}", "prompt": f"do {i}"}
                                           for i in range(n)])
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config",
            str(_config(tmp_path, n)))
    done = run(*argv, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    started = events(git_repo, "attempt_started")
    assert sorted(e.task for e in started) == [f"s{i}" for i in range(n)]
    assert all(e.data.get("pane_pid") for e in started)
    spawned = {e.task: e.seq for e in events(git_repo, "attempt_spawned")}
    assert len(spawned) == n
    with store_of(git_repo) as s:
        st = s.replay()
    assert {t: str(v.state) for t, v in st.tasks.items()} == {f"s{i}": "passed"
                                                              for i in range(n)}


def test_a_supervisor_killed_inside_a_spawn_batch_leaves_nothing_half_made(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    n = 4
    tf = write_tasks(tmp_path / "t.toml", [{"id": f"k{i}", "prompt": f"do {i}"}
                                           for i in range(n)])
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config",
            str(_config(tmp_path, n)))
    first = start(*argv, log=tmp_path / "first.log", env={"SWARMTUI_FAULT": "spawn-batch:kill"})
    assert first.wait(120) == -signal.SIGKILL, (tmp_path / "first.log").read_text()
    assert events(git_repo, "attempt_spawned") == []  # the batch was never committed
    assert "swarm/" not in _git(git_repo, "branch", "--list")
    wts = git_repo / ".swarm" / "worktrees"
    assert not wts.exists() or list(wts.iterdir()) == []
    with store_of(git_repo) as s:
        assert {str(t.state) for t in s.replay().tasks.values()} <= {"pending", "ready"}
    second = run(*argv, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    with store_of(git_repo) as s:
        st = s.replay()
    assert {t: str(v.state) for t, v in st.tasks.items()} == {f"k{i}": "passed"
                                                              for i in range(n)}
    assert sorted(e.attempt for e in events(git_repo, "attempt_started")) == [1] * n
