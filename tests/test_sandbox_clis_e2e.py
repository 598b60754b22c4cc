"""Agent CLIs other than Claude Code in their sandbox, for real: the pinned CLI
(tests/agent_clis.py), scripted by its local API stand-in, runs in bubblewrap under
``[agents.X.sandbox] mode = "auto"`` (so only once its adapter is in ``policy.VERIFIED``). Its
shell tool tries to write the run's store and the main work tree: the OS refuses both, and the
attempt goes on to commit on its branch and pass with the tokens the stand-in billed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.adapters.codex_launch import BYPASS
from swarmtui.engine.sandbox.probe import probe
from tests.fleet import Fleet, start, task
from tests.gemini_stub import GeminiStub
from tests.openai_stub import OpenAIStub
from tests.test_agent_clis_e2e import (
    CODEX_MODEL,
    GEMINI_MODEL,
    check_passed,
    codex,
    codex_config,
    gemini,
    gemini_config,
    gemini_stub,
    openai_stub,
    route,
    worker,
)
from tests.test_opencode_qwen_e2e import chat_steps, opencode, opencode_config
from tests.test_opencode_qwen_e2e import check_passed as oc_passed
from tests.test_qwen_e2e import qwen, qwen_config

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().why}")]
_ = (codex, openai_stub, gemini, gemini_stub, opencode, qwen)  # the fixtures


def attacks(repo: Path) -> str:
    """One shell command: a write to the run's store and one to the main work tree, each
    saying when it was refused."""
    db = repo / P.SWARM_DIR / P.STATE_DB
    return (f"echo x >> {db} || echo DB-REFUSED; "
            f"echo pwned >> {repo}/README.md || echo MAIN-REFUSED")


def check_refused(f: Fleet, repo: Path, tid: str, outputs: str) -> None:
    assert f.of("sandbox_checked")[0].data["off"] == []  # boxed under "auto": no warning
    assert "DB-REFUSED" in outputs and "MAIN-REFUSED" in outputs, outputs[-2000:]
    assert "Read-only file system" in outputs or "No such file" in outputs
    assert (repo / "README.md").read_text() == "# test repo\n"
    from tests.conftest import git

    # Its commit is on the real branch, moved by the wrapper.
    assert git(repo, "log", "-1", "--format=%s", f"swarm/{tid}-1").strip() == "Add hello"


def test_a_codex_task_passes_in_its_box_and_cannot_write_outside(
        codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    openai_stub.add_route(route("cb", worker("cb", "exec_command", "cmd", (attacks(git_repo),))))
    cfg = codex_config(codex, openai_stub, tmp_path / "home")
    agent = cfg.agents["codex"]  # permissions.sandbox as by default: the box bypasses Codex's
    cfg.agents["codex"] = agent.model_copy(update={
        "permissions": agent.permissions.model_copy(update={"sandbox": False})})
    f = start(fleets, git_repo, cfg, [task("cb", "codex")])
    assert f.wait_done(timeout=120), f.summary()
    check_passed(f, git_repo, "cb", CODEX_MODEL, openai_stub.total_billed())
    outputs = " ".join(json.dumps(r.body) for r in openai_stub.model_requests())
    check_refused(f, git_repo, "cb", outputs)
    # Its own sandbox (bubblewrap too) cannot start in ours: bypassed there, ours holds.
    argv = json.loads((P.agent_dir(git_repo, "cb", 1) / P.LAUNCH_FILE).read_text())["argv"]
    assert BYPASS in argv and "sandbox_mode=\"workspace-write\"" not in argv


def test_a_gemini_task_passes_in_its_box_and_cannot_write_outside(
        gemini: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        gemini_stub: GeminiStub) -> None:
    gemini_stub.add_route(route("gb", worker("gb", "run_shell_command", "command",
                                             (attacks(git_repo),))))
    f = start(fleets, git_repo, gemini_config(gemini, gemini_stub, tmp_path / "home"),
              [task("gb", "gemini")])
    assert f.wait_done(timeout=180), f.summary()
    check_passed(f, git_repo, "gb", GEMINI_MODEL, gemini_stub.total_billed())
    outputs = " ".join(json.dumps(r.body) for r in gemini_stub.model_requests())
    check_refused(f, git_repo, "gb", outputs)


def test_an_opencode_task_passes_in_its_box_and_cannot_write_outside(
        opencode: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_agent_clis_e2e as e2e

    monkeypatch.setattr(e2e, "steps_done", chat_steps)
    openai_stub.add_route(route("ob", worker("ob", "bash", "command", (attacks(git_repo),))))
    f = start(fleets, git_repo, opencode_config(opencode, openai_stub, tmp_path / "home"),
              [task("ob", "opencode")])
    assert f.wait_done(timeout=240), f.summary()
    oc_passed(f, git_repo, "ob", openai_stub.total_billed())
    outputs = " ".join(json.dumps(r.body) for r in openai_stub.model_requests())
    check_refused(f, git_repo, "ob", outputs)


def test_a_qwen_task_passes_in_its_box_and_cannot_write_outside(
        qwen: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.test_agent_clis_e2e as e2e

    monkeypatch.setattr(e2e, "steps_done", chat_steps)
    openai_stub.add_route(route("qb", worker("qb", "run_shell_command", "command",
                                             (attacks(git_repo),))))
    f = start(fleets, git_repo, qwen_config(qwen, openai_stub, tmp_path / "home", sandbox=True),
              [task("qb", "qwen")])
    assert f.wait_done(timeout=240), f.summary()
    assert (P.worktree_dir(git_repo, "qb", 1) / "hello-qb.txt").read_text() == "hello from qb\n"
    assert f.sup.state.tasks["qb"].tokens == openai_stub.total_billed().total
    outputs = " ".join(json.dumps(r.body) for r in openai_stub.model_requests())
    check_refused(f, git_repo, "qb", outputs)
