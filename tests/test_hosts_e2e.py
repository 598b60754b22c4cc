"""A run over this machine and two SSH hosts (real sshd, tmux, git, wrapper and fake agents),
one of which drops mid-run: its attempts are lost (not counted), requeued elsewhere once their
agents have surely ended, and every task is verified here and merged."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from swarmtui.config import Config, config_from_dict
from swarmtui.engine.runners.hosts import HostsRunner
from swarmtui.fake_agent import verify_command_for
from tests.clirun import (
    events,
    kill_supervisor,
    py_agent,
    wait_state,
    write_config,
    write_tasks,
)
from tests.clirun import start as start_cli
from tests.conftest import git
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.sshd import HostFactory, SshdHost
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

HOST_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


def hosts_config(hosts: list[SshdHost], *, local_slots: int, slots: int, pace: float,
                 orphan_timeout: str = "3s") -> Config:
    base = fast_config({"fake": fake("success", pace=pace)},
                       slots={"max_agents": local_slots + slots * len(hosts),
                              "pools": {"worker": 12, "orchestrator": 2}},
                       heartbeat={"orphan_timeout": orphan_timeout,
                                  "progress_interval": "5s"},
                       merge={"auto": True})
    data: dict[str, Any] = base.to_dict()
    data["hosts"] = [{"name": "local", "slots": local_slots}] + [
        {"name": h.name, "ssh": h.alias, "ssh_config": str(h.ssh_config), "slots": slots,
         "python": sys.executable, "connect_timeout": "2s", "lost_after": "2s"}
        for h in hosts]
    return config_from_dict(data, "test-config")


def drop(host: SshdHost) -> None:
    """The host goes away: its sshd stops and its tmux server (with every agent) is killed."""
    host.stop()
    for p in host.processes():
        if p.comm.startswith("tmux"):
            os.kill(p.pid, signal.SIGKILL)


def test_twelve_tasks_over_three_machines_survive_a_dropped_host(
        git_repo: Path, fleets: list[Fleet], ssh_hosts: HostFactory) -> None:
    a, b = ssh_hosts(2, env={"PATH": HOST_PATH})
    cfg = hosts_config([a, b], local_slots=2, slots=2, pace=0.4)
    tasks = [task(f"t{i:02d}", "fake", verify=verify_command_for("success", f"t{i:02d}"))
             for i in range(12)]
    f = start(fleets, git_repo, cfg, tasks)
    assert isinstance(f.sup.runner, HostsRunner)

    def started_on(host: str) -> bool:
        return any(e.kind == "attempt_spawned" and e.data.get("runner") == host
                   for e in f.of("attempt_spawned")) and bool(f.of("attempt_started"))

    f.wait_event(lambda e: e.kind == "attempt_started"
                 and any(s.task == e.task and s.attempt == e.attempt
                         and s.data.get("runner") == b.name
                         for s in f.of("attempt_spawned")), timeout=60)
    dropped_at = len(f.events)
    drop(b)
    assert f.wait_done(timeout=240), f.summary()

    st = f.store.replay()
    assert {t.id: str(t.state) for t in st.tasks.values()} == {t.id: "merged" for t in tasks}
    placed = {rec.runner for rec in st.attempts.values()}
    assert placed == {"local", a.name, b.name}, placed
    # What ran on the dropped host was lost, not counted, and done again elsewhere.
    lost = [e for e in f.of("attempt_failed") if e.data["cause"] == "lost"]
    assert lost, "no attempt was lost with the host"
    assert all(not e.data["counts_attempt"] for e in lost)
    for e in lost:
        assert st.attempts[f"{e.task}-{e.attempt}"].runner == b.name
    # Once the supervisor knows the host is gone (its first attempt there settled as lost), it
    # gives it no more work. (Between the drop and that moment a slot freed there may still be
    # filled, on a busy machine: that attempt is lost and done again like the others.)
    known = min(e.seq for e in lost)
    after = [e for e in f.events[dropped_at:] if e.kind == "attempt_spawned" and e.seq > known]
    assert all(e.data["runner"] != b.name for e in after), "work given to a dropped host"
    # Never two live agents of one task: each retry started after the lost one's exit.
    for e in lost:
        exited = next(x.seq for x in f.of("agent_exited", e.task) if x.attempt == e.attempt)
        later = [x.seq for x in f.of("attempt_spawned", e.task)
                 if (x.attempt or 0) > (e.attempt or 0)]
        assert later and min(later) > exited
    # Verified and merged here: every task's file is on main.
    for t in tasks:
        assert "task: " + t.id in git(git_repo, "show", f"main:fake/{t.id}.txt")
    assert started_on(a.name)


WAIT_AGENT = textwrap.dedent("""
    import json, os, sys, time
    go = sys.argv[1]
    prog = os.environ["SWARM_PROGRESS_FILE"]
    while not os.path.exists(go):
        with open(prog, "a") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - waiting\\n")
        time.sleep(0.2)
    tmp = os.environ["SWARM_RESULTS_FILE"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"status": "done", "summary": "finished under the second supervisor"}, f)
    os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
""")


def test_a_remote_agent_is_adopted_alive_after_the_supervisor_is_killed(
        git_repo: Path, tmux_socket: str, ssh_hosts: HostFactory, tmp_path: Path) -> None:
    """The supervisor is SIGKILLed while an agent runs on a host; the next one adopts it as
    alive (the host is heard from before adoption decides) and it finishes normally."""
    (host,) = ssh_hosts(1, env={"PATH": HOST_PATH})
    go = tmp_path / "go"  # the hosts are this machine: the agent sees this file
    hosts = "\n".join([
        "[[hosts]]", 'name = "local"', "slots = 0",
        "[[hosts]]", f"name = {json.dumps(host.name)}", f"ssh = {json.dumps(host.alias)}",
        f"ssh_config = {json.dumps(str(host.ssh_config))}", "slots = 1",
        f"python = {json.dumps(sys.executable)}",
        'connect_timeout = "2s"', 'lost_after = "5s"', ""])
    cfg = write_config(tmp_path / "c.toml", {"w": [*py_agent(WAIT_AGENT), str(go)]},
                       extra=hosts, orphan="30s")
    tf = write_tasks(tmp_path / "t.toml", [{"id": "w", "prompt": "wait"}])
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    first = start_cli(*argv, log=tmp_path / "first.log")
    wait_state(git_repo, lambda st: "w" in st.tasks and st.tasks["w"].progress_lines > 2,
               what="the remote agent reporting progress")
    kill_supervisor(git_repo)
    first.wait(10)
    second = start_cli(*argv, log=tmp_path / "second.log")
    try:
        wait_until(lambda: bool(events(git_repo, "attempt_adopted", "w")), timeout=60,
                 what="the attempt adopted")
        go.touch()
        assert second.wait(120) == 0, (tmp_path / "second.log").read_text()
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(10)
    adopted = events(git_repo, "attempt_adopted", "w")
    assert [(e.attempt, e.data["alive"]) for e in adopted] == [(1, True)]
    assert [e.data["runner"] for e in events(git_repo, "attempt_spawned", "w")] == [host.name]
    assert events(git_repo, "attempt_failed", "w") == []
    (exited,) = events(git_repo, "agent_exited", "w")
    assert exited.data["how"] == "exited" and exited.data["code"] == 0
    assert events(git_repo, "results", "w")
