"""A supervisor that fails leaves a trace, and one that lost its run stops (real parts).

The crash record: an exception escaping the loop becomes a ``supervisor_crashed`` event with its
traceback (and an alert) and lands in ``.swarm/supervisor.log``. Lost footing: a supervisor whose
repository or store is deleted under it stops at its next tick instead of running on and
re-creating ``.swarm/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.run.footing import Footing, Lost
from swarmtui.model import Event
from swarmtui.model import payloads as p
from swarmtui.store import Store
from tests.fleet import fake, fast_config, start, task
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Boom:
    """A message whose handler raises: stands in for any bug in a part."""


def _stall_fleet(fleets: list, repo: Path):  # type: ignore[no-untyped-def]
    cfg = fast_config({"stall": fake("stall")})
    fleet = start(fleets, repo, cfg, [task("s", "stall")], exit_when_done=False)
    fleet.wait_kind("attempt_started", "s")
    return fleet


def test_a_crash_in_the_loop_is_recorded_with_its_traceback(fleets: list,
                                                            git_repo: Path) -> None:
    fleet = _stall_fleet(fleets, git_repo)

    def explode(_msg: Boom) -> None:
        raise RuntimeError("a part broke mid-tick")

    fleet.sup.loop.on(Boom, explode)
    fleet.sup.loop.post(Boom())
    assert fleet.thread is not None
    fleet.thread.join(30)
    assert not fleet.thread.is_alive()
    assert isinstance(fleet.error, RuntimeError)
    fleet.error = None  # expected: the harness would report it as a failure

    crashes = [e for e in fleet.store.events(0) if e.kind == "supervisor_crashed"]
    assert len(crashes) == 1
    rec = crashes[0].get(p.SupervisorCrashed)
    assert rec.error == "RuntimeError: a part broke mid-tick"
    assert "explode" in rec.traceback and rec.thread
    state = fleet.store.replay()
    assert any(a.key == ("crash",) and not a.resolved for a in state.alerts.values())
    trace = (git_repo / P.SWARM_DIR / P.SUPERVISOR_LOG).read_text()
    assert "crashed: RuntimeError: a part broke mid-tick" in trace
    assert "explode" in trace  # the whole traceback is in the file


def test_a_supervisor_whose_store_is_deleted_stops(fleets: list, git_repo: Path) -> None:
    fleet = _stall_fleet(fleets, git_repo)
    db = git_repo / P.SWARM_DIR / P.STATE_DB
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert fleet.thread is not None
    fleet.thread.join(30)
    assert not fleet.thread.is_alive(), "the supervisor ran on without its store"
    assert fleet.sup.lost is not None and fleet.sup.lost.cause == Lost.STORE_GONE
    trace = (git_repo / P.SWARM_DIR / P.SUPERVISOR_LOG).read_text()
    assert f"stopping: {db} was deleted" in trace
    fleet.sup.ports = None  # nothing to compare a replay with: the log is gone


def test_footing_notices_a_replaced_store(tmp_path: Path, git_repo: Path) -> None:
    db = git_repo / P.SWARM_DIR / P.STATE_DB
    Store(db).close()
    footing = Footing.take(git_repo, db)
    assert footing.check() is None
    other = tmp_path / "other.db"
    Store(other).close()
    os.replace(other, db)  # what a merged agent branch carrying .swarm/state.db did
    lost = footing.check()
    assert lost is not None and lost.cause == Lost.STORE_REPLACED


def test_a_headless_supervisor_whose_repository_is_deleted_stops(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    argv = fake("stall")
    cfg.write_text(f"""
[run]
default_agent = "stall"
kill_grace = "1s"
[heartbeat]
tick = "200ms"
orphan_timeout = "10s"
[slots]
min_free_memory = "0"
[agents.stall]
command = {argv!r}
""".replace("'", '"'))
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "s"\nprompt = "never finishes"\n')
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless", "--repo",
             str(git_repo), "--config", str(cfg)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: b"attempt_started" in log.read_bytes() or proc.poll() is not None,
                   60, "the agent to start")
        assert proc.poll() is None, log.read_text()
        # The supervisor and the agent's wrapper keep writing under .swarm while it goes, so a
        # single rmtree can find a folder refilled behind it: delete until nothing is left.
        wait_until(lambda: shutil.rmtree(git_repo, ignore_errors=True) or not git_repo.exists(),
                   30, "the repository to be deleted")
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out_text = log.read_text()
    assert rc == 1, out_text
    assert "supervisor stopped:" in out_text and "the repository was deleted" in out_text
    assert "agents were ended" in out_text
    assert not git_repo.exists(), "the supervisor re-created the deleted repository's files"


def test_a_crashed_headless_supervisor_says_so_and_status_shows_it(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """A real supervisor with a bug (an injected fault in its tick): the CLI says it crashed,
    without a raw traceback; `status` and the message after leaving tmux quote the crash."""
    from swarmtui.cli.session import after_attach

    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[run]\ndefault_agent = "a"\n[slots]\nmin_free_memory = "0"\n'
                   f'[agents.a]\ncommand = {json.dumps(fake("stall"))}\n')
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "s"\nprompt = "p"\n')
    up = subprocess.run([sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless",
                         "--repo", str(git_repo), "--config", str(cfg)], capture_output=True,
                        text=True, timeout=120,
                        env={**os.environ, "SWARMTUI_FAULT": "tick:raise"})
    said = up.stdout + up.stderr
    assert up.returncode == 1, said
    assert "the supervisor crashed: InjectedFault: fault injected at tick" in said
    assert "Traceback" not in said
    status = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--repo",
                             str(git_repo)], capture_output=True, text=True, timeout=60)
    assert "the supervisor crashed at " in status.stdout, status.stdout
    assert "InjectedFault: fault injected at tick" in status.stdout
    js = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--json", "--repo",
                         str(git_repo)], capture_output=True, text=True, timeout=60)
    crash = json.loads(js.stdout)["run"]["last_crash"]
    assert crash["error"].startswith("InjectedFault") and crash["resumed"] is False
    left = after_attach(git_repo)
    assert "the supervisor crashed at " in left and "InjectedFault" in left
    assert "restarts it in window 0" in left


def test_a_helper_thread_that_raises_is_recorded_as_the_supervisors_crash(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """The wake listener (a helper thread) raises on a nudge (an injected fault): the real
    supervisor records the crash with the thread's name and its traceback, and leaves; `status`
    quotes it."""
    from swarmtui.engine.runtime.wake import nudge

    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[run]\ndefault_agent = "a"\n[slots]\nmin_free_memory = "0"\n'
                   f'[agents.a]\ncommand = {json.dumps(fake("stall"))}\n')
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "s"\nprompt = "p"\n')
    up = subprocess.Popen([sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless",
                           "--repo", str(git_repo), "--config", str(cfg)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, "SWARMTUI_FAULT": "wake:raise"})
    try:
        wait_until(lambda: (P.swarm_dir(git_repo) / P.STATE_DB).exists() and any(
            e.kind == "attempt_started" for e in _events(git_repo)), timeout=60,
            what="the agent to start")
        nudge(git_repo)
        said, _ = up.communicate(timeout=120)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode == 1, said
    assert "InjectedFault: fault injected at wake" in said
    crashes = [e for e in _events(git_repo) if e.kind == "supervisor_crashed"]
    assert len(crashes) == 1
    rec = crashes[0].get(p.SupervisorCrashed)
    assert rec.thread == "swarm-wake" and rec.error.startswith("InjectedFault")
    assert "wake.py" in rec.traceback
    trace = (P.swarm_dir(git_repo) / "supervisor.log").read_text()
    assert "thread swarm-wake raised" in trace
    status = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--repo",
                             str(git_repo)], capture_output=True, text=True, timeout=60)
    assert "the supervisor crashed at " in status.stdout
    assert "fault injected at wake" in status.stdout


def _events(repo: Path) -> list[Event]:
    store = Store(P.swarm_dir(repo) / P.STATE_DB)
    try:
        return list(store.events(0))
    finally:
        store.close()
