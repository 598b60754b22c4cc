"""An attempt on an SSH host in its box, with real parts: a real sshd on this machine standing
in for the host (tests/sshd.py), the runner asking the host once whether bubblewrap works there
(it does: the host is this machine), and the host's wrapper boxing the agent with the host's
paths. The agent tries to write the host's ``.swarm`` (its store's place, another attempt's
results) and to read and write the host user's ``~/.ssh``: refused, or not there; it commits in
its worktree on the host, and the commit comes back here, is verified and passes.

A host without bubblewrap keeps its attempts unboxed and says why (``policy.launch_extra``,
tested below without a host)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, SandboxConfig, config_from_dict
from swarmtui.engine.sandbox import policy
from swarmtui.engine.sandbox.layout import SandboxError
from swarmtui.engine.sandbox.probe import Probe, probe
from tests.conftest import git
from tests.fleet import Fleet, fast_config, start, task
from tests.sshd import HostFactory
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture

pytestmark = [pytest.mark.skipif(not probe().ok and not os.environ.get("CI"),
                                 reason=f"no sandbox here: {probe().why}")]

HOST_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"

# Each try says what happened, into a file it commits: the commit is what comes back here.
AGENT = textwrap.dedent("""
    import json, os, subprocess
    e = os.environ
    root, aid = e["SWARM_REPO"], e["SWARM_AGENT_ID"]
    swarm = os.path.join(root, ".swarm")
    with open(e["SWARM_PROGRESS_FILE"], "a") as f:
        f.write("2026-01-01T00:00:00Z - trying the box\\n")
    said = []
    def write(label, path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write("x\\n")
            said.append(label + "-WROTE")
        except OSError as err:
            said.append(f"{label}-REFUSED {err.strerror}")
    write("DB", os.path.join(swarm, "state.db"))
    write("RESULTS", os.path.join(swarm, "agents", "bystander-1", "results.json"))
    write("SWARM", os.path.join(swarm, "planted.txt"))
    write("SSH", os.path.join(e["HOST_HOME"], ".ssh", "authorized_keys"))
    try:
        open(os.path.join(e["HOST_HOME"], ".ssh", "id_host")).read()
        said.append("KEY-READ")
    except OSError as err:
        said.append(f"KEY-UNREADABLE {err.strerror}")
    with open("said.txt", "w") as f:
        f.write("\\n".join(said) + "\\n")
    subprocess.run(["git", "add", "said.txt"], check=True)
    subprocess.run(["git", "commit", "-qm", "what the box said"], check=True)
    tmp = e["SWARM_RESULTS_FILE"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"status": "done", "summary": " ".join(said), "files_modified": ["said.txt"]}, f)
    os.replace(tmp, e["SWARM_RESULTS_FILE"])
""")


def boxed_on_host(host: Any, home: str) -> Config:
    # A first start on a host of a busy machine can be slow: not stuck.
    base = fast_config({"red": [sys.executable, "-c", AGENT]},
                       heartbeat={"progress_interval": "5s"})
    data: dict[str, Any] = base.to_dict()
    data["agents"]["red"]["sandbox"] = {"mode": "bwrap"}
    data["agents"]["red"]["env"] = {
        "HOST_HOME": home, "GIT_AUTHOR_NAME": "agent", "GIT_AUTHOR_EMAIL": "agent@host.invalid",
        "GIT_COMMITTER_NAME": "agent", "GIT_COMMITTER_EMAIL": "agent@host.invalid"}
    data["hosts"] = [{"name": "local", "slots": 0}, {
        "name": host.name, "ssh": host.alias, "ssh_config": str(host.ssh_config), "slots": 1,
        "python": sys.executable, "connect_timeout": "5s", "lost_after": "20s"}]
    return config_from_dict(data, "test-config")


@pytest.mark.e2e
def test_an_attempt_on_an_ssh_host_runs_boxed_there_and_commits(
        git_repo: Path, fleets: list[Fleet], ssh_hosts: HostFactory) -> None:
    (host,) = ssh_hosts(1, env={"PATH": HOST_PATH})
    home = host.workdir
    (home / ".ssh").mkdir(exist_ok=True)
    (home / ".ssh" / "id_host").write_text("the host's secret\n")
    ssh_before = sorted(os.listdir(home / ".ssh"))
    f = start(fleets, git_repo, boxed_on_host(host, str(home)),
              [task("red", "red", verify="test -s said.txt")])
    assert f.wait_done(timeout=180), f.summary()
    assert f.state_of("red") == "passed", f.summary()
    (spawned,) = f.of("attempt_spawned", "red")
    assert spawned.data["runner"] == host.name
    launch = json.loads((P.agent_dir(git_repo, "red", 1) / P.LAUNCH_FILE).read_text())
    assert launch["extra"]["sandbox"]["mode"] == "bwrap", launch["extra"]["sandbox"]
    # Its commit, made in the box on the host, came back here.
    said = git(git_repo, "show", "swarm/red-1:said.txt").split("\n")
    assert said[:3] == ["DB-REFUSED Read-only file system", "RESULTS-REFUSED Read-only file "
                        "system", "SWARM-REFUSED Read-only file system"], said
    # The host user's home is the box's private one: its keys are not there, and what the
    # agent wrote there went nowhere.
    assert said[3] == "SSH-WROTE" and said[4].startswith("KEY-UNREADABLE"), said
    assert sorted(os.listdir(home / ".ssh")) == ssh_before
    root = next((home / "swarmtui").iterdir())
    assert not (root / P.SWARM_DIR / "planted.txt").exists()
    assert not (root / P.SWARM_DIR / P.STATE_DB).exists()
    assert not (root / P.SWARM_DIR / "sandbox" / "red-1").exists()  # its private folder: gone
    hosts = json.loads((git_repo / P.SWARM_DIR / "hosts.json").read_text())["hosts"]
    assert next(h for h in hosts if h["name"] == host.name)["versions"]["sandbox"] == \
        probe().version


def test_a_host_boxes_its_attempts_only_once_it_said_bubblewrap_works_there() -> None:
    cfg = SandboxConfig()
    args: dict[str, Any] = {"repo": "/r", "task": "t", "worktree": "/r/.swarm/worktrees/t-1",
                            "branch": "swarm/t-1", "where": "agents.x.sandbox",
                            "adapter": "claude"}
    try:
        unknown = policy.launch_extra(cfg, runner="far", **args)
        assert unknown["mode"] == "off" and "has not said" in unknown["why"]
        policy.note_host("far", Probe(False, why="bwrap is not on PATH"))
        off = policy.launch_extra(cfg, runner="far", **args)
        assert off == {"mode": "off", "why": "attempts on host far are not sandboxed: bwrap "
                                             "is not on PATH"}
        with pytest.raises(SandboxError, match="host far are not sandboxed"):
            policy.launch_extra(SandboxConfig(mode="bwrap"), runner="far", **args)
        policy.note_host("far", Probe(True, "/usr/bin/bwrap", "bubblewrap 0.8.0"))
        on = policy.launch_extra(cfg, runner="far", **args)
        assert on["mode"] == "bwrap" and on["worktree"] == "/r/.swarm/worktrees/t-1"
    finally:
        policy.forget_host("far")
    assert policy.launch_extra(cfg, runner="far", **args)["mode"] == "off"
