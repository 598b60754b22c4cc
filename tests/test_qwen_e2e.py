"""Qwen Code for real: the pinned CLI (tests/agent_clis.py) run by swarmtui in real tmux windows
and git worktrees, against the local stand-in of an OpenAI-compatible Chat Completions API
(tests/openai_stub.py) that scripts the model. One task passes with the tokens the stand-in
billed, priced from ``[prices]``; one task's shell commands are outside its allow list: Qwen
Code refuses them, the adapter names the rule, and the task needs permission.

Skipped only when Node.js or npm is missing, and then only outside CI (CI installs both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent_clis import QWEN, find_cli, qwen_env
from tests.api_stub import Request, Tokens
from tests.openai_stub import OpenAIStub
from tests.test_agent_clis_e2e import route, worker

pytestmark = pytest.mark.e2e

MODEL = "qwen3-coder-plus"
PRICES = {MODEL: {"input": 0.4, "output": 1.2, "cache_read": 0.08}}  # made-up, per MTok


@pytest.fixture(scope="module")
def qwen() -> str:
    found = find_cli(QWEN)
    if found.path is None:
        if os.environ.get("CI"):
            pytest.fail(found.reason)
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def qwen_config(exe: str, stub: OpenAIStub, home: Path, *, sandbox: bool,
                **sections: dict[str, Any]) -> Any:
    from tests.fleet import fast_config

    sections.setdefault("heartbeat", {"progress_interval": "20s", "quiet_after": 3,
                                      "stuck_after": 6})
    sections.setdefault("prices", PRICES)
    cfg = fast_config({"qwen": [exe, "--output-format", "stream-json"]}, **sections)
    agent = cfg.agents["qwen"]
    cfg.agents["qwen"] = agent.model_copy(update={
        "adapter": "qwen", "env": qwen_env(home, stub.base_url, model=MODEL),
        "permissions": agent.permissions.model_copy(update={"sandbox": sandbox})})
    return cfg


def chat_steps(req: Request) -> int:
    """Tool answers since the newest swarmtui prompt (``"role": "tool"`` messages)."""
    return req.text.split("You are agent")[-1].count('"role": "tool"')


def test_a_qwen_task_passes_with_exact_tokens_priced_from_the_table(
        qwen: str, git_repo: Path, fleets: list[Any], tmp_path: Path,
        openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_agent_clis_e2e as e2e
    from swarmtui import protocol as P
    from tests.fleet import start, task

    monkeypatch.setattr(e2e, "steps_done", chat_steps)
    openai_stub.add_route(route("qw", worker("qw", "run_shell_command", "command")))
    f = start(fleets, git_repo, qwen_config(qwen, openai_stub, tmp_path / "home", sandbox=True),
              [task("qw", "qwen")])
    assert f.wait_done(timeout=240), f.summary()
    assert (P.worktree_dir(git_repo, "qw", 1) / "hello-qw.txt").read_text() == "hello from qw\n"
    session = f.of("agent_session", "qw")
    assert session and session[0].data["model"] == MODEL
    assert f.of("agent_activity", "qw")
    billed: Tokens = openai_stub.total_billed()
    t = f.sup.state.tasks["qw"]
    assert t.tokens == billed.total, (t.tokens, billed)
    price = PRICES[MODEL]
    want = ((billed.input - billed.cached) * price["input"] + billed.output * price["output"]
            + billed.cached * price["cache_read"]) / 1e6
    assert t.cost_usd == pytest.approx(want, abs=1e-9)
    assert set(f.of("agent_exited", "qw")[0].data["models"]) == {MODEL}


def test_a_qwen_shell_command_outside_the_allow_list_needs_permission(
        qwen: str, git_repo: Path, fleets: list[Any], tmp_path: Path,
        openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_agent_clis_e2e as e2e
    from tests.fleet import start, task

    monkeypatch.setattr(e2e, "steps_done", chat_steps)
    openai_stub.add_route(route("pd", worker("pd", "run_shell_command", "command")))
    cfg = qwen_config(qwen, openai_stub, tmp_path / "home", sandbox=False)
    agent = cfg.agents["qwen"]
    cfg.agents["qwen"] = agent.model_copy(update={"permissions": agent.permissions.model_copy(
        update={"allow": ["Bash(echo:*)"]})})
    f = start(fleets, git_repo, cfg, [task("pd", "qwen")], exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "pd", timeout=180)
    denied = f.of("permission_denied", "pd")
    # echo ran (the allow list became --allowed-tools run_shell_command(echo)); the chained
    # printf && git command did not, and its first part is the rule to grant.
    assert denied and denied[0].data["rule"] == "run_shell_command(printf)", denied
    assert failed.data["cause"] == "needs_permission", failed.data
