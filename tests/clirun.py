"""Helpers for end-to-end tests that drive swarmtui as a user does: real CLI processes, real
tmux, real git, real agents; conditions awaited on the store, never fixed sleeps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.model import RunState
from swarmtui.store import Store
from tests.waiting import describe, wait_until

SWARMTUI = [sys.executable, "-m", "swarmtui"]


def py_agent(code: str) -> list[str]:
    """An agent that runs ``code`` (a Python program) with the protocol environment."""
    return [sys.executable, "-c", code]


def write_config(path: Path, agents: dict[str, list[str]], *, extra: str = "",
                 max_agents: int = 3, tick: str = "100ms", interval: str = "2s",
                 orphan: str = "1m", pass_env: list[str] | None = None) -> Path:
    lines = [f'[slots]\nmax_agents = {max_agents}\nreserve = 0\nmin_free_memory = "0"\n'
             f'[slots.pools]\nworker = {max_agents}\n',
             # quiet and stuck after 5 and 10 silent intervals: a slow start on a loaded
             # machine is not a stuck agent (no test of these helpers is about the watchdog)
             f'[heartbeat]\ntick = "{tick}"\nprogress_interval = "{interval}"\n'
             f'quiet_after = 5\nstuck_after = 10\norphan_timeout = "{orphan}"\n',
             '[retry]\nbackoff = "200ms"\nbackoff_max = "1s"\n',
             f'[run]\ndefault_agent = "{next(iter(agents))}"\nkill_grace = "1s"\n'
             + (f"pass_env = {json.dumps(pass_env)}\n" if pass_env is not None else ""), extra]
    for name, argv in agents.items():
        lines.append(f"[agents.{name}]\ncommand = {json.dumps(argv)}\n")
    path.write_text("\n".join(lines))
    return path


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> Path:
    out = []
    for t in tasks:
        out.append("[[task]]")
        for k, v in t.items():
            out.append(f"{k} = {json.dumps(v)}")
        out.append("")
    path.write_text("\n".join(out))
    return path


def run(*argv: str, env: dict[str, str] | None = None, timeout: float = 120,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWARMTUI, *argv], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def start(*argv: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*SWARMTUI, *argv], stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})


def store_of(repo: Path) -> Store:
    return Store(repo / P.SWARM_DIR / P.STATE_DB)


def wait_state(repo: Path, pred: Callable[[RunState], bool], timeout: float = 60.0,
               what: str = "") -> RunState:
    """Replay the run's log (another process writes it) until ``pred`` holds on the state."""
    db = repo / P.SWARM_DIR / P.STATE_DB
    last: list[RunState] = []

    def check() -> RunState | None:
        if not db.exists():
            return None
        with Store(db) as s:
            last[:] = [s.replay()]
        return last[0] if pred(last[0]) else None

    def tasks() -> dict[str, tuple[str, str]]:
        return {t.id: (str(t.state), t.reason) for t in last[0].tasks.values()} if last else {}

    return wait_until(check, timeout, what or f"the run's state to satisfy {describe(pred)}",
                      interval=0.1, seen=tasks)


def supervisor_pid(repo: Path) -> int | None:
    from swarmtui.runlock import RunLock

    lock = RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
    return lock.holder_pid() if lock.holder_alive() else None


def kill_supervisor(repo: Path) -> int:
    pid = supervisor_pid(repo)
    assert pid is not None, "no supervisor holds the lock"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: supervisor_pid(repo) is None, what="the lock to be released")
    return pid


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live processes whose command line or environment mentions ``text``."""
    found = []
    me = os.getpid()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == me:
            continue
        try:
            stat = (d / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            env = (d / "environ").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd or text in env:
            found.append((int(d.name), cmd.strip()))
    return found


def events(repo: Path, kind: str | None = None, task: str | None = None) -> list[Any]:
    with store_of(repo) as s:
        return [e for e in s.events(0) if (kind is None or e.kind == kind)
                and (task is None or e.task == task)]
