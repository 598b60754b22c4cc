"""Steering a live Claude Code session for real: the real CLI, run by swarmtui in real tmux
windows and git worktrees against the local Messages API stand-in, keeps its session open; a
tool use its policy does not cover waits as a request that the operator allows or denies, a
message goes into the running conversation, and an interrupt ends a turn, not the session.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config.model import builtin_agents
from swarmtui.store import Store
from tests.anthropic_stub import Request, StubServer, ToolUse, Turn
from tests.claude_cli import isolated_env
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import claude, claude_config, prompt_paths, route, worker
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
__all__ = ["claude"]

# Edits and progress lines are allowed; git is not: the commit becomes a request.
POLICY = {"mode": "acceptEdits", "allow": ["Bash(echo:*)"]}


def _conversation_has(stub: StubServer, needle: str) -> Request | None:
    for req in stub.messages_requests(None):
        if needle in str(req.messages):
            return req
    return None


def test_an_unknown_tool_waits_and_allow_runs_it_in_the_same_session(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("p", worker("p")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", permissions=POLICY)
    f = start(fleets, git_repo, cfg, [task("p", "claude")])
    asked = f.wait_kind("permission_asked", "p", timeout=120)
    assert asked.data["tool"] == "Bash" and "git commit" in asked.data["input"]
    assert asked.data["rule"].startswith("Bash(git add")  # what the CLI suggests allowing
    st = f.sup.state.tasks["p"]
    assert [a.n for a in st.asks] == [1] and str(st.state) == "running"
    t0 = time.monotonic()
    f.command("answer", task="p", attempt=1, request=1, allow=True, scope="task")
    # The tool runs in the same conversation: the stand-in gets its result (not an error).
    use = asked.data["tool_use"]

    def ran() -> bool:
        return any(r.get("tool_use_id") == use and not r.get("is_error")
                   for req in anthropic_stub.messages_requests(None) for r in req.tool_results())

    wait_until(ran, timeout=60)
    print(f"answer to the tool's result at the API: {time.monotonic() - t0:.3f} s")
    answered = f.wait_kind("permission_answered", "p", timeout=30)
    assert answered.data["decision"] == "allow" and answered.data["scope"] == "task"
    assert f.wait_done(timeout=180), f.summary()
    assert len(f.of("attempt_spawned", "p")) == 1  # no new attempt: the same session went on
    assert (P.worktree_dir(git_repo, "p", 1) / "hello-p.txt").exists()
    granted = f.of("rule_granted", "p")
    assert granted and granted[0].data["scope"] == "task"
    assert granted[0].data["rule"] in f.sup.state.tasks["p"].allow
    sessions = {e.data["session_id"] for e in f.of("agent_session", "p")}
    assert len(sessions) == 1


def _denied_then_stops(why_seen: list[str]) -> Any:
    base = worker("d")

    def answer(req: Request) -> Turn:
        errors = [r for r in req.tool_results() if r.get("is_error")]
        if errors:
            why_seen.append(str(errors[-1].get("content")))
            paths = prompt_paths(req)
            return Turn(tool_uses=[ToolUse("Write", {"file_path": paths["results"],
                                                     "content": '{"status": "blocked", '
                                                     '"summary": "not allowed to commit"}'})]
                        ) if len(why_seen) == 1 else Turn(text="Stopping.")
        return base(req)

    return answer


def test_deny_why_reaches_the_model_and_an_unanswered_request_times_out(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    seen_d: list[str] = []
    seen_t: list[str] = []
    anthropic_stub.add_route(route("d", _denied_then_stops(seen_d)))
    anthropic_stub.add_route(route("t", _denied_then_stops(seen_t)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        permissions={**POLICY, "ask_timeout": 3.0})
    f = start(fleets, git_repo, cfg, [task("d", "claude"), task("t", "claude")],
              exit_when_done=False)
    f.wait_kind("permission_asked", "d", timeout=120)
    f.command("answer", task="d", attempt=1, allow=False, why="No commits in this repo today.")
    denied = f.wait_kind("permission_answered", "d", timeout=30)
    assert denied.data["decision"] == "deny" and denied.data["by"] == "test"
    timed_out = f.wait_kind("permission_answered", "t", timeout=120)
    assert timed_out.data["by"] == "timeout" and timed_out.data["decision"] == "deny"
    assert wait_until(lambda: seen_d and seen_t, timeout=60)
    assert seen_d[0] == "No commits in this repo today."  # word for word, as the tool's error
    assert "No operator answered within 3 s" in seen_t[0]
    f.wait_kind("task_dead", "d", timeout=120)  # it reported itself blocked
    assert not f.sup.state.tasks["d"].asks


def _slow_worker(tid: str, heard: list[str]) -> Any:
    """Writes a progress line, then takes its time over a long turn (long enough for the
    operator to speak), then finishes with whatever the operator said in its results."""
    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        texts = [b.get("text", "") for m in req.messages if m.get("role") == "user"
                 and isinstance(m.get("content"), list) for b in m["content"]
                 if isinstance(b, dict) and b.get("type") == "text"]
        texts += [m["content"] for m in req.messages if m.get("role") == "user"
                  and isinstance(m.get("content"), str)]
        said = [x for x in texts if x.startswith("operator:")]
        if said:
            heard.extend(said)
            return Turn(tool_uses=[ToolUse("Write", {"file_path": paths["results"],
                                                     "content": '{"status": "done", '
                                                     '"summary": "' + said[-1] + '"}'})]) if (
                "results" not in str(req.messages[-1])) else Turn(text="Done.")
        return Turn(text="Thinking it over.", delay=4.0)

    return answer


def test_a_message_reaches_the_running_session_and_an_interrupt_keeps_it(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    heard: list[str] = []
    anthropic_stub.add_route(route("m", _slow_worker("m", heard)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", permissions=POLICY)
    f = start(fleets, git_repo, cfg, [task("m", "claude")], exit_when_done=False)
    f.wait_kind("agent_session", "m", timeout=120)
    # Interrupt the slow first turn: the session stays, waiting for a message.
    f.command("interrupt", task="m", attempt=1)
    f.wait_kind("turn_interrupted", "m", timeout=30)
    assert wait_until(lambda: str(f.sup.state.tasks["m"].note_kind) == "interrupted",
                      timeout=30)
    assert str(f.sup.state.tasks["m"].state) == "running"
    f.command("send", task="m", attempt=1, text="operator: use the short plan")
    said = f.wait_kind("operator_said", "m", timeout=30)
    assert said.data["outcome"] == "delivered"
    f.wait_kind("results", "m", timeout=120)
    assert heard and heard[-1] == "operator: use the short plan"
    f.wait_kind("agent_exited", "m", timeout=60)
    assert len(f.of("attempt_spawned", "m")) == 1
    assert len({e.data["session_id"] for e in f.of("agent_session", "m")}) == 1


def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                          timeout=10).stdout


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_the_agents_window_is_a_conversation_and_y_there_allows(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer, size: tuple[int, int]) -> None:
    anthropic_stub.add_route(route("w", worker("w")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", permissions=POLICY)
    f = start(fleets, git_repo, cfg, [task("w", "claude")])
    f.wait_kind("permission_asked", "w", timeout=120)
    target = f"{f.tmux.session}:w-1"
    _tmux(tmux_socket, "resize-window", "-t", target, "-x", str(size[0]), "-y", str(size[1]))

    def screen() -> str | None:
        s = _tmux(tmux_socket, "capture-pane", "-p", "-t", target)
        return s if "y allow once" in s else None

    # The transcript for people, not JSON, and the request with its keys at the bottom.
    shown = wait_until(screen, timeout=30)
    print(shown)
    assert '{"type"' not in shown
    assert "Bash: echo" in shown and "git commit" in shown
    rows = shown.rstrip("\n").split("\n")
    assert rows[-1].startswith("›")
    assert rows[-2].startswith("y allow · a allow for this session · n deny")
    _tmux(tmux_socket, "send-keys", "-t", target, "y")
    answered = f.wait_kind("permission_answered", "w", timeout=30)
    assert answered.data["by"] == "pane" and answered.data["decision"] == "allow"
    # A line typed there is a message into the session (recorded as such).
    _tmux(tmux_socket, "send-keys", "-t", target, "-l", "thanks, carry on")
    _tmux(tmux_socket, "send-keys", "-t", target, "Enter")
    said = f.wait_kind("operator_said", "w", timeout=30)
    assert said.data["by"] == "pane" and said.data["text"] == "thanks, carry on"
    assert f.wait_done(timeout=180), f.summary()


def test_a_request_outlives_a_killed_supervisor_and_is_answered_once(
        claude: str, git_repo: Path, tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer) -> None:
    """The supervisor is SIGKILLed while the agent waits on a request: the agent keeps
    waiting, a new supervisor adopts it, and `swarmtui allow` (the real CLI) answers it once;
    the same attempt finishes."""
    anthropic_stub.add_route(route("s", worker("s")))
    env = isolated_env(anthropic_stub.base_url, tmp_path / "home", api_key="sk-ant-api03-stub",
                       max_retries=2, sandbox=False)
    argv = [claude, *builtin_agents()["claude"].command[1:]]
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[slots]\nmax_agents = 2\nreserve = 0\nmin_free_memory = "0"\n'
        '[heartbeat]\ntick = "100ms"\nprogress_interval = "5s"\norphan_timeout = "2m"\n'
        '[run]\ndefault_agent = "claude"\nkill_grace = "1s"\n'
        f'[agents.claude]\ncommand = {json.dumps(argv)}\nadapter = "claude"\n'
        '[agents.claude.permissions]\nmode = "acceptEdits"\nallow = ["Bash(echo:*)"]\n'
        '[agents.claude.env]\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in env.items()))
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "s"\nprompt = "do s"\n')

    def up(log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless", "--repo",
             str(git_repo), "--config", str(cfg)], stdout=(tmp_path / log).open("wb"),
            stderr=subprocess.STDOUT, start_new_session=True)

    def asks() -> list[Any]:
        with Store(git_repo / P.SWARM_DIR / P.STATE_DB) as store:
            return list(store.replay().tasks["s"].asks) if store.replay().tasks else []

    first = up("run1.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until(asks, timeout=120, what="the agent's request in the log")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        second = up("run2.log")

        def adopted() -> bool:
            with Store(git_repo / P.SWARM_DIR / P.STATE_DB) as store:
                return any(e.kind == "attempt_adopted" for e in store.events())

        wait_until(adopted, timeout=60, what="the new supervisor adopting the waiting agent")
        assert asks(), "the request still waits after the restart"
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "swarmtui", "allow", "s#1", "--repo",
                               str(git_repo)], capture_output=True, text=True, timeout=120)
        print(f"`swarmtui allow` (the CLI, start to answer): {time.monotonic() - t0:.2f} s")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "allowed" in done.stdout
        assert second.wait(180) == 0, (tmp_path / "run2.log").read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    with Store(git_repo / P.SWARM_DIR / P.STATE_DB) as store:
        events = store.events()
    answers = [e for e in events if e.kind == "permission_answered"]
    assert [(a.attempt, a.data["request"], a.data["by"]) for a in answers] == [(1, 1, "cli")]
    assert [e.attempt for e in events if e.kind == "attempt_spawned"] == [1]
    assert any(e.kind == "attempt_adopted" for e in events)
