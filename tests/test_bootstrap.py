"""Worktree bootstrap through a real supervisor, tmux, git and wrapper: untracked files copied
into each new worktree, the setup command run before the agent (its output in the window, its
failure an event with the output tail and the attempt failed with it), a slow setup that is not
mistaken for a stuck agent, a setup that times out, and a kill while setup runs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config import config_from_dict
from swarmtui.engine.runners.bootstrap import copy_untracked
from swarmtui.errors import ConfigError
from swarmtui.model import Cause
from tests.conftest import git
from tests.fleet import Fleet, fast_config, start, task
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

# Passes only in a worktree that was bootstrapped: it reads what copy and setup put there.
AGENT = """
import json, os, pathlib
wt = pathlib.Path(".")
pathlib.Path(os.environ["SWARM_AGENT_DIR"], "agent-ran").write_text("yes")
ok = (wt / ".env").read_text() == "TOKEN_NAME=dev\\n" and (wt / ".setup-done").exists()
with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
    f.write("2026-01-01T00:00:00Z - checked the worktree\\n")
with open(os.environ["SWARM_RESULTS_FILE"], "w") as f:
    json.dump({"status": "done" if ok else "failed", "summary": "bootstrapped" if ok else
               "the worktree was not bootstrapped"}, f)
"""


@pytest.fixture
def repo(git_repo: Path) -> Path:
    (git_repo / ".gitignore").write_text(".env\nlocal/\n")
    git(git_repo, "add", ".gitignore")
    git(git_repo, "commit", "-q", "-m", "ignore local files")
    (git_repo / ".env").write_text("TOKEN_NAME=dev\n")
    (git_repo / "local").mkdir()
    (git_repo / "local" / "settings.toml").write_text("debug = true\n")
    os.symlink("settings.toml", git_repo / "local" / "current.toml")
    return git_repo


def agent() -> list[str]:
    return [sys.executable, "-c", AGENT]


def test_copy_then_setup_then_agent(repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"a": agent()}, worktree={
        "copy": [".env", "local", "shared.txt", "nothing-*.cfg"],
        "setup": "test -f .env && echo 'installing deps' && touch .setup-done"})
    f = start(fleets, repo, cfg, [task("t", "a")])
    assert f.wait_done(), f.summary()
    copied = f.of("worktree_copied", "t")[0].data
    assert copied["files"] == [".env", "local/current.toml", "local/settings.toml"]
    assert copied["skipped"] == ["shared.txt"] and copied["missing"] == ["nothing-*.cfg"]
    wt = P.worktree_dir(repo, "t", 1)
    assert os.readlink(wt / "local" / "current.toml") == "settings.toml"  # a link stays a link
    phases = [e.data["phase"] for e in f.of("setup", "t")]
    assert phases == ["start", "done"]
    assert "installing deps" in (P.agent_dir(repo, "t", 1) / P.OUTPUT_LOG).read_text()
    assert f.of("results", "t")[0].data["summary"] == "bootstrapped"


def test_failed_setup_fails_the_attempt_with_its_output(repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"a": agent()}, retry={"max_attempts": 2, "backoff": "100ms",
                                             "backoff_max": "100ms"},
                      worktree={"setup": "echo fetching; echo 'npm ERR! missing lockfile' >&2; "
                                "exit 3"})
    f = start(fleets, repo, cfg, [task("t", "a")])
    assert not f.wait_done()
    failed = f.of("setup", "t")[-1].data
    assert failed["phase"] == "failed" and failed["code"] == 3
    assert "fetching" in failed["tail"] and "npm ERR! missing lockfile" in failed["tail"]
    causes = [e.data["cause"] for e in f.of("attempt_failed", "t")]
    assert causes == [Cause.SETUP_FAILED, Cause.SETUP_FAILED]
    reason = f.of("attempt_failed", "t")[0].data["reason"]
    assert "worktree setup failed" in reason and "exit 3" in reason and "lockfile" in reason
    assert not (P.agent_dir(repo, "t", 1) / "agent-ran").exists()  # no agent without setup
    st = f.store.replay()
    assert str(st.tasks["t"].state) == "dead" and "setup failed" in st.tasks["t"].reason


def test_slow_setup_is_not_a_stuck_agent(repo: Path, fleets: list[Fleet]) -> None:
    # Stuck after 3 silent intervals of 2 s: a 7 s setup is longer than that. (Intervals of
    # 2 s leave the agent, once set up, 4 s to start on a loaded machine before it is quiet.)
    cfg = fast_config({"a": agent()}, worktree={"copy": [".env"],
                                               "setup": "sleep 7 && touch .setup-done"},
                      heartbeat={"progress_interval": "2s", "quiet_after": 2, "stuck_after": 3})
    f = start(fleets, repo, cfg, [task("t", "a")])
    assert f.wait_done(), f.summary()
    assert not [e for e in f.of("health", "t") if e.data["health"] in ("stuck", "quiet")]
    assert [e.data["phase"] for e in f.of("setup", "t")] == ["start", "done"]


def test_setup_that_runs_too_long_is_ended(repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"a": agent()}, retry={"max_attempts": 1},
                      worktree={"setup": "echo waiting for a lock; sleep 60",
                                "setup_timeout": "1s"})
    f = start(fleets, repo, cfg, [task("t", "a")])
    assert not f.wait_done()
    reason = f.of("attempt_failed", "t")[0].data["reason"]
    assert "timed out after 1 s" in reason and "waiting for a lock" in reason


def group_alive(pgid: int) -> bool:
    """True while a process that is not a zombie is in process group ``pgid``."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text(errors="replace")
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rfind(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            return True
    return False


def test_kill_during_setup_ends_the_setup(repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"a": agent()}, worktree={"setup": "sleep 120"})
    f = start(fleets, repo, cfg, [task("t", "a")], exit_when_done=False)
    f.wait_kind("setup", "t", phase="start")
    # The wrapper records the setup's start before it starts it and writes its group id: a loop
    # that reads the signal quickly can report it first.
    pgid_file = P.agent_dir(repo, "t", 1) / P.AGENT_PGID_FILE
    pgid = int(wait_until(lambda: pgid_file.exists() and pgid_file.read_text().strip(),
                          what="the setup's process group id"))
    f.command("kill", task="t", attempt=1)
    failed = f.wait_kind("attempt_failed", "t")
    assert failed.data["cause"] == Cause.KILLED
    f.wait_kind("agent_exited", "t")
    # The setup's group dies with the wrapper; its corpses may wait a while for PID 1 to reap them.
    wait_until(lambda: not group_alive(pgid), timeout=10, what=f"process group {pgid} gone")
    assert not (P.agent_dir(repo, "t", 1) / "agent-ran").exists()


def test_copy_patterns_are_checked_when_the_config_is_read() -> None:
    for bad, why in (("../secrets", "inside the repository"), ("/etc/passwd", "relative"),
                     (".git/config", "cannot copy from .git/")):
        with pytest.raises(ConfigError, match=r"worktree\.copy") as e:
            config_from_dict({"worktree": {"copy": [bad]}}, "c.toml")
        assert why in str(e.value)


def test_copy_never_overwrites_and_skips_what_is_there(tmp_path: Path) -> None:
    repo, wt = tmp_path / "repo", tmp_path / "wt"
    (repo / "conf").mkdir(parents=True)
    (repo / "conf" / "a.env").write_text("A")
    (repo / "conf" / "b.env").write_text("B")
    (wt / "conf").mkdir(parents=True)
    (wt / "conf" / "a.env").write_text("tracked")
    got = copy_untracked(repo, wt, ["conf/*.env"])
    assert got.files == ["conf/b.env"] and got.skipped == ["conf/a.env"]
    assert (wt / "conf" / "a.env").read_text() == "tracked"
    assert json.dumps(got.__dict__)  # plain data for the event
