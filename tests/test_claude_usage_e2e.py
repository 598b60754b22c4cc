"""Tokens and cost of attempts that never print a result line, and denials as the screen shows
them: the real Claude Code CLI run by swarmtui in real tmux windows and git worktrees against
the local API stand-in (tests/anthropic_stub.py), which records what it served.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.adapters.prices import cost_of, price_for
from swarmtui.model import payloads as p
from swarmtui.model.attention import need_of
from swarmtui.report.collect import build_report
from tests.anthropic_stub import Hang, Request, StubServer, ToolUse, Turn, Usage
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import claude_config, now_iso, prompt_paths, route, steps_done

pytestmark = pytest.mark.e2e

TURNS = [Usage(input_tokens=1_200, output_tokens=80, cache_creation_input_tokens=3_000),
         Usage(input_tokens=300, output_tokens=150, cache_read_input_tokens=4_200)]


@pytest.fixture(scope="module")
def claude() -> str:
    from tests.claude_cli import find_claude

    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    return str(found.path)


def two_turns_then_held(req: Request) -> Turn | Hang:
    """Two answers that call tools, then the third call is held until the test is over."""
    paths = prompt_paths(req)
    plan = [ToolUse("Bash", {"command": f"echo '{now_iso()} - started [outputs: 0]' >> "
                                        f"{paths['progress']}", "description": "progress"}),
            ToolUse("Write", {"file_path": f"{paths['worktree']}/half.txt",
                              "content": "half of it\n"})]
    step = steps_done(req)
    if step < len(plan):
        return Turn(tool_uses=[plan[step]], usage=TURNS[step])
    return Hang(seconds=120)


def served(stub: StubServer, tid: str) -> dict[str, Usage]:
    """What the stand-in answered (and billed) on a task's route, per model."""
    out: dict[str, Usage] = {}
    for r in stub.messages_requests(tid):
        if isinstance(r.answer, Turn) and r.status == 200:
            model = r.answer.model or r.model
            out[model] = out.get(model, Usage(0, 0, 0, 0)) + r.answer.usage
    return out


def priced(billed: dict[str, Usage]) -> float:
    total = 0.0
    for model, u in billed.items():
        price = price_for(model, {})
        assert price is not None, f"the stand-in served {model}, which the table lacks"
        total += cost_of(p.ModelUsage(input=u.input_tokens, output=u.output_tokens,
                                      cache_read=u.cache_read_input_tokens,
                                      cache_write=u.cache_creation_input_tokens), price)
    return total


def test_an_attempt_killed_mid_turn_costs_what_it_was_billed_and_the_budget_sees_it(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("k", two_turns_then_held))
    # Both turns cost about $0.026 at claude-opus-5-5's price: a budget below that must hold
    # the second task, which waits for the only slot.
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        slots={"max_agents": 1}, budget={"max_cost_usd": 0.02})
    f = start(fleets, git_repo, cfg, [task("k", "claude", priority=10),
                                      task("later", "claude")], exit_when_done=False)
    assert anthropic_stub.wait_requests(3, timeout=120, route="k")  # the third call is held
    f.command("kill", task="k", attempt=1)
    exited = f.wait_kind("agent_exited", "k", timeout=60)
    billed = served(anthropic_stub, "k")
    assert sum(u.total for u in billed.values()) == sum(u.total for u in TURNS)
    want = priced(billed)

    pl = exited.get(p.AgentExited)
    assert pl.tokens == sum(u.total for u in billed.values()), pl
    assert pl.usage_from_turns and pl.cost_estimated
    assert pl.cost_usd == pytest.approx(want, abs=1e-6)
    for model, u in billed.items():
        got = pl.models[model]
        assert (got.input, got.output, got.cache_read, got.cache_write) == (
            u.input_tokens, u.output_tokens, u.cache_read_input_tokens,
            u.cache_creation_input_tokens)

    f.wait_kind("budget_exhausted", timeout=30)
    st = f.store.replay()
    assert st.tasks["k"].tokens == pl.tokens
    assert sum(t.cost_usd for t in st.tasks.values()) == pytest.approx(want, abs=1e-6)
    assert not f.of("attempt_spawned", "later")  # the budget holds it: nothing else runs
    report = build_report(f.store.events(0, run=f.sup.run_id), cfg)
    (a,) = [a for a in report.attempts if a.task == "k"]
    assert a.tokens == pl.tokens and a.cost_usd == pytest.approx(want, abs=1e-6)
    assert a.priced and a.cost_estimated
    print(f"killed mid-turn: {pl.tokens} tokens, ${pl.cost_usd:.6f} (billed ${want:.6f})")


def test_an_attempt_whose_wrapper_is_lost_still_counts_its_turns(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("w", two_turns_then_held))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home")
    f = start(fleets, git_repo, cfg, [task("w", "claude")], exit_when_done=False)
    assert anthropic_stub.wait_requests(3, timeout=120, route="w")
    billed = served(anthropic_stub, "w")
    answers = len([r for r in anthropic_stub.messages_requests("w") if r.status == 200])
    # Every answer's start and end were recorded before the wrapper goes (no exit.json then).
    f.wait_event(lambda e: e.kind == "turn_usage" and e.task == "w" and sum(
        1 for x in f.of("turn_usage", "w") if x.data["output"] > 1) >= answers, timeout=30)
    pid = int((P.agent_dir(git_repo, "w", 1) / "wrap.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    exited = f.wait_kind("agent_exited", "w", timeout=60)
    assert not (P.agent_dir(git_repo, "w", 1) / P.EXIT_FILE).exists()
    assert exited.get(p.AgentExited).tokens is None  # the exit says nothing: the turns count
    st = f.store.replay()
    want = priced(billed)
    assert st.tasks["w"].tokens == sum(u.total for u in billed.values())
    assert st.tasks["w"].cost_usd == pytest.approx(want, abs=1e-6)
    report = build_report(f.store.events(0, run=f.sup.run_id), cfg)
    (a,) = [a for a in report.attempts if a.task == "w"]
    assert a.tokens == st.tasks["w"].tokens and a.cost_usd == pytest.approx(want, abs=1e-6)


def tag_then_finish(req: Request) -> Turn:
    """A progress line (allowed), then ``git tag`` (outside the allow list); once granted, the
    tag, results.json and a last word."""
    paths = prompt_paths(req)
    denied = [r for r in req.tool_results() if r.get("is_error")]
    if denied:
        return Turn(text="I was not allowed to tag the release; stopping.")
    plan = [ToolUse("Bash", {"command": f"echo '{now_iso()} - tagging [outputs: 0]' >> "
                                        f"{paths['progress']}", "description": "progress"}),
            ToolUse("Bash", {"command": "git tag v1.0", "description": "Tag the release"}),
            ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                "status": "done", "summary": "tagged v1.0"})})]
    step = steps_done(req)
    return Turn(tool_uses=[plan[step]]) if step < len(plan) else Turn(text="Tagged.")


def test_a_denial_is_recorded_once_with_the_rule_the_screen_shows_and_granted_as_shown(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    anthropic_stub.add_route(route("g", tag_then_finish))
    perms = {"mode": "acceptEdits", "allow": ["Bash(echo:*)"], "ask": False}
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", permissions=perms)
    # A tag is a ref the sandbox keeps an agent from writing (only its own branch moves): this
    # test is about Claude Code's own denial, so its agent runs outside the box.
    agent = cfg.agents["claude"]
    cfg.agents["claude"] = agent.model_copy(update={
        "sandbox": agent.sandbox.model_copy(update={"mode": "off"})})
    f = start(fleets, git_repo, cfg, [task("g", "claude")], exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "g", timeout=120)
    assert failed.data["cause"] == "needs_permission", failed.data
    assert failed.data["reason"] == "needs permission: Bash(git tag:*)"
    # Claude Code said it twice (its system line and its result line): one event.
    denials = [e.data for e in f.of("permission_denied", "g")]
    assert [(d["tool"], d["rule"]) for d in denials] == [("Bash", "Bash(git tag:*)")]
    st = f.store.replay()
    t = st.tasks["g"]
    need = need_of(t, st, cfg.account_of("claude"), time.time())
    assert need is not None and need.text == "needs permission: Bash(git tag:*)"
    # What `g` grants: the task's denied rules, sent as `retry --allow` (tui/actions.py).
    assert t.denied == ["Bash(git tag:*)"]
    f.command("retry", task="g", note="", resume=False, allow=list(t.denied), force=False)
    f.wait_kind("verify_passed", "g", timeout=120)
    granted = json.loads((P.agent_dir(git_repo, "g", 2) / "claude-settings.json").read_text())
    assert "Bash(git tag:*)" in granted["permissions"]["allow"]
    assert "Bash" not in granted["permissions"]["allow"]  # the rule shown, not the whole tool
