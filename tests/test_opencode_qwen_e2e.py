"""opencode for real: the pinned CLI (tests/agent_clis.py) run by swarmtui in real tmux windows
and git worktrees, against the local stand-in of an OpenAI-compatible Chat Completions API
(tests/openai_stub.py) that scripts the model. One task passes with the tokens the stand-in
billed and the cost opencode said; one hits a usage limit that the adapter names, with the
reset time the provider gave.

Skipped only when Node.js or npm is missing, and then only outside CI (CI installs both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent_clis import OPENCODE, STUB_PROVIDER, CliSpec, find_cli, opencode_env
from tests.api_stub import Fail, Request, Tokens
from tests.openai_stub import OpenAIStub, usage_limit
from tests.test_agent_clis_e2e import route, worker

pytestmark = pytest.mark.e2e

MODEL = "gpt-5.5"
# US dollars per million tokens (made-up figures), in opencode's config: it says the cost.
PRICES = {"input": 1.25, "output": 10.0, "cache_read": 0.125}


def _cli(spec: CliSpec) -> str:
    found = find_cli(spec)
    if found.path is None:
        if os.environ.get("CI"):
            pytest.fail(found.reason)
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture(scope="module")
def opencode() -> str:
    return _cli(OPENCODE)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def opencode_config(exe: str, stub: OpenAIStub, home: Path, **sections: dict[str, Any]) -> Any:
    from tests.fleet import fast_config

    sections.setdefault("heartbeat", {"progress_interval": "20s", "quiet_after": 3,
                                      "stuck_after": 6})
    cfg = fast_config({"opencode": [exe, "run", "--format", "json",
                                    "-m", f"{STUB_PROVIDER}/{MODEL}"]}, **sections)
    agent = cfg.agents["opencode"]
    cfg.agents["opencode"] = agent.model_copy(update={
        "adapter": "opencode", "env": opencode_env(home, stub.base_url, model=MODEL,
                                                   prices=PRICES),
        "permissions": agent.permissions.model_copy(update={"sandbox": True})})
    return cfg


def chat_steps(req: Request) -> int:
    """Tool answers since the newest swarmtui prompt (``"role": "tool"`` messages)."""
    return req.text.split("You are agent")[-1].count('"role": "tool"')


def check_passed(f: Any, repo: Path, tid: str, billed: Tokens) -> None:
    from swarmtui import protocol as P

    assert (P.worktree_dir(repo, tid, 1) / f"hello-{tid}.txt").read_text() == f"hello from {tid}\n"
    assert any(e.data["status"] == "started" for e in f.of("progress", tid))
    session = f.of("agent_session", tid)
    assert session and session[0].data["session_id"].startswith("ses_")
    assert f.of("agent_activity", tid)
    t = f.sup.state.tasks[tid]
    assert t.tokens == billed.total, (t.tokens, billed)
    # No price table: the cost is opencode's own, from the prices in its config.
    want = ((billed.input - billed.cached) * PRICES["input"] + billed.output * PRICES["output"]
            + billed.cached * PRICES["cache_read"]) / 1e6
    assert t.cost_usd == pytest.approx(want, abs=1e-9)
    assert set(f.of("agent_exited", tid)[0].data["models"]) == {MODEL}


def test_an_opencode_task_passes_with_exact_tokens_and_its_own_cost(
        opencode: str, git_repo: Path, fleets: list[Any], tmp_path: Path,
        openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_agent_clis_e2e as e2e
    from tests.fleet import start, task

    monkeypatch.setattr(e2e, "steps_done", chat_steps)
    openai_stub.add_route(route("oc", worker("oc", "bash", "command")))
    f = start(fleets, git_repo, opencode_config(opencode, openai_stub, tmp_path / "home"),
              [task("oc", "opencode")])
    assert f.wait_done(timeout=240), f.summary()
    check_passed(f, git_repo, "oc", openai_stub.total_billed())
    # Only model calls the adapter saw: the launcher's --title spares the title request.
    assert len(openai_stub.model_requests()) == 4


def test_an_opencode_usage_limit_is_named_with_the_reset_the_provider_gave(
        opencode: str, git_repo: Path, fleets: list[Any], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    from tests.fleet import start, task

    limit = usage_limit(resets_in=3600.0)
    # retry-after 1 keeps opencode's own silent retries (six requests) short.
    quick = Fail(limit.status, message=limit.message, code=limit.code,
                 headers={**limit.headers, "retry-after": "1"}, extra=limit.extra, repeat=True)
    openai_stub.add_route(route("ul", quick))
    f = start(fleets, git_repo, opencode_config(opencode, openai_stub, tmp_path / "home"),
              [task("ul", "opencode")], exit_when_done=False)
    limited = f.wait_kind("usage_limited", "ul", timeout=180)
    failed = f.wait_kind("attempt_failed", "ul", timeout=30)
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]
    assert limited.data["limit_type"] == "usage_limit"
    assert limited.data["until"] == limit.extra["resets_at"]  # the provider's, to the second
    assert len(f.of("attempt_spawned", "ul")) == 1  # nothing starts before the reset
