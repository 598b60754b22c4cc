"""One suite for every runner (engine/runners): the local tmux runner and the SSH runner.

Each test takes a ``kit``: a runner on a real git repository, with a real tmux server (here, or
on a real sshd host from tests/sshd.py), running the real wrapper around a small agent
(tests/conformance_agent.py). What the agent writes is read back from the local agent folder
through ``ingest.AttemptFiles``, as the supervisor reads it. Nothing is stubbed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config.hosts import HostConfig
from swarmtui.engine.runners.base import PrepareJob, Runner, RunnerError, ServerGone
from swarmtui.engine.runners.local import LocalRunner
from swarmtui.engine.runners.ssh import SshRunner
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.runtime.ingest import AttemptFiles
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.engine.wrapper.launch import LaunchSpec
from tests.conftest import git
from tests.sshd import HostFactory, SshdHost, pid_alive
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

AGENT = str(Path(__file__).with_name("conformance_agent.py"))
HOST_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


def host_config(host: SshdHost, **kw: object) -> HostConfig:
    data: dict[str, object] = {"name": host.name, "ssh": host.alias,
                               "ssh_config": str(host.ssh_config), "slots": 4,
                               "python": sys.executable, "connect_timeout": 2.0,
                               "lost_after": 2.0, **kw}
    return HostConfig.model_validate(data)


@dataclass
class Kit:
    kind: str
    repo: Path
    make: Callable[..., Runner]  # keywords: the host's config (ignored by the local runner)
    drop: Callable[[], None]
    runner: Runner = field(init=False)
    made: list[Runner] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.runner = self.new_runner()

    def new_runner(self, **host: object) -> Runner:
        r = self.make(**host)
        self.made.append(r)
        return r

    @property
    def swarm(self) -> Path:
        return self.repo / P.SWARM_DIR

    def files(self, aid: str) -> AttemptFiles:
        return AttemptFiles(self.swarm, aid)

    def launch(self, task: str, mode: str, *, orphan_timeout: float = 300.0) -> str:
        r = self.runner
        aid = P.agent_id(task, 1)
        r.track(aid, r.name)
        r.prepare(PrepareJob(task=task, attempt=1, branch=P.branch_name(task, 1),
                             start="main"))
        adir = r.agent_dir(task, 1)
        adir.mkdir(mode=0o700, parents=True)
        wt = r.worktree(task, 1)
        (adir / P.PROMPT_FILE).write_text(f"the task {task}\n")
        (adir / P.PROGRESS_FILE).touch()
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8",
               P.ENV_AGENT_ID: aid, P.ENV_WORKTREE: str(wt), P.ENV_AGENT_DIR: str(adir),
               P.ENV_PROGRESS_FILE: str(adir / P.PROGRESS_FILE),
               P.ENV_RESULTS_FILE: str(adir / P.RESULTS_FILE)}
        LaunchSpec(argv=[sys.executable, AGENT, mode], cwd=str(wt), env=env,
                   prompt_via="stdin", prompt_file=str(adir / P.PROMPT_FILE),
                   heartbeat_file=str(self.swarm / P.HEARTBEAT_FILE),
                   orphan_timeout=orphan_timeout, kill_grace=1.0,
                   log_max_bytes=1 << 20).write(adir)
        r.start(aid, adir, wt)
        return aid

    def alive(self, aid: str) -> bool:
        try:
            pane = self.runner.snapshot().get(aid)
        except ServerGone:
            return False
        except RunnerError:  # a host not heard from yet says nothing
            return False
        return pane is not None and not pane.dead

    def gone(self, aid: str) -> bool:
        try:
            return aid not in self.runner.snapshot()
        except ServerGone:
            return True
        except RunnerError:
            return False

    def close(self) -> None:
        for r in self.made:
            r.close()


def _repo_with_swarm(repo: Path) -> Path:
    swarm = repo / P.SWARM_DIR
    (swarm / P.AGENTS_DIR).mkdir(parents=True, mode=0o700)
    (swarm / P.HEARTBEAT_FILE).touch()
    (repo / ".git" / "info" / "exclude").write_text("/.swarm/\n")
    return repo


@pytest.fixture(params=["local", "ssh"])
def kit(request: pytest.FixtureRequest, git_repo: Path, tmux_socket: str) -> Iterator[Kit]:
    repo = _repo_with_swarm(git_repo)
    if request.param == "local":
        tmux = Tmux(session_name_for(repo))

        def drop_local() -> None:
            tmux.kill_server()

        k = Kit("local", repo, lambda **_: LocalRunner(repo, tmux, Git(repo)), drop_local)
    else:
        hosts: HostFactory = request.getfixturevalue("ssh_hosts")
        # A host whose sessions have no locale at all, as sshd gives without PAM or AcceptEnv.
        (host,) = hosts(1, env={"PATH": HOST_PATH}, lang=None)

        def drop_host() -> None:
            host.stop()
            for p in host.processes():
                if p.comm.startswith("tmux"):
                    os.kill(p.pid, signal.SIGKILL)

        k = Kit("ssh", repo, lambda **kw: SshRunner(repo, host_config(host, **kw), Git(repo),
                                               control_dir=hosts.control_dir,
                                               orphan_timeout=300, kill_grace=1.0), drop_host)
    try:
        yield k
    finally:
        k.close()
        subprocess.run(["tmux", "-S", tmux_socket, "kill-server"], capture_output=True)


# -- the suite ---------------------------------------------------------------------------------

def test_spawn_opens_a_window_running_the_wrapper(kit: Kit) -> None:
    aid = kit.launch("spawn", "forever")
    wait_until(lambda: kit.alive(aid), what="the attempt's window in the snapshot")
    wait_until(lambda: kit.files(aid).pgid() is not None, what="agent.pgid here")
    pgid = kit.files(aid).pgid()
    assert pgid is not None
    assert kit.runner.group_alive(pgid, aid)


def test_progress_reaches_the_local_agent_folder(kit: Kit) -> None:
    aid = kit.launch("progress", "forever")
    files = kit.files(aid)
    seen: list[str] = []

    def ticks() -> bool:
        seen.extend(item.status for item in files.new_progress())
        return any(s.startswith("tick 5") for s in seen)

    wait_until(ticks, what="five ticks read through ingest")
    assert seen[:2] == ["starting", "committed"]


def test_results_exit_and_branch_come_back(kit: Kit) -> None:
    aid = kit.launch("results", "finish")
    files = kit.files(aid)
    wait_until(lambda: files.exit_record() is not None, what="exit.json here")
    record = files.exit_record()
    assert record is not None and record.how == "exited" and record.code == 0
    seen = files.results(time.time_ns(), final=True)
    assert seen is not None and seen.results is not None
    assert seen.results.status == "done" and seen.results.summary == f"{aid} finished"
    # The agent's commit is on the branch here, and in the worktree verification runs in.
    log = git(kit.repo, "log", "--format=%s", "-1", P.branch_name("results", 1))
    assert log.strip() == f"work of {aid}"
    wt = kit.runner.worktree("results", 1)
    assert (wt / "work" / f"{aid}.txt").is_file()
    wait_until(lambda: kit.gone(aid), what="the window closed after the agent exited")


def test_kill_ends_the_agent_and_its_group(kit: Kit) -> None:
    aid = kit.launch("kill", "forever")
    files = kit.files(aid)
    wait_until(lambda: files.pgid() is not None and files.wrapper_pid() is not None,
             what="agent.pgid and wrap.pid here")
    pgid = files.pgid()
    assert pgid is not None
    wait_until(lambda: kit.alive(aid), what="the window")
    kit.runner.end(aid, pgid=pgid, wrapper_pid=files.wrapper_pid(), hard=False)
    wait_until(lambda: files.exit_record() is not None, what="exit.json after the kill")
    record = files.exit_record()
    assert record is not None and record.how == "terminated"
    wait_until(lambda: kit.gone(aid), what="the window closed")
    wait_until(lambda: not kit.runner.group_alive(pgid, aid), what="the group gone")


def test_lost_host_is_reported_as_server_gone(kit: Kit) -> None:
    aid = kit.launch("lost", "forever")
    wait_until(lambda: kit.alive(aid), what="the window")
    kit.drop()

    def raises_gone() -> bool:
        try:
            kit.runner.snapshot()
        except ServerGone:
            return True
        except RunnerError:  # not yet lost: still being reached
            return False
        return False

    wait_until(raises_gone, what="snapshot raising ServerGone")


def test_adopt_after_restart(kit: Kit) -> None:
    aid = kit.launch("adopt", "forever")
    files = kit.files(aid)
    wait_until(lambda: kit.alive(aid), what="the window")
    wait_until(lambda: files.pgid() is not None, what="agent.pgid here")
    kit.runner.close()  # the supervisor goes away; the attempt keeps running
    size = (kit.swarm / P.AGENTS_DIR / aid / P.PROGRESS_FILE).stat().st_size
    # The new runner's first report needs a new ssh connection and a Python start on the host:
    # on a loaded box that takes longer than the 2 s the other tests allow before "lost".
    kit.runner = kit.new_runner(lost_after=30.0)
    kit.runner.track(aid, kit.runner.name)
    kit.runner.settle()  # what a restarted supervisor does before adopting
    assert kit.alive(aid), "the new runner's first snapshot left the live window out"
    path = kit.swarm / P.AGENTS_DIR / aid / P.PROGRESS_FILE
    wait_until(lambda: path.stat().st_size > size, what="progress still arriving")
    kit.runner.end(aid, pgid=files.pgid(), wrapper_pid=files.wrapper_pid(), hard=True)
    wait_until(lambda: kit.gone(aid), what="the window ended by the new runner")


def test_an_orphaned_attempt_ends_itself(kit: Kit) -> None:
    hb = kit.swarm / P.HEARTBEAT_FILE
    old = time.time() - 3600
    os.utime(hb, (old, old))  # no supervisor here: its heartbeat has been silent for an hour
    aid = kit.launch("orphan", "forever", orphan_timeout=2.0)
    files = kit.files(aid)
    wait_until(lambda: files.exit_record() is not None, timeout=30,
             what="exit.json of an agent that ended itself")
    record = files.exit_record()
    assert record is not None and record.how == "orphaned"
    pgid = files.pgid()
    assert pgid is None or not pid_alive(pgid) or not kit.runner.group_alive(pgid, aid)
