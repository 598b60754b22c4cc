"""A run of N tasks as a log, written through the real store API, for `bench/status.py`.

Starting 500 real agents to measure one `status` call takes minutes and the whole box; what
`status` costs depends on the log (how many tasks, attempts and events) and not on whether the
agents still run. So this writes the events a supervisor would have written for N tasks in a
spread of states (running with progress, quiet, passed, merged, failed and waiting for a retry,
dead, never started), each validated by its payload type as `emit` would, into a real
repository's `.swarm/state.db`, with the run's stored settings, and a snapshot as a live
supervisor would have left it. Not a test module; tests import nothing from here.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui import snapshot
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.run.runconfig import settings_for
from swarmtui.model import TaskSpec
from swarmtui.store import Store

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@swarmtui.invalid"]


def bench_config(n: int) -> Config:
    data: dict[str, Any] = {
        "slots": {"max_agents": n, "reserve": 0, "min_free_memory": "0",
                  "pools": {"worker": n, "orchestrator": 2}},
        "run": {"default_agent": "claude", "default_role": "worker"},
        "agents": {"claude": {"command": ["claude"], "adapter": "claude"},
                   "codex": {"command": ["codex"], "adapter": "codex"}},
    }
    return config_from_dict(data, "bench-config")


def make_repo(root: Path) -> tuple[Path, str]:
    repo = root / "repo"
    repo.mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("# bench\n")
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "initial"], cwd=repo, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()
    return repo, base


class Writer:
    """Appends one run's events with times relative to its start."""

    def __init__(self, store: Store, t0: float) -> None:
        self.store, self.t0 = store, t0

    def ev(self, kind: str, task: str | None = None, attempt: int | None = None,
           at: float = 0.0, **data: Any) -> None:
        self.store.append_event(kind, task, attempt, data, run=1, at=self.t0 + at)

    def spawn(self, repo: Path, tid: str, attempt: int, at: float, agent: str) -> None:
        self.ev("attempt_spawned", tid, attempt, at=at, window=P.agent_id(tid, attempt),
                agent=agent, worktree=str(P.worktree_dir(repo, tid, attempt)),
                branch=P.branch_name(tid, attempt))
        self.ev("attempt_started", tid, attempt, at=at + 0.5, start_commit="0" * 40)

    def progress(self, tid: str, attempt: int, at: float, steps: int) -> None:
        for n in range(1, steps + 1):
            self.ev("progress", tid, attempt, at=at + 2 * n, status=f"step {n} of the work",
                    n=n, outputs=n // 3)


def one_task(w: Writer, repo: Path, base: str, i: int) -> None:
    """Task i's history; its state follows i modulo 20, so every N has the same mix."""
    tid = f"t{i:04d}"
    agent = "codex" if i % 7 == 0 else "claude"
    spec = TaskSpec(id=tid, title=f"Bench task number {i}", prompt=f"Do the work of task {i}.",
                    role="worker", agent=agent, files=(f"src/m{i}.py",))
    w.ev("task_added", tid, at=1, spec=spec.to_dict(), attempt_base=0)
    kind = i % 20
    if kind == 19:
        return  # pending, never started
    w.spawn(repo, tid, 1, 10 + i * 0.01, agent)
    w.progress(tid, 1, 12, 8)
    if kind < 12:  # running
        if kind == 3:
            w.ev("health", tid, 1, at=300, health="quiet", evidence={"silent_s": 180})
        return
    w.ev("results", tid, 1, at=100, status="done", summary=f"did task {i}",
         files_modified=[f"src/m{i}.py"], do_not_revert=False, outputs=2, extra={})
    w.ev("agent_exited", tid, 1, at=101, code=0, signal=None, how="exited", cost_usd=0.05,
         tokens=12000)
    w.ev("verify_started", tid, 1, at=102, command="true")
    if kind < 16:  # passed (some merged)
        w.ev("verify_passed", tid, 1, at=103, code=0, seconds=1.0)
        if kind < 14:
            w.ev("task_merged", tid, 1, at=110, branch=P.branch_name(tid, 1), target="main",
                 commit=base, summary=f"did task {i}", files_modified=[f"src/m{i}.py"])
        return
    w.ev("verify_failed", tid, 1, at=103, code=1, seconds=1.0, tail="FAILED test_x")
    w.ev("attempt_failed", tid, 1, at=104, reason="verify failed", cause="verify_failed",
         counts_attempt=True, counts_breaker=True)
    if kind < 18:
        w.ev("task_requeued", tid, 1, at=105, reason="verify failed", delay_s=30,
             not_before=w.t0 + 135, note="")
    else:
        w.ev("task_dead", tid, 1, at=105, reason="verify failed; no attempts left",
             why="gave_up")


def build(root: Path, n: int) -> tuple[Path, Config]:
    """A repository at ``root/repo`` holding a run of ``n`` tasks; returns (repo, config)."""
    repo, base = make_repo(root)
    config = bench_config(n)
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    w = Writer(store, time.time() - 600)
    w.ev("run_started", at=0, run=1, repo=str(repo), base=base, target="main",
         tasks_file="tasks.toml", pid=1, settings=asdict(settings_for(config, "tasks.toml")))
    with store.transaction():
        for i in range(n):
            one_task(w, repo, base, i)
    state = store.replay()
    store.save_snapshot(1, state.last_seq, snapshot.dump(state))
    store.close()
    return repo, config
