"""Context health end to end: the real Claude Code CLI run by swarmtui against the local API
stand-in, in a scripted conversation whose context grows past ``heartbeat.context_act``. The
attempt is ended at a turn boundary and the task goes on in a fresh session (not a resume) in
the same worktree, with a handoff built from what is on disk.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.cli.inspect import status_obj
from swarmtui.model import payloads as p
from tests.anthropic_stub import Hang, Request, StubServer, ToolUse, Turn, Usage
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import (
    claude_config,
    now_iso,
    prompt_paths,
    route,
    steps_done,
)
from tests.test_claude_usage_e2e import priced

pytestmark = pytest.mark.e2e

WINDOW = 1_000_000  # what Claude Code reports as contextWindow for the stub's model


@pytest.fixture(scope="module")
def claude() -> str:
    from tests.claude_cli import find_claude

    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    return str(found.path)


def attempt_of(req: Request) -> int:
    first = next(m for m in req.messages if m.get("role") == "user")
    text = json.dumps(first.get("content"))
    found = re.findall(r"You are agent `ctx-(\d+)`", text)
    assert found, "no swarmtui prompt in the conversation"
    return max(int(n) for n in found)


def test_a_full_context_is_relaunched_fresh_in_the_same_worktree(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    growth = [Usage(input_tokens=2_000, cache_creation_input_tokens=98_000),  # 10%
              Usage(input_tokens=3_000, cache_read_input_tokens=500_000,
                    cache_creation_input_tokens=47_000),  # 55%: warn
              Usage(input_tokens=1_000, cache_read_input_tokens=849_000)]  # 85%: act
    small = Usage(input_tokens=900, cache_read_input_tokens=5_000)
    first_requests: dict[int, Request] = {}

    def answer(req: Request) -> Turn | Hang:
        n = attempt_of(req)
        first_requests.setdefault(n, req)
        paths = prompt_paths(req)
        step = steps_done(req)
        if n == 1:
            plan = [ToolUse("Bash", {"command": f"echo '{now_iso()} - reading [outputs: 0]' >>"
                                                f" {paths['progress']}", "description": "p"}),
                    ToolUse("Write", {"file_path": f"{paths['worktree']}/part1.txt",
                                      "content": "the first half\n"}),
                    ToolUse("Bash", {"command": f"echo '{now_iso()} - half done [outputs: 1]' "
                                                f">> {paths['progress']}", "description": "p"})]
            if step < len(plan):
                text = "I have written the first half in part1.txt." if step == 2 else None
                return Turn(text=text, tool_uses=[plan[step]], usage=growth[step])
            return Hang(seconds=120)  # never gets further: it is ended at this boundary
        plan = [ToolUse("Bash", {"command": f"echo '{now_iso()} - carrying on [outputs: 1]' >> "
                                            f"{paths['progress']}", "description": "p"}),
                ToolUse("Write", {"file_path": f"{paths['worktree']}/part2.txt",
                                  "content": "the second half\n"}),
                ToolUse("Bash", {"command": "git add part1.txt part2.txt && git commit -q -m "
                                            "'Both halves'", "description": "commit"}),
                ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                    "status": "done", "summary": "both halves",
                    "files_modified": ["part1.txt", "part2.txt"]})})]
        if step < len(plan):
            return Turn(tool_uses=[plan[step]], usage=small)
        return Turn(text="Done.", usage=small)

    anthropic_stub.add_route(route("ctx", answer))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        heartbeat={"progress_interval": "5s", "quiet_after": 3,
                                   "stuck_after": 6, "context_warn": 0.5, "context_act": 0.8,
                                   "context_action": "relaunch", "context_relaunches": 2},
                        context={"window": WINDOW})
    f = start(fleets, git_repo, cfg, [task("ctx", "claude")])
    assert f.wait_done(timeout=240), f.summary()

    # The readings of attempt 1, one per level at least, as Claude Code reported each turn.
    fills = [e for e in f.of("context_fill", "ctx") if e.attempt == 1]
    expected = [u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
                for u in growth]
    assert [e.data["tokens"] for e in fills] == expected
    assert [e.data["level"] for e in fills] == ["ok", "warn", "act"]
    assert [e.data["pct"] for e in fills] == [10.0, 55.0, 85.0]
    assert {e.data["window"] for e in fills} == {WINDOW}
    assert all(e.data["model"] for e in fills)

    relaunch = f.of("context_relaunch", "ctx")
    assert len(relaunch) == 1 and relaunch[0].attempt == 1
    assert relaunch[0].data["n"] == 1 and relaunch[0].data["pct"] == 85.0
    failed = f.of("attempt_failed", "ctx")
    assert [e.data["cause"] for e in failed] == ["context_full"]
    assert not failed[0].data["counts_attempt"] and not failed[0].data["counts_breaker"]
    assert failed[0].data["health"] == "context"
    # Ended at the boundary: attempt 1 never got past its third answer's tools.
    asked = sum(1 for r in anthropic_stub.messages_requests("ctx") if attempt_of(r) == 1)
    assert asked in (len(growth), len(growth) + 1)  # the 4th request may be in flight

    # A fresh session, not a resume, in the same worktree, with a handoff from disk.
    spawned = f.of("attempt_spawned", "ctx")
    assert [e.attempt for e in spawned] == [1, 2]
    assert spawned[1].data["resumes"] is None
    assert spawned[1].data["worktree"] == spawned[0].data["worktree"]
    sessions = [e.data["session_id"] for e in f.of("agent_session", "ctx")]
    assert len(set(sessions)) == 2, sessions
    fresh = first_requests[2]
    # Nothing of the old conversation: it opens as attempt 1's did.
    roles = [m.get("role") for m in fresh.messages]
    assert "assistant" not in roles
    assert roles == [m.get("role") for m in first_requests[1].messages]
    prompt = json.dumps(fresh.messages[0].get("content"))
    assert P.HANDOFF_HEADING in prompt
    assert "same worktree" in prompt and "Files it touched" in prompt
    assert "part1.txt" in prompt  # the file it touched (uncommitted)
    assert "half done" in prompt  # its last progress line
    assert "first half in part1.txt" in prompt  # its last words
    wt = Path(spawned[1].data["worktree"])
    assert (wt / "part1.txt").read_text() == "the first half\n"
    assert (wt / "part2.txt").read_text() == "the second half\n"

    started = f.of("attempt_started", "ctx")[1]
    print(f"reading at {fills[-1].data['pct']}% to the fresh attempt started: "
          f"{started.time - fills[-1].time:.2f} s; readings recorded "
          f"{len(f.of('context_fill', 'ctx'))}")
    st = f.sup.state
    t = st.tasks["ctx"]
    assert str(t.state) == "passed" and t.failures == 0 and t.context_relaunches == 1

    # Attempt 1 was ended before its result line: its tokens and cost are those of the turns
    # it printed, which are what the stand-in billed it; attempt 2's come from its result line.
    per_attempt: dict[int, dict[str, Usage]] = {1: {}, 2: {}}
    for r in anthropic_stub.messages_requests("ctx"):
        if isinstance(r.answer, Turn) and r.status == 200:
            mine = per_attempt[attempt_of(r)]
            model = r.answer.model or r.model
            mine[model] = mine.get(model, Usage(0, 0, 0, 0)) + r.answer.usage
    first = next(e for e in f.of("agent_exited", "ctx") if e.attempt == 1).get(p.AgentExited)
    assert first.usage_from_turns and first.cost_estimated
    assert first.tokens == sum(u.total for u in per_attempt[1].values())
    assert first.cost_usd == pytest.approx(priced(per_attempt[1]), abs=1e-6)
    assert t.tokens == sum(u.total for a in per_attempt.values() for u in a.values())
    assert t.cost_usd == pytest.approx(priced(per_attempt[1]) + priced(per_attempt[2]),
                                       abs=1e-5)
    assert t.context_window == WINDOW and t.context_pct is not None and t.context_pct < 1.0
    row = next(r for r in status_obj(git_repo, cfg, f.store, st)["tasks"] if r["id"] == "ctx")
    assert row["context_relaunches"] == 1 and row["context_window"] == WINDOW
    assert row["context_tokens"] == t.context_tokens and row["context_pct"] == t.context_pct
