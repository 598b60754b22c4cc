"""An account failover across CLIs, for real: the real Claude Code CLI on account ``work`` and
the real Codex CLI on account ``oa``, in real tmux windows and one git worktree, against the
local stand-ins of their APIs (tests/anthropic_stub.py, tests/openai_stub.py). The task names
its fallback list (``accounts = ["work", "codex"]``). Claude writes a progress line, adds and
commits a file, then account ``work`` hits its usage limit (the 429 a claude.ai subscription
gets, an hour from its reset); within seconds a fresh Codex session carries on in the same
worktree, on ``oa``'s key alone, handed the task and a digest of Claude's conversation, and
finishes: the verify command finds Claude's commit, the task passes, each attempt's cost is on
its own account and CLI, and neither key reaches a file of the run.

Skipped only when Node.js or npm is missing, and then only outside CI (CI installs both).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config import AccountConfig
from tests.agent_clis import CODEX, codex_env, find_cli
from tests.anthropic_stub import Request, StubServer, Turn, usage_limit_error
from tests.api_stub import Call, Reply
from tests.api_stub import Request as OARequest
from tests.fleet import Fleet, start, task
from tests.openai_stub import OpenAIStub
from tests.test_agent_clis_e2e import STEP_TOKENS, codex_config
from tests.test_agent_clis_e2e import prompt_paths as codex_paths
from tests.test_agent_clis_e2e import route as codex_route
from tests.test_agent_clis_e2e import steps_done as codex_steps
from tests.test_claude_e2e import claude_config, route, steps_done, worker

pytestmark = pytest.mark.e2e

WORK = "sk-ant-oat01-stub-work-account-0123456789abcdef"
OA = "sk-proj-stub-oa-account-0123456789abcdef"


@pytest.fixture(scope="module")
def claude() -> str:
    from tests.claude_cli import find_claude

    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture(scope="module")
def codex() -> str:
    found = find_cli(CODEX)
    if found.path is None:
        if os.environ.get("CI"):
            pytest.fail(found.reason)
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def test_a_usage_limit_on_claude_carries_on_on_codex_in_the_same_worktree(
        claude: str, codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer, openai_stub: OpenAIStub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reset = time.time() + 3600  # an hour away: only another account gets the work done now
    claude_steps = worker("f")

    def claude_side(req: Request) -> Turn | object:
        if req.credential == WORK and steps_done(req) >= 3:
            return usage_limit_error(reset=reset)  # progress, file, commit done: now limited
        return claude_steps(req)

    handed: list[str] = []

    def codex_side(req: OARequest) -> Reply:
        handed.append(req.text)
        paths = codex_paths(req)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        results = json.dumps({"status": "done", "summary": "checked hello-f.txt; done",
                              "files_modified": ["hello-f.txt"]})
        plan = [f"echo '{now} - carrying on after claude [outputs: 1]' >> {paths['progress']}",
                f"printf '%s' '{results}' > {paths['results']}.tmp && "
                f"mv {paths['results']}.tmp {paths['results']}"]
        step = codex_steps(req)
        if step < len(plan):
            return Reply(calls=[Call("exec_command", {"cmd": plan[step]})], tokens=STEP_TOKENS)
        return Reply(text="Done.", tokens=STEP_TOKENS)

    anthropic_stub.add_route(route("f", claude_side))
    openai_stub.add_route(codex_route("f", codex_side))
    monkeypatch.setenv("WORK_CLAUDE_TOKEN", WORK)  # the supervisor's environment (in process)
    key_file = tmp_path / "oa.key"
    key_file.write_text(OA + "\n")
    key_file.chmod(0o600)
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", oauth=True)
    cx = codex_config(codex, openai_stub, tmp_path / "cxhome").agents["codex"]
    cfg.agents["codex"] = cx.model_copy(update={"env": codex_env(tmp_path / "cxhome",
                                                                 api_key=None)})
    cfg.prices = codex_config(codex, openai_stub, tmp_path / "cxhome").prices
    cfg.accounts = [AccountConfig(name="work", cli="claude", env="WORK_CLAUDE_TOKEN"),
                    AccountConfig(name="oa", cli="codex", file=str(key_file))]
    f = start(fleets, git_repo, cfg, [task("f", "claude", accounts=("work", "codex"),
                                           verify="grep -qx 'hello from f' hello-f.txt")])
    limited = f.wait_kind("usage_limited", "f", timeout=120)
    assert limited.data["account"] == "work"
    assert f.wait_done(timeout=240), f.summary()
    spawned = f.of("attempt_spawned", "f")
    assert [(e.data["agent"], e.data["account"]) for e in spawned] == [("claude", "work"),
                                                                        ("codex", "oa")]
    assert spawned[1].data["resumes"] is None  # another CLI: a fresh session
    assert spawned[1].data["worktree"] == spawned[0].data["worktree"]  # the work so far
    started = f.of("attempt_started", "f")[1]
    print(f"limit to the attempt on the other CLI: {started.time - limited.time:.2f} s")
    assert started.time - limited.time < 10  # not the reset, an hour away
    failed = f.of("attempt_failed", "f")
    assert [(e.data["cause"], e.data["counts_attempt"]) for e in failed] == [
        ("usage_limited", False)]
    # The handoff: the task, where the work is, and what Claude did and said.
    first = handed[0]
    assert "# Task f:" in first and "It ran on claude (account work)" in first
    assert "Its conversation (digest, newest last)" in first
    assert "used Bash: git add hello-f.txt" in first and "used Write: " in first
    t = f.store.replay().tasks["f"]
    assert str(t.state) in ("passed", "merged") and t.failures == 0
    # status --json says what the newest attempt ran on; so does the TUI's task view.
    from swarmtui.cli.inspect import status_obj

    row = next(r for r in status_obj(git_repo, cfg, f.store)["tasks"] if r["id"] == "f")
    assert (row["agent"], row["attempt_agent"], row["cli"], row["account"]) == (
        "claude", "codex", "codex", "oa")
    assert (t.ran_on, t.account) == ("codex", "oa")
    # Each attempt's cost once, on its own account and CLI.
    from swarmtui.report import build_report
    from swarmtui.report.render import report_json

    exits = {e.attempt: e.data for e in f.of("agent_exited", "f")}
    assert exits[1]["cost_usd"] > 0 and exits[2]["cost_usd"] > 0
    r = report_json(build_report(list(f.events), cfg))
    assert r["by_account"]["work"]["cost_usd"] == pytest.approx(exits[1]["cost_usd"])
    assert r["by_account"]["oa"]["cost_usd"] == pytest.approx(exits[2]["cost_usd"])
    assert set(r["by_cli"]) == {"claude", "codex"}
    assert t.cost_usd == pytest.approx(exits[1]["cost_usd"] + exits[2]["cost_usd"])
    # The Codex requests carried oa's key, none of them work's.
    auth = [r.headers.get("authorization", "") for r in openai_stub.requests]
    assert auth and all(OA in a for a in auth)
    for path in (git_repo / ".swarm").rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            data = path.read_bytes()
            assert WORK.encode() not in data and OA.encode() not in data, path
    assert (P.worktree_dir(git_repo, "f", 1) / "hello-f.txt").exists()
