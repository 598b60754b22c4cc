"""The interactive mode for real: the real Claude Code CLI runs its own screen in a real tmux
window (its own socket per test), against the local Messages API stand-in. The supervisor
follows it through its hooks and its transcript file (progress, tokens and cost, "waiting for
you"), the operator types into its screen with tmux send-keys, the message reaches the
stand-in as a user turn of the same conversation, and the attempt ends and passes its verify
as a headless one does.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config.accounts import RoleConfig
from swarmtui.model import NoteKind
from swarmtui.model.attention import needs_you
from tests.anthropic_stub import Request, StubServer, ToolUse, Turn, Usage, usage_limit_error
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import claude, claude_config, now_iso, prompt_paths, route, worker
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
__all__ = ["claude"]

USAGE = Usage(input_tokens=400, output_tokens=30, cache_read_input_tokens=1000)
QUESTION = "Which greeting should I write?"


def _user_texts(req: Request) -> list[str]:
    out: list[str] = []
    for m in req.messages:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out += [str(b.get("text", "")) for b in content
                    if isinstance(b, dict) and b.get("type") == "text"]
    return out


def asking_worker(tid: str) -> Any:
    """Writes a progress line, asks the operator which greeting to write and ends its turn;
    once a user turn says ``greeting: X`` it writes X into a file, commits it and writes its
    results, step by step with the CLI's own tools."""

    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        said = [t.split("greeting:", 1)[1].strip() for t in _user_texts(req)
                if "greeting:" in t and "# Task" not in t]
        done = sum(1 for m in req.messages if m.get("role") == "user"
                   and isinstance(m.get("content"), list)
                   for b in m["content"] if isinstance(b, dict)
                   and b.get("type") == "tool_result")
        if not said:
            if done == 0:
                return Turn(tool_uses=[ToolUse("Bash", {
                    "command": f"echo '{now_iso()} - asking which greeting [outputs: 0]' >> "
                               f"{paths['progress']}", "description": "progress"})], usage=USAGE)
            return Turn(text=QUESTION, usage=USAGE)
        word = said[-1]
        plan = [
            ToolUse("Write", {"file_path": f"{paths['worktree']}/hello-{tid}.txt",
                              "content": f"{word}\n"}),
            ToolUse("Bash", {"command": f"git add hello-{tid}.txt && git commit -q -m "
                                        "'Add greeting'", "description": "commit"}),
            ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                "status": "done", "summary": f"wrote {word}",
                "files_modified": [f"hello-{tid}.txt"]})}),
        ]
        step = done - 1  # the progress line came first
        return Turn(tool_uses=[plan[step]], usage=USAGE) if step < len(plan) else Turn(
            text="Done.", usage=USAGE)

    return answer


def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                          timeout=10).stdout


def _waiting(f: Fleet, tid: str) -> bool:
    t = f.sup.state.tasks[tid]
    return t.note_kind == NoteKind.WAITING_INPUT and t.note == "waiting for you"


def test_the_cli_runs_its_own_screen_and_the_operator_types_into_it(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("i", asking_worker("i")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("i", "claude", mode="interactive",
                                           verify="grep -q hola hello-i.txt")])
    spawned = f.wait_kind("attempt_spawned", "i", timeout=60)
    assert spawned.data["interactive"] is True
    f.wait_kind("attempt_started", "i", timeout=60)  # its window is there
    target = f"{f.tmux.session}:i-1"
    _tmux(tmux_socket, "resize-window", "-t", target, "-x", "80", "-y", "24")
    # Progress from the agent's own file, a session from the transcript, and the wait from
    # its Stop hook: its turn ended with a question for the operator.
    f.wait_kind("progress", "i", timeout=120)
    assert wait_until(lambda: _waiting(f, "i"), timeout=120)
    def at_80(s: str) -> bool:
        return QUESTION in s and max(len(line) for line in s.splitlines()) <= 80

    # At 80x24 its screen is redrawn to the pane's size (the resize is passed on).
    screen = wait_until(lambda: (s := _tmux(tmux_socket, "capture-pane", "-p", "-t", target))
                        and at_80(s) and s, timeout=30)
    print(screen)
    assert '{"type"' not in screen  # the CLI's own screen, not a stream
    assert "Claude Code" in screen or "❯" in screen
    [(_, need)] = needs_you(f.sup.state, lambda a: a, time.time())
    assert (need.kind, need.text, need.command) == ("input", "waiting for you",
                                                    "swarmtui send i TEXT")
    # Tokens and cost of each answer, from the transcript, while it runs.
    assert f.of("turn_usage", "i")
    assert f.sup.state.tasks["i"].tokens > 0
    # The operator types into its screen: a user turn of the same conversation.
    _tmux(tmux_socket, "send-keys", "-t", target, "-l", "greeting: hola")
    typed = time.time()
    _tmux(tmux_socket, "send-keys", "-t", target, "Enter")
    heard = wait_until(lambda: next((r for r in anthropic_stub.messages_requests("i")
                                     if any("greeting: hola" in t for t in _user_texts(r))),
                                    None), timeout=60)
    print(f"Enter in its screen to the user turn at the API: {heard.received_at - typed:.3f} s")
    stop = f.of("agent_hook", "i")
    waits = [e for e in stop if e.data["event"] == "Stop"]
    print(f"its turn's end (Stop fired) to the log: {waits[0].time - waits[0].data['at']:.3f} s")
    assert f.wait_done(timeout=180), f.summary()
    assert f.state_of("i") == "passed", f.summary()
    reqs = anthropic_stub.messages_requests("i")
    last = reqs[-1]
    assert any(QUESTION in json.dumps(m) for m in last.messages)  # one conversation
    assert len(f.of("attempt_spawned", "i")) == 1
    sessions = {e.data["session_id"] for e in f.of("agent_session", "i")}
    assert len(sessions) == 1
    # What the stand-in billed for the task's conversation is what the log counted: each
    # answer as it came (turn_usage), the sum in the exit record, the task's figure.
    assert len(f.of("turn_usage", "i")) >= 2
    exited = f.of("agent_exited", "i")[-1]
    assert exited.data["how"] == "exited"
    assert exited.data["tokens"] == len(reqs) * USAGE.total
    assert f.sup.state.tasks["i"].tokens == len(reqs) * USAGE.total
    assert exited.data["cost_usd"] > 0  # priced from the table: the transcript says no cost
    log = (P.agent_dir(git_repo, "i", 1) / P.OUTPUT_LOG).read_text()
    assert QUESTION in log  # the conversation, in the stream's own format
    f.assert_replay_equals_live()


def test_a_role_in_interactive_mode_waits_for_the_operator_without_being_stuck(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("w", asking_worker("w")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        heartbeat={"progress_interval": "3s", "quiet_after": 2,
                                   "stuck_after": 3})
    cfg.role_settings["worker"] = RoleConfig(mode="interactive")
    f = start(fleets, git_repo, cfg, [task("w", "claude")], exit_when_done=False)
    assert wait_until(lambda: _waiting(f, "w"), timeout=120)
    waited_from = f.sup.state.tasks["w"].last_heard_at or 0.0
    # Nine silent seconds make any other agent stuck (the CLI's start fits in them, a wait
    # for the operator does not): this one waits for you.
    assert wait_until(lambda: time.time() > waited_from + 12, timeout=30)
    t = f.sup.state.tasks["w"]
    assert str(t.health) not in ("stuck", "quiet") and str(t.state) == "running"
    assert not [e for e in f.of("health_changed", "w") if e.data["health"] == "stuck"]
    # `swarmtui send` types the message into its screen: a user turn of the same session.
    sent = time.time()
    f.command("send", task="w", attempt=1, text="greeting: hola")
    said = f.wait_kind("operator_said", "w", timeout=30)
    heard = wait_until(lambda: next((r for r in anthropic_stub.messages_requests("w")
                                     if any("greeting: hola" in t for t in _user_texts(r))),
                                    None), timeout=60)
    print(f"`send` to the user turn at the API: {heard.received_at - sent:.3f} s")
    assert said.data["outcome"] == "delivered" and said.data["text"] == "greeting: hola"
    assert wait_until(lambda: not _waiting(f, "w"), timeout=30)  # it works again
    f.wait_kind("results", "w", timeout=120)
    f.wait_kind("agent_exited", "w", timeout=60)
    assert any("greeting: hola" in t for r in anthropic_stub.messages_requests("w")
               for t in _user_texts(r))
    assert len(f.of("attempt_spawned", "w")) == 1


def test_a_usage_limit_ends_the_interactive_session_with_its_reset(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    reset = time.time() + 3600
    anthropic_stub.add_route(route("u", usage_limit_error(reset=reset)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", oauth=True)
    f = start(fleets, git_repo, cfg, [task("u", "claude", mode="interactive")],
              exit_when_done=False)
    limited = f.wait_kind("usage_limited", timeout=120)
    assert abs(limited.data["until"] - reset) < 2
    exited = f.wait_kind("agent_exited", "u", timeout=60)
    assert exited.data["how"] == "exited"  # it typed /exit: the CLI ended by itself
    assert abs(exited.data["usage_limited_until"] - reset) < 2
    failed = f.wait_kind("attempt_failed", "u", timeout=30)
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]


def test_its_own_permission_dialog_waits_for_you_and_is_answered_on_its_screen(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("p", worker("p")))
    # Progress lines are allowed, git is not: the commit shows the CLI's own dialog.
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        permissions={"mode": "acceptEdits", "allow": ["Bash(echo:*)"]})
    f = start(fleets, git_repo, cfg, [task("p", "claude", mode="interactive")])
    # The CLI's Notification hook (6 s after its dialog opens) says what it waits for.
    assert wait_until(lambda: f.sup.state.tasks["p"].note == "waiting for you: permission",
                      timeout=120)
    assert f.sup.state.tasks["p"].note_kind == NoteKind.WAITING_PERMISSION
    target = f"{f.tmux.session}:p-1"
    assert wait_until(lambda: "Do you want to proceed?" in _tmux(
        tmux_socket, "capture-pane", "-p", "-t", target), timeout=30)
    _tmux(tmux_socket, "send-keys", "-t", target, "Enter")  # 1. Yes
    assert f.wait_done(timeout=180), f.summary()
    assert f.state_of("p") == "passed"
    assert (P.worktree_dir(git_repo, "p", 1) / "hello-p.txt").exists()
    assert not f.of("permission_denied", "p")  # asked and answered on its screen


def test_the_operator_ending_it_on_its_screen_waits_for_the_operator(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path, tmux_socket: str,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("x", asking_worker("x")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("x", "claude", mode="interactive")],
              exit_when_done=False)
    assert wait_until(lambda: _waiting(f, "x"), timeout=120)
    target = f"{f.tmux.session}:x-1"
    _tmux(tmux_socket, "send-keys", "-t", target, "-l", "/exit")
    _tmux(tmux_socket, "send-keys", "-t", target, "Enter")
    failed = f.wait_kind("attempt_failed", "x", timeout=60)
    assert failed.data["cause"] == "killed" and not failed.data["counts_attempt"]
    assert "/exit" in failed.data["reason"]
    assert not f.of("task_requeued", "x")  # no new attempt by itself: `retry` starts one
    assert f.wait_kind("agent_exited", "x", timeout=30).data["code"] == 0


def slow_second_turn(heard: list[str]) -> Any:
    """A progress line at once, then a slow answer (long enough to interrupt); once a user
    turn says ``operator: ...`` it writes that into its results."""

    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        said = [t for t in _user_texts(req) if t.startswith("operator:")]
        results = any(r.get("tool_use_id") for r in req.tool_results()) and said and any(
            "results.json" in json.dumps(m) for m in req.messages[-2:])
        if said and not results:
            heard.append(said[-1])
            return Turn(tool_uses=[ToolUse("Write", {"file_path": paths["results"],
                                                     "content": json.dumps({
                                                         "status": "done",
                                                         "summary": said[-1]})})])
        if said:
            return Turn(text="Done.")
        if not req.tool_results():
            return Turn(tool_uses=[ToolUse("Bash", {
                "command": f"echo '{now_iso()} - thinking [outputs: 0]' >> "
                           f"{paths['progress']}", "description": "progress"})])
        return Turn(text="Thinking it over.", delay=8.0)

    return answer


def test_interrupt_presses_esc_and_the_session_waits_for_your_message(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    heard: list[str] = []
    anthropic_stub.add_route(route("m", slow_second_turn(heard)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("m", "claude", mode="interactive")],
              exit_when_done=False)
    # Its slow second answer is under way: Esc ends the turn, not the session.
    f.wait_kind("progress", "m", timeout=120)
    assert wait_until(lambda: len(anthropic_stub.messages_requests("m")) >= 2, timeout=60)
    f.command("interrupt", task="m", attempt=1)
    f.wait_kind("turn_interrupted", "m", timeout=30)
    assert str(f.sup.state.tasks["m"].note_kind) == "interrupted"
    f.command("send", task="m", attempt=1, text="operator: use the short plan")
    assert f.wait_kind("operator_said", "m", timeout=30).data["outcome"] == "delivered"
    f.wait_kind("results", "m", timeout=120)
    assert heard and heard[-1] == "operator: use the short plan"
    f.wait_kind("agent_exited", "m", timeout=60)
    assert len(f.of("attempt_spawned", "m")) == 1
    # The interrupted answer never reached the conversation: it was cut at Esc.
    last = anthropic_stub.messages_requests("m")[-1]
    assert "Thinking it over." not in json.dumps(last.messages)
