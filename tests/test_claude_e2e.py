"""Claude Code for real: the real CLI (``@anthropic-ai/claude-code``) run by swarmtui in real
tmux windows and git worktrees, against a local stand-in for the Messages API that scripts the
model. Every failure of the real world is a named state with its cause.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import DEFAULT_ALLOW
from swarmtui.config.model import builtin_agents
from tests.anthropic_stub import (
    ErrorTurn,
    Hang,
    Request,
    Route,
    StubServer,
    ToolUse,
    Turn,
    Usage,
    first_user_text_contains,
    usage_limit_error,
)
from tests.claude_cli import find_claude, isolated_env
from tests.fleet import Fleet, fast_config, start, task

pytestmark = pytest.mark.e2e

OAUTH = "sk-ant-oat01-stub-subscriber-token"


@pytest.fixture(scope="module")
def claude() -> str:
    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    return str(found.path)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def prompt_paths(req: Request) -> dict[str, str]:
    """The attempt's files as the newest attempt's swarmtui prompt in the conversation names
    them (a resumed session holds the earlier attempt's prompt too)."""
    found: list[tuple[int, dict[str, str]]] = []
    texts = [_text(m.get("content")) for m in req.messages if m.get("role") == "user"]
    # The API merges consecutive user turns (a prompt that failed, then the follow-up), so one
    # message may hold several prompts: each starts with its own "You are agent".
    for text in (seg for t in texts for seg in t.split("You are agent")[1:]):
        text = "You are agent" + text
        agent = re.search(r"You are agent `[^`]*-(\d+)`", text)
        prog = re.search(r"`(/[^`]+/progress\.md)`", text)
        res = re.search(r"`(/[^`]+/results\.json)`", text)
        wt = re.search(r"on your own branch \(`(/[^`]+)`\)", text)
        if agent and prog and res and wt:
            found.append((int(agent.group(1)), {"progress": prog.group(1),
                                                "results": res.group(1),
                                                "worktree": wt.group(1)}))
    if not found:
        raise AssertionError("no swarmtui prompt in the request")
    return max(found, key=lambda f: f[0])[1]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(b.get("text", "")) for b in content or [] if isinstance(b, dict))


def steps_done(req: Request) -> int:
    """How many tool calls the conversation has answered so far."""
    return sum(1 for m in req.messages if m.get("role") == "user"
               and isinstance(m.get("content"), list)
               for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")


def worker(tid: str, *, usage: Usage | None = None) -> Any:
    """A scripted agent that follows the swarmtui protocol with the real CLI's own tools: a
    progress line (Bash), a file (Write), a commit (Bash), results.json (Write), a final text.
    It reads where its files are from the prompt and how far it got from the conversation, so
    the same script also carries on a resumed session."""
    u = usage or Usage(input_tokens=400, output_tokens=30, cache_read_input_tokens=1000)

    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        step = steps_done(req)
        hello = f"{paths['worktree']}/hello-{tid}.txt"
        plan = [
            ToolUse("Bash", {"command": f"echo '{now_iso()} - started [outputs: 0]' >> "
                                        f"{paths['progress']}", "description": "progress"}),
            ToolUse("Write", {"file_path": hello, "content": f"hello from {tid}\n"}),
            ToolUse("Bash", {"command": f"git add hello-{tid}.txt && git commit -q -m "
                                        "'Add hello'", "description": "commit"}),
            ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                "status": "done", "summary": f"added hello-{tid}.txt",
                "files_modified": [f"hello-{tid}.txt"]})}),
        ]
        denied = [r for r in req.tool_results() if r.get("is_error")]
        if denied:
            # What a model does when a tool is refused: it says so and stops.
            return Turn(text="I was not allowed to run that; stopping.", usage=u)
        if step < len(plan):
            return Turn(tool_uses=[plan[step]], usage=u)
        return Turn(text="Done.", usage=u)

    return answer


def claude_config(claude: str, stub: StubServer, home: Path, *, permissions: dict[str, Any]
                  | None = None, oauth: bool = False, max_retries: int = 2,
                  **sections: dict[str, Any]) -> Any:
    env = isolated_env(stub.base_url, home, api_key=None if oauth else "sk-ant-api03-stub",
                       oauth_token=OAUTH if oauth else None, max_retries=max_retries,
                       sandbox=False)
    # The real CLI takes seconds to start: second-scale intervals, but not a hair trigger.
    sections.setdefault("heartbeat", {"progress_interval": "5s", "quiet_after": 3,
                                      "stuck_after": 6})
    # The built-in command, with the CLI found here.
    argv = [claude, *builtin_agents()["claude"].command[1:]]
    cfg = fast_config({"claude": argv}, **sections)
    agent = cfg.agents["claude"].model_copy(update={"adapter": "claude", "env": env})
    if permissions is not None:
        agent = agent.model_copy(update={"permissions": agent.permissions.model_copy(
            update=permissions)})
    cfg.agents["claude"] = agent
    return cfg


def route(tid: str, *items: Any) -> Route:
    return Route(tid, first_user_text_contains(f"# Task {tid}:"), list(items))


def billed_tokens(stub: StubServer) -> int:
    return stub.total_billed().total


def test_tasks_pass_with_the_documented_permissions(claude: str, git_repo: Path,
                                                    fleets: list[Fleet], tmp_path: Path,
                                                    anthropic_stub: StubServer) -> None:
    for tid in ("one", "two"):
        anthropic_stub.add_route(route(tid, worker(tid)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    assert list(cfg.agents["claude"].permissions.allow) == list(DEFAULT_ALLOW)
    f = start(fleets, git_repo, cfg, [task("one", "claude"), task("two", "claude")])
    assert f.wait_done(timeout=180), f.summary()
    for tid in ("one", "two"):
        log = (P.worktree_dir(git_repo, tid, 1) / f"hello-{tid}.txt").read_text()
        assert log == f"hello from {tid}\n"
        assert any(e.data["status"] == "started" for e in f.of("progress", tid))
        assert f.of("agent_session", tid)
    # Tokens and cost as Claude Code reported them, against what the server billed.
    st = f.sup.state
    assert sum(t.tokens for t in st.tasks.values()) == billed_tokens(anthropic_stub)
    assert all(t.cost_usd > 0 for t in st.tasks.values())
    print(f"tokens {sum(t.tokens for t in st.tasks.values())} (billed "
          f"{billed_tokens(anthropic_stub)}), cost ${sum(t.cost_usd for t in st.tasks.values())}")


def test_a_denied_permission_is_its_own_state_and_a_retry_grants_it(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("p", worker("p")))
    # A policy that allows edits but not git, and asks nobody: the commit is denied.
    perms = {"mode": "acceptEdits", "allow": ["Bash(echo:*)"], "ask": False}
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", permissions=perms)
    f = start(fleets, git_repo, cfg, [task("p", "claude")], exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "p", timeout=120)
    assert failed.data["cause"] == "needs_permission", failed.data
    assert "Bash(git add:*)" in failed.data["reason"]
    assert f.of("permission_denied", "p")
    assert str(f.sup.state.tasks["p"].state) == "failed"  # waits for the operator
    assert not f.of("task_requeued", "p")
    f.command("retry", task="p", allow=["Bash(git add:*)", "Bash(git commit:*)"])
    f.wait_kind("verify_passed", "p", timeout=120)
    assert (P.worktree_dir(git_repo, "p", 2) / "hello-p.txt").exists()


def test_a_usage_limit_pauses_and_resumes_the_session_by_itself(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    reset = time.time() + 4
    anthropic_stub.add_route(route("u", usage_limit_error(reset=reset), worker("u")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", oauth=True)
    # Outside the box: this pins the hook's race with the CLI's exit (issue 18.6). In the box
    # every process in it ends with the CLI, the hook's shell too, so the StopFailure line
    # lands (the wrapper finishes it) but its payload may be cut (docs/architecture.md).
    agent = cfg.agents["claude"]
    cfg.agents["claude"] = agent.model_copy(update={
        "sandbox": agent.sandbox.model_copy(update={"mode": "off"})})
    f = start(fleets, git_repo, cfg, [task("u", "claude")])
    limited = f.wait_kind("usage_limited", "u", timeout=120)
    assert limited.data["limit_type"] == "five_hour"
    assert f.wait_done(timeout=180), f.summary()
    failed = f.of("attempt_failed", "u")[0]
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]
    second = f.of("attempt_spawned", "u")[1]
    session = f.of("agent_session", "u")[0].data["session_id"]
    assert second.data["resumes"] == session  # its own conversation, not a fresh start
    # The CLI's StopFailure hook fires as it exits and is not waited for (issue 18.6): it is
    # recorded, and before the attempt is settled.
    exited = next(e for e in f.of("agent_exited", "u") if e.attempt == 1)
    stop_hooks = [e for e in f.of("agent_hook", "u")
                  if e.attempt == 1 and e.data["event"] == "StopFailure"]
    assert stop_hooks and stop_hooks[0].seq < exited.seq, " ".join(
        f"{e.kind}/{e.attempt}" for e in f.events if e.task == "u")
    assert stop_hooks[0].data["error"] == "rate_limit"
    started = f.of("attempt_started", "u")[1]
    print(f"limit reset to resumed attempt: {started.time - limited.data['until']:.2f} s")
    assert started.time >= limited.data["until"]


def test_an_invalid_key_is_not_retried_and_holds_the_agent(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("k", ErrorTurn(401, headers={"x-should-retry": "false"},
                                                  repeat=True)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("k", "claude"), task("later", "claude",
                                                                depends_on=("k",))],
              exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "k", timeout=120)
    assert failed.data["cause"] == "api_auth" and "ANTHROPIC_API_KEY" in failed.data["reason"]
    held = f.wait_kind("agent_held", timeout=10)
    assert held.data["agent"] == "claude"
    assert len(f.of("attempt_spawned", "k")) == 1 and not f.of("task_requeued", "k")


def test_an_overloaded_api_is_retried_and_counts_as_alive(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("o", ErrorTurn(529), ErrorTurn(529), ErrorTurn(529),
                                   worker("o")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", max_retries=5)
    f = start(fleets, git_repo, cfg, [task("o", "claude")])
    assert f.wait_done(timeout=180), f.summary()
    retries = f.of("api_retry", "o")
    assert [e.data["status"] for e in retries] == [529, 529, 529]
    assert not f.of("attempt_failed", "o")  # alive all along: never called stuck


def test_a_hung_api_call_is_caught_as_stuck_and_retried(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("h", Hang(seconds=120), worker("h")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        heartbeat={"progress_interval": "2s", "quiet_after": 2,
                                   "stuck_after": 4})  # 8 s: the retry's CLI starts in time
    f = start(fleets, git_repo, cfg, [task("h", "claude")])
    assert f.wait_done(timeout=180), f.summary()
    assert f.of("attempt_failed", "h")[0].data["cause"] == "stuck"
    assert [e.attempt for e in f.of("attempt_spawned", "h")] == [1, 2]


SUB_PROMPT = "Count the files in the repository and report the number."


def test_a_subagents_tokens_are_counted(claude: str, git_repo: Path, fleets: list[Fleet],
                                        tmp_path: Path, anthropic_stub: StubServer) -> None:
    inner = worker("s")

    def main(req: Request) -> Turn:
        if steps_done(req) == 0:
            return Turn(tool_uses=[ToolUse("Agent", {"description": "Count files",
                                                     "prompt": SUB_PROMPT, "model": "haiku",
                                                     "subagent_type": "general-purpose",
                                                     "run_in_background": False})],
                        usage=Usage(input_tokens=900, output_tokens=40))
        return inner(_without_first(req))

    anthropic_stub.add_route(Route("sub", first_user_text_contains(SUB_PROMPT),
                                   [Turn(text="There are 2 files.", model="claude-haiku-5-5",
                                         usage=Usage(input_tokens=700, output_tokens=20))]))
    anthropic_stub.add_route(route("s", main))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("s", "claude")])
    assert f.wait_done(timeout=180), f.summary()
    t = f.sup.state.tasks["s"]
    assert len(t.models) >= 2, t.models  # the subagent's model too
    assert t.tokens == billed_tokens(anthropic_stub)




def _without_first(req: Request) -> Request:
    """The request as if the first tool call (the subagent) had not happened."""
    body = dict(req.body)
    msgs = list(body.get("messages", []))
    # Drop the first assistant tool call and its result so the worker counts its own steps.
    cut = [m for i, m in enumerate(msgs) if i not in (1, 2)]
    body["messages"] = cut
    return Request(index=req.index, method=req.method, path=req.path, headers=req.headers,
                   body=body, raw=req.raw, received_at=req.received_at, route=req.route,
                   status=req.status, answer=req.answer)
