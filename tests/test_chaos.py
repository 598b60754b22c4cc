"""Chaos: a 12-task run with crashes and failed verifications whose supervisor is SIGKILLed at
random moments 20 times, whose tmux server is killed once and one of whose wrappers is killed
once. It must end with every task passed, no attempt run twice, no event duplicated or missing,
never more live agents than slots, and nothing left running after ``down``.

The seed is printed (and taken from $SWARMTUI_CHAOS_SEED), so a failing run can be replayed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.fake_agent import verify_command_for
from tests.clirun import (
    processes_mentioning,
    run,
    start,
    store_of,
    supervisor_pid,
    write_config,
    write_tasks,
)
from tests.fleet import fake
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

MAX_AGENTS = 4
KILLS = 20
SCENARIOS = ["slow", "crash", "fail-verify-once", "slow", "success", "crash",
             "slow", "fail-verify-once", "slow", "success", "slow", "crash"]


class AgentMonitor:
    """Samples the live agents of one repository from /proc: every process whose environment
    names the repository and an agent id (agents and their children; wrappers carry none)."""

    def __init__(self, repo: Path) -> None:
        self.marker = f"{P.ENV_REPO}={repo}"
        self._needle = os.fsencode(self.marker)
        self.peak = 0
        self.overlaps: list[tuple[str, set[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> dict[str, set[str]]:
        live: dict[str, set[str]] = defaultdict(set)
        self.last_pids: dict[str, list[str]] = defaultdict(list)
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                raw = (d / "environ").read_bytes()
                if self._needle not in raw:  # most processes: not this run's (cheap to tell)
                    continue
                if (d / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    continue
            except OSError:
                continue
            env = raw.split(b"\0")
            vals = dict(e.decode("utf-8", "replace").split("=", 1) for e in env if b"=" in e)
            if f"{P.ENV_REPO}={vals.get(P.ENV_REPO)}" != self.marker:
                continue
            aid, tid = vals.get(P.ENV_AGENT_ID), vals.get(P.ENV_TASK_ID)
            if aid and tid:
                live[tid].add(aid)
                try:
                    cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")[:120]
                except OSError:
                    cmd = b"?"
                self.last_pids[aid].append(f"{d.name}:{cmd.decode('utf-8', 'replace')}")
        return live

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            live = self._sample()
            self.peak = max(self.peak, sum(len(v) for v in live.values()))
            for tid, aids in live.items():
                if len(aids) > 1:
                    self.overlaps.append((tid, set(aids)))
                    if len(self.overlaps) == 1:
                        self.first = {a: self.last_pids[a] for a in aids}
                        self.first_time = time.time()

    def __enter__(self) -> AgentMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def test_chaos(git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("SWARMTUI_CHAOS_SEED", "20261202"))
    rng = random.Random(seed)
    print(f"\nchaos seed {seed} (SWARMTUI_CHAOS_SEED={seed} replays it)")
    agents = {s: fake(s, "--until-attempt", "1", pace=0.9) if s in ("crash",
              "fail-verify-once") else fake(s, pace=0.9) for s in set(SCENARIOS)}
    cfg = write_config(tmp_path / "c.toml", agents, max_agents=MAX_AGENTS, tick="100ms",
                       interval="3s", extra='[breaker]\nmax_failures = 100\n')
    tasks = [{"id": f"t{i:02d}-{s}", "prompt": f"task {i}", "agent": s,
              "verify": verify_command_for(s, f"t{i:02d}-{s}"), "max_attempts": 4}
             for i, s in enumerate(SCENARIOS)]
    tf = write_tasks(tmp_path / "t.toml", tasks)
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    kills = 0
    server_killed = wrapper_killed = False
    proc: subprocess.Popen[bytes] | None = None
    with AgentMonitor(git_repo) as mon:
        while True:
            proc = start(*argv, log=tmp_path / f"sup-{kills}.log")
            if kills >= KILLS:
                break
            # It holds the lock, or the run finished before we got to it.
            wait_until(partial(_holds_lock_or_ended, git_repo, proc), timeout=30,
                       what="the supervisor to take the lock or end")
            if proc.poll() is not None:
                break  # finished
            if server_killed and not wrapper_killed:
                # The server's death took every wrapper with it; a supervisor that lives only
                # a moment (on a loaded machine it may not have started an agent yet) starts
                # none. This one lives until a wrapper is alive again, to be killed below.
                wait_until(partial(_wrapper_or_ended, git_repo, proc), timeout=120,
                           what="a live wrapper, after the tmux server's kill")
            time.sleep(rng.uniform(0.1, 1.5))  # a random moment, by design
            if proc.poll() is not None:
                break  # finished
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            kills += 1
            if kills == 7 and not server_killed:
                subprocess.run(["tmux", "-S", tmux_socket, "kill-server"], capture_output=True)
                server_killed = True
            elif server_killed and not wrapper_killed:  # one was alive a moment ago
                wrapper_killed = _kill_one_wrapper(git_repo)
        assert proc is not None
        rc = proc.wait(240)
    log = (tmp_path / f"sup-{kills}.log").read_text()
    down = run("down", "--repo", str(git_repo))
    with store_of(git_repo) as store:
        evs = store.events()
        st = store.replay()
    lost = [t.id for t in st.tasks.values() if str(t.state) not in ("passed", "merged")]
    spawned = [(e.task, e.attempt) for e in evs if e.kind == "attempt_spawned"]
    exits: dict[tuple[str | None, int | None], int] = defaultdict(int)
    for e in evs:
        if e.kind == "agent_exited":
            exits[(e.task, e.attempt)] += 1
    missing_exit = [a for a in spawned if exits[a] == 0]
    double_exit = [a for a, n in exits.items() if n > 1]
    progress: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
    for e in evs:
        if e.kind == "progress":
            progress[(e.task, e.attempt)].append(e.data["n"])
    dup_progress = [a for a, ns in progress.items() if ns != sorted(set(ns))]
    left = processes_mentioning(str(git_repo))
    report = {
        "seed": seed, "supervisor SIGKILLs": kills, "tmux server killed": server_killed,
        "wrapper killed": wrapper_killed, "tasks lost": len(lost),
        "attempts run twice": len(mon.overlaps) + len(spawned) - len(set(spawned)),
        "duplicated events": len({e.seq for e in evs}) != len(evs) or bool(double_exit)
        or bool(dup_progress),
        "missing exit records": len(missing_exit), "peak live agents": mon.peak,
        "cap": MAX_AGENTS, "processes left after down": len(left), "events": len(evs),
        "attempts": len(spawned),
    }
    print("chaos report: " + ", ".join(f"{k} = {v}" for k, v in report.items()))
    assert rc == 0, log[-3000:]
    assert down.returncode == 0, down.stderr
    assert not mon.overlaps, (mon.overlaps[:5], getattr(mon, "first", None),
                              getattr(mon, "first_time", None))
    assert kills == KILLS and server_killed and wrapper_killed, report
    assert not lost, (lost, {t.id: t.reason for t in st.tasks.values()})
    assert len(spawned) == len(set(spawned)), spawned
    assert len({e.seq for e in evs}) == len(evs)
    assert not missing_exit and not double_exit and not dup_progress, report
    assert mon.peak <= MAX_AGENTS, report
    assert not left, left


def _live_wrappers(repo: Path) -> list[int]:
    """The process ids of the live wrappers of agents that have not exited (from wrap.pid)."""
    agents = repo / P.SWARM_DIR / P.AGENTS_DIR
    pids: list[int] = []
    for d in sorted(agents.iterdir()) if agents.exists() else []:
        if (d / P.EXIT_FILE).exists():
            continue
        try:
            pid = int((d / P.WRAP_PID_FILE).read_text())
            if "swarmtui.engine.wrap" in Path(f"/proc/{pid}/cmdline").read_text():
                pids.append(pid)
        except (OSError, ValueError):
            continue
    return pids


def _holds_lock_or_ended(repo: Path, proc: subprocess.Popen[bytes]) -> bool:
    return supervisor_pid(repo) is not None or proc.poll() is not None


def _wrapper_or_ended(repo: Path, proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is not None or bool(_live_wrappers(repo))


def _kill_one_wrapper(repo: Path) -> bool:
    """SIGKILL the wrapper of one live agent; False when none is alive."""
    for pid in _live_wrappers(repo):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        return True
    return False
