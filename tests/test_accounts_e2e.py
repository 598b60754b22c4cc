"""An account failover with the real Claude Code CLI, in real tmux windows and git worktrees,
against the local API stand-in (tests/anthropic_stub.py), which tells the two accounts apart by
the credential each request carries: account ``work``'s token gets the usage-limit 429 of a
claude.ai subscription, and the task carries on at once on account ``home`` (its key read from
a file), resuming the same session, and passes. Neither key reaches the log, a file of the run
or the other account's attempt.

Skipped only when Node.js or npm is missing (CI installs both).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from swarmtui.config import AccountConfig
from tests.anthropic_stub import Request, StubServer, Turn, usage_limit_error
from tests.fleet import Fleet, start, task
from tests.test_claude_e2e import claude_config, route, worker

pytestmark = pytest.mark.e2e

WORK = "sk-ant-oat01-stub-work-account-0123456789abcdef"
HOME = "sk-ant-oat01-stub-home-account-0123456789abcdef"


@pytest.fixture(scope="module")
def claude() -> str:
    from tests.claude_cli import find_claude

    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    return str(found.path)


def test_a_usage_limit_on_one_account_carries_on_on_the_next_in_the_same_session(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    reset = time.time() + 3600  # an hour away: only another account gets the work done now
    work_steps = worker("f")

    def by_account(req: Request) -> Turn | object:
        if req.credential == WORK and any(r.credential == WORK and r.status == 200
                                          for r in anthropic_stub.messages_requests("f")):
            return usage_limit_error(reset=reset)  # its first answer went through: now limited
        return work_steps(req)

    anthropic_stub.add_route(route("f", by_account))
    monkeypatch.setenv("WORK_CLAUDE_TOKEN", WORK)  # the supervisor's environment (in process)
    key_file = tmp_path / "home.key"
    key_file.write_text(HOME + "\n")
    key_file.chmod(0o600)
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home", oauth=True)
    cfg.accounts = [AccountConfig(name="work", cli="claude", env="WORK_CLAUDE_TOKEN"),
                    AccountConfig(name="home", cli="claude", file=str(key_file))]
    cfg.agents["claude"] = cfg.agents["claude"].model_copy(update={"accounts": ["work", "home"]})
    f = start(fleets, git_repo, cfg, [task("f", "claude")])
    limited = f.wait_kind("usage_limited", "f", timeout=120)
    assert (limited.data["account"], limited.data["limit_type"]) == ("work", "five_hour")
    assert f.wait_done(timeout=180), f.summary()
    spawned = f.of("attempt_spawned", "f")
    assert [e.data["account"] for e in spawned] == ["work", "home"]
    session = f.of("agent_session", "f")[0].data["session_id"]
    assert spawned[1].data["resumes"] == session  # its own conversation, not a fresh start
    assert spawned[1].data["worktree"] == spawned[0].data["worktree"]
    failed = f.of("attempt_failed", "f")
    assert [(e.data["cause"], e.data["counts_attempt"], e.data["counts_breaker"])
            for e in failed] == [("usage_limited", False, False)]
    started = f.of("attempt_started", "f")[1]
    print(f"limit to the attempt on the next account: {started.time - limited.time:.2f} s")
    assert started.time - limited.time < 10  # not the reset, an hour away
    t = f.store.replay().tasks["f"]
    assert str(t.state) in ("passed", "merged") and t.failures == 0
    # What the stand-in saw: work's token until the limit, then home's alone.
    creds = [r.credential for r in anthropic_stub.messages_requests("f")]
    assert WORK in creds and HOME in creds
    assert creds.index(HOME) > max(i for i, c in enumerate(creds) if c == WORK)
    # Neither key anywhere in the run's files (the store included).
    for path in (git_repo / ".swarm").rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            data = path.read_bytes()
            assert WORK.encode() not in data and HOME.encode() not in data, path
