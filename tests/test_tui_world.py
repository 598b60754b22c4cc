"""A recorded run for the TUI tests: a real store, real agent files, a real git worktree.

Not a test module of its own (it defines no tests); the TUI tests import its builders. Times are
fixed (``T0``) and the app gets a frozen clock (``NOW``), commits have fixed dates, so every
screen is the same on every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.runtime.tmux import Tmux
from swarmtui.model import TaskSpec
from swarmtui.runlock import RunLock
from swarmtui.store import Command, Store

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
NOW = T0 + 754.0
FIXED_DATE = "2026-01-01T00:00:00+00:00"
GIT_ENV = {"GIT_AUTHOR_NAME": "swarmtui-test", "GIT_AUTHOR_EMAIL": "test@swarmtui.invalid",
           "GIT_COMMITTER_NAME": "swarmtui-test", "GIT_COMMITTER_EMAIL": "test@swarmtui.invalid",
           "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def make_repo(root: Path) -> tuple[Path, str]:
    """A repository named ``demo`` with one commit of fixed date; returns (repo, head sha)."""
    repo = root / "demo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# demo\n")
    (repo / "src").mkdir()
    (repo / "src" / "parser.py").write_text("def parse(text):\n    return {}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo, git(repo, "rev-parse", "HEAD")


def world_config(**ui: Any) -> Config:
    data: dict[str, Any] = {
        "slots": {"max_agents": 4, "reserve": 1, "subtree_budget": 2, "max_depth": 1,
                  "pools": {"worker": 3, "orchestrator": 1}},
        "run": {"default_agent": "claude", "default_role": "worker"},
        "budget": {"max_cost_usd": 25.0},
        "ui": ui,
    }
    return config_from_dict(data, "tui-test-config")


STREAM_JSON = [
    {"type": "system", "subtype": "init", "model": "claude-sonnet-4", "tools": ["Bash", "Read"]},
    {"type": "assistant", "message": {"content": [
        {"type": "text", "text": "I'll start by reading the parser."},
        {"type": "tool_use", "id": "t1", "name": "Read",
         "input": {"file_path": "src/parser.py"}}]}},
    {"type": "user", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "t1",
         "content": "def parse(text):\n    return {}\n"}]}},
    {"type": "assistant", "message": {"content": [
        {"type": "tool_use", "id": "t2", "name": "Bash",
         "input": {"command": "python -m pytest -q tests/test_parser.py"}}]}},
    {"type": "user", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "t2", "is_error": True,
         "content": "E   AssertionError: expected {'a': 1}"}]}},
    {"type": "assistant", "message": {"content": [
        {"type": "text", "text": "The test fails as expected; implementing key = value."}]}},
]


@dataclass
class World:
    repo: Path
    base: str
    store: Store
    config: Config

    def ev(self, kind: str, task: str | None = None, attempt: int | None = None,
           at: float | None = None, **data: Any) -> None:
        self.store.append_event(kind, task, attempt, data, run=1,
                                at=T0 + at if at is not None else None)

    def add_task(self, tid: str, title: str, *, role: str = "worker", agent: str = "claude",
                 parent: str | None = None, at: float = 1, **kw: Any) -> None:
        spec = TaskSpec(id=tid, title=title, prompt=f"{title}.", role=role, agent=agent,
                        parent=parent, depth=1 if parent else 0, **kw)
        self.ev("task_added", tid, at=at, spec=spec.to_dict(), attempt_base=0)

    def agent_dir(self, tid: str, attempt: int) -> Path:
        d = P.agent_dir(self.repo, tid, attempt)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def spawn(self, tid: str, attempt: int, at: float) -> None:
        self.ev("attempt_spawned", tid, attempt, at=at, window=P.agent_id(tid, attempt),
                agent="claude", worktree=str(P.worktree_dir(self.repo, tid, attempt)),
                branch=P.branch_name(tid, attempt))
        self.ev("attempt_started", tid, attempt, at=at, start_commit=self.base)
        d = self.agent_dir(tid, attempt)
        (d / P.PROMPT_FILE).write_text(f"# Task {tid}\n\nDo the work for {tid}.\n\n"
                                       "## Protocol\n\nAppend progress lines to "
                                       "$SWARM_PROGRESS_FILE.\n")

    def progress(self, tid: str, attempt: int, at: float, status: str, n: int,
                 outputs: int | None = None) -> None:
        self.ev("progress", tid, attempt, at=at, status=status, n=n, outputs=outputs)
        line = f"2026-01-01T00:{int(at) // 60:02d}:{int(at) % 60:02d}Z - {status}"
        if outputs is not None:
            line += f" [outputs: {outputs}]"
        with (self.agent_dir(tid, attempt) / P.PROGRESS_FILE).open("a") as f:
            f.write(line + "\n")


def build_world(root: Path, *, extra_running: int = 0, clock_events: bool = True) -> World:
    """A run ten minutes in: every task state, health warnings, sub-agents, costs, a diff."""
    repo, base = make_repo(root)
    store = Store(repo / P.SWARM_DIR / P.STATE_DB)
    w = World(repo, base, store, world_config())
    w.ev("run_started", at=0, run=1, repo=str(repo), base=base, target="main",
         tasks_file="tasks.toml", pid=1)
    w.add_task("parser", "Write the config parser", files=("src/parser.py",),
               verify="python -m pytest -q")
    w.add_task("docs", "Document the public API")
    w.add_task("flaky", "Fix the off-by-one")
    w.add_task("stall", "Refactor storage")
    w.add_task("cache", "Add the cache")
    w.add_task("planner", "Split the API work", role="orchestrator")
    w.add_task("release", "Write the release notes", depends_on=("parser", "docs"))
    w.add_task("old", "Remove the legacy loader")
    for i in range(extra_running):
        w.add_task(f"bulk{i:03d}", f"Bulk task number {i}")

    # parser: running, healthy, with a diff and a stream-json log.
    w.spawn("parser", 1, at=10)
    for n, (t, s, o) in enumerate([(60, "reading the parser", 0), (300, "writing tests", 1),
                                   (700, "implementing key = value", 2)], 1):
        w.progress("parser", 1, t, s, n, o)
    wt = P.worktree_dir(repo, "parser", 1)
    wt.parent.mkdir(parents=True, exist_ok=True)
    git(repo, "worktree", "add", "-q", "-b", "swarm/parser-1", str(wt), base)
    (wt / "src" / "parser.py").write_text(
        "def parse(text):\n    out = {}\n    for line in text.splitlines():\n"
        "        key, _, value = line.partition('=')\n        out[key.strip()] = value.strip()\n"
        "    return out\n")
    (wt / "tests").mkdir()
    (wt / "tests" / "test_parser.py").write_text(
        "from src.parser import parse\n\n\ndef test_parse():\n"
        "    assert parse('a = 1') == {'a': '1'}\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "parser: key = value")
    w.ev("diff", "parser", 1, at=705, files=2, insertions=9, deletions=1)
    w.ev("forecast", "parser", 1, at=706, target="clean", files=[], conflicts_with=[],
         out_of_scope=[])
    (w.agent_dir("parser", 1) / P.OUTPUT_LOG).write_text(
        "\n".join(json.dumps(o) for o in STREAM_JSON) + "\nplain line from a wrapper\n")

    # docs: running but quiet.
    w.spawn("docs", 1, at=20)
    w.progress("docs", 1, 120, "outlining the API reference", 1, 0)
    w.ev("health", "docs", 1, at=400, health="quiet", evidence={"silent_s": 280})
    (w.agent_dir("docs", 1) / P.OUTPUT_LOG).write_text("docs agent output\n")

    # flaky: verify failed, waiting for its retry.
    w.spawn("flaky", 1, at=30)
    w.progress("flaky", 1, 90, "fixed it", 1, 1)
    w.ev("results", "flaky", 1, at=200, status="done", summary="fixed the loop bound",
         files_modified=["src/loop.py"], do_not_revert=False, outputs=1, extra={})
    w.ev("agent_exited", "flaky", 1, at=201, code=0, signal=None, how="exited",
         cost_usd=0.81, tokens=51000)
    w.ev("verify_started", "flaky", 1, at=202, command="python -m pytest -q")
    w.ev("verify_failed", "flaky", 1, at=210, code=1, seconds=8,
         tail="FAILED tests/test_loop.py::test_bound - assert 9 == 10")
    w.ev("attempt_failed", "flaky", 1, at=211, reason="verify failed", cause="verify_failed",
         counts_attempt=True, counts_breaker=True)
    w.ev("task_requeued", "flaky", 1, at=212, reason="verify failed", delay_s=30,
         not_before=T0 + 242, note="")

    # stall: stuck, killed, dead after its last attempt.
    w.spawn("stall", 1, at=40)
    w.progress("stall", 1, 60, "planning", 1)
    w.ev("health", "stall", 1, at=240, health="stuck", evidence={"silent_s": 180})
    w.ev("attempt_failed", "stall", 1, at=241, reason="stuck", health="stuck", cause="stuck",
         counts_attempt=True, counts_breaker=True)
    w.ev("agent_exited", "stall", 1, at=241.5, signal="SIGTERM", how="terminated")
    w.ev("task_dead", "stall", 1, at=242, reason="stuck; no attempts left", why="gave_up")

    # cache: passed, with cost.
    w.spawn("cache", 1, at=50)
    w.progress("cache", 1, 100, "done", 1, 3)
    w.ev("results", "cache", 1, at=150, status="done", summary="added an LRU cache",
         files_modified=["src/cache.py"], do_not_revert=True, outputs=3, extra={})
    (w.agent_dir("cache", 1) / P.RESULTS_FILE).write_text(json.dumps(
        {"status": "done", "summary": "added an LRU cache", "files_modified": ["src/cache.py"],
         "do_not_revert": True}))
    w.ev("agent_exited", "cache", 1, at=151, code=0, signal=None, how="exited",
         cost_usd=1.42, tokens=88000)
    w.ev("verify_started", "cache", 1, at=152, command="python -m pytest -q")
    w.ev("verify_passed", "cache", 1, at=160, code=0, seconds=8, tail="3 passed in 0.2s")
    w.ev("diff", "cache", 1, at=161, files=1, insertions=40, deletions=0)

    # planner: an orchestrator with two sub-agents.
    w.spawn("planner", 1, at=60)
    w.progress("planner", 1, 600, "waiting for sub-agents", 2, 2)
    for i, child in enumerate(("planner-api", "planner-db")):
        w.add_task(child, f"API slice {child[8:]}", parent="planner", at=300 + i)
    w.spawn("planner-api", 1, at=310)
    w.progress("planner-api", 1, 650, "endpoints drafted", 1, 1)
    w.ev("health", "planner-api", 1, at=690, health="unproductive",
         evidence={"note": "progress lines but no new outputs, diff or log output"})

    # release: blocked by its dependencies; old: merged long ago.
    w.ev("task_blocked", "release", at=5, reason="waits for parser, docs")
    w.spawn("old", 1, at=3)
    w.ev("results", "old", 1, at=80, status="done", summary="removed the loader",
         files_modified=[], do_not_revert=False, outputs=0, extra={})
    w.ev("agent_exited", "old", 1, at=81, code=0, signal=None, how="exited", cost_usd=0.33,
         tokens=9000)
    w.ev("verify_started", "old", 1, at=82, command="true")
    w.ev("verify_passed", "old", 1, at=83, code=0, seconds=0, tail="")
    w.ev("task_merged", "old", 1, at=90, branch="swarm/old-1", target="main", commit=w.base)

    for i in range(extra_running):
        tid = f"bulk{i:03d}"
        w.spawn(tid, 1, at=100 + i)
        w.progress(tid, 1, 200 + i, f"step {i}", 1, i % 5)
    return w


# -- a stand-in supervisor that answers the command inbox -----------------------------------


@dataclass
class Answerer:
    """Holds the supervisor lock and answers every command, as a live supervisor would.

    ``reply`` maps a command to (status, result); ``effects`` may append events (the real
    supervisor's consequences), so the screen can be checked as well as the inbox.
    """

    world: World
    reply: Callable[[Command], tuple[str, dict[str, Any]]] | None = None
    seen: list[Command] = field(default_factory=list)
    lock: RunLock | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Answerer:
        self.lock = RunLock(self.world.repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
        assert self.lock.acquire()
        store = Store(self.world.repo / P.SWARM_DIR / P.STATE_DB)

        def loop() -> None:
            while not self._stop.is_set():
                for cmd in store.pending_commands():
                    self.seen.append(cmd)
                    status, result = (self.reply(cmd) if self.reply else
                                      ("done", {"message": f"{cmd.kind} done"}))
                    if cmd.kind == "pause" and status == "done":
                        store.append_event("dispatch_paused", data={"by": cmd.source}, run=1)
                    if cmd.kind == "resume" and status == "done":
                        store.append_event("dispatch_resumed", data={"by": cmd.source}, run=1)
                    if cmd.kind == "ack" and status == "done" and cmd.args.get("alert"):
                        store.append_event("alert_acked", data={"alert": cmd.args["alert"],
                                                                "by": cmd.source}, run=1)
                    store.finish_command(cmd.id, status, result)
                time.sleep(0.02)
            store.close()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.lock is not None:
            self.lock.release()


def commands(world: World) -> list[tuple[str, dict[str, Any], str]]:
    """(kind, args, source) of every row in the store's commands table."""
    return [(c.kind, c.args, c.source) for c in world.store.commands()]


def no_tmux(root: Path) -> Tmux:
    """A Tmux handle on a socket where no server runs (tests that never touch tmux)."""
    return Tmux("swarm-demo-test", socket=str(root / "no-server.sock"))


@pytest.fixture(autouse=True)
def utc_private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times render in UTC and no user config or theme leaks in; modules that import this
    fixture get it for every test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    yield
    time.tzset()
