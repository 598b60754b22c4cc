"""An attempt ends when its processes do, all of them: a forged exit record is not believed
while the agent runs, a daemon that left the agent's process group is ended with it, and what
its processes write just after the exit record is still read (real supervisor, tmux, wrapper,
agents and store)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from swarmtui import protocol as P
from tests.clirun import py_agent, run
from tests.fleet import Fleet, fast_config, start, task

pytestmark = pytest.mark.e2e

PROGRESS = """
def progress(text):
    with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - " + text + "\\n")
"""


def agent(body: str, *args: str) -> list[str]:
    return [*py_agent("import json, os, sys, time\n" + PROGRESS + textwrap.dedent(body)), *args]


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


FORGER = """
with open(os.path.join(os.environ["SWARM_AGENT_DIR"], "exit.json"), "w") as f:
    json.dump({"how": "exited", "code": 1, "signal": None, "pid": os.getpid()}, f)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
while True:
    progress("still working")
    time.sleep(0.1)
"""


def test_a_forged_exit_record_does_not_start_a_second_attempt(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    pidfile = tmp_path / "forger.pid"
    cfg = fast_config({"forger": agent(FORGER, str(pidfile))},
                      heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("t", "forger")], exit_when_done=False)
    forged = f.wait_kind("file_refused", "t")
    assert (forged.data["file"], forged.data["refusal"]) == (P.EXIT_FILE, "forged")
    pid = int(pidfile.read_text())
    # The loop goes on reading the agent (twenty more lines), and all the while attempt 1 is
    # the only one: its exit was not recorded, nothing was retried.
    seen = len(f.of("progress", "t"))
    f.wait_event(lambda e: e.kind == "progress" and e.task == "t" and e.seq > forged.seq
                 and len(f.of("progress", "t")) >= seen + 20, timeout=30)
    assert running(pid)
    assert not f.of("agent_exited", "t") and not f.of("attempt_failed", "t")
    assert {e.attempt for e in f.of("attempt_spawned", "t")} == {1}
    f.command("kill", task="t")
    exited = f.wait_kind("agent_exited", "t")
    assert exited.attempt == 1 and not running(pid)


DAEMONISER = """
if os.fork() == 0:
    os.setsid()  # out of the agent's process group and session
    if os.fork() == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        for n in (0, 1, 2):
            os.dup2(fd, n)
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
while True:
    progress("serving")
    time.sleep(0.2)
"""


def test_a_setsid_daemon_is_ended_by_kill_and_by_down(git_repo: Path, fleets: list[Fleet],
                                                      tmp_path: Path) -> None:
    pids = [tmp_path / "a.pid", tmp_path / "b.pid"]
    cfg = fast_config({"a": agent(DAEMONISER, str(pids[0])),
                       "b": agent(DAEMONISER, str(pids[1]))},
                      heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("a", "a"), task("b", "b")], exit_when_done=False)
    f.wait_kind("progress", "a")
    f.wait_kind("progress", "b")
    daemon_a, daemon_b = (int(p.read_text()) for p in pids)
    assert running(daemon_a) and running(daemon_b)
    f.command("kill", task="a")
    f.wait_kind("agent_exited", "a")
    assert not running(daemon_a)
    r = run("down", "--repo", str(git_repo))
    assert r.returncode == 0, r.stderr
    f.wait_kind("agent_exited", "b")
    assert not running(daemon_b)


HOOK_AFTER_EXIT = """
import sqlite3
r, w = os.pipe()
if os.fork() == 0:  # a hook of the agent CLI's, finishing after the agent
    os.close(w)
    fd = os.open(os.devnull, os.O_RDWR)
    for n in (1, 2):
        os.dup2(fd, n)  # not holding the wrapper's output pipe
    os.read(r, 1)  # the agent has exited
    exit_file = os.path.join(os.environ["SWARM_AGENT_DIR"], "exit.json")
    while not os.path.exists(exit_file):
        time.sleep(0.01)
    # Give the supervisor every chance to settle the attempt first, as it did before: up to
    # half a second, or until the attempt's exit is in the log.
    db = sqlite3.connect(os.environ["SWARM_STATE_DB"], timeout=5)
    task, attempt = os.environ["SWARM_TASK_ID"], int(os.environ["SWARM_ATTEMPT"])
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline and not db.execute(
            "select 1 from events where kind = 'agent_exited' and task = ? and attempt = ?",
            (task, attempt)).fetchone():
        time.sleep(0.02)
    import io
    from swarmtui import hook
    sys.stdin = io.TextIOWrapper(io.BytesIO(b'{"error": "rate_limit"}'))
    hook.main(["hook", "StopFailure"])
    os._exit(0)
os.close(r)
progress("done, stopping")
"""


def test_a_hook_line_written_after_the_exit_record_is_recorded(
        git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"h": agent(HOOK_AFTER_EXIT)}, retry={"max_attempts": 1},
                      heartbeat={"progress_interval": "30s"}, run={"kill_grace": "10s"})
    f = start(fleets, git_repo, cfg, [task("t", "h")], exit_when_done=False)
    exited = f.wait_kind("agent_exited", "t")
    hook = f.wait_kind("agent_hook", "t", timeout=10)
    assert (hook.data["event"], hook.data["error"]) == ("StopFailure", "rate_limit")
    assert hook.seq < exited.seq  # read before the attempt was settled
    assert f.wait_kind("attempt_failed", "t").seq > hook.seq
    assert os.path.exists(P.agent_dir(git_repo, "t", 1) / P.EXIT_FILE)
