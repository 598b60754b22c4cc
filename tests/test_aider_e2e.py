"""Aider for real: the pinned CLI (tests/aider_cli.py) run by swarmtui in a real tmux window and
git worktree, against the local Chat Completions stand-in (tests/openai_stub.py). Aider edits
and commits in the worktree, and its exact tokens and cost reach the exit record. It cannot
write a file outside its repository, so the attempt's results.json (outside the worktree) is
written for it by the aider adapter from its clean exit and its commits, labelled as not the
agent's own word; the task's verify command then decides, and the task passes and merges.

Skipped only when Aider cannot be installed, and then only outside CI (CI installs it).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aider_cli import aider_env, find_aider
from tests.api_stub import Reply, Tokens
from tests.openai_stub import OpenAIStub
from tests.test_agent_clis_e2e import route

pytestmark = pytest.mark.e2e

MODEL = "gpt-5.5"
PRICES = {"input": 1.25, "output": 10.0}  # per MTok, in Aider's model metadata file
EDIT = Tokens(2000, 40)


@pytest.fixture(scope="module")
def aider() -> str:
    try:
        found = find_aider()
    except RuntimeError as e:
        pytest.fail(str(e))
    if found.path is None:
        if os.environ.get("CI"):
            pytest.fail(found.reason)
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def test_an_aider_task_commits_its_edit_reports_exact_tokens_and_passes(
        aider: str, git_repo: Path, fleets: list[Any], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    from swarmtui import protocol as P
    from tests.fleet import fast_config, start, task

    # The task's prompt gets the whole-file edit; anything else (its commit-message request
    # to the weak model) gets a commit message.
    openai_stub.add_route(route("ae", Reply(text="hello-ae.txt\n```\nhello from ae\n```\n",
                                            tokens=EDIT)))
    openai_stub.default = Reply(text="Add hello-ae.txt", tokens=Tokens(300, 8), repeat=True)
    cfg = fast_config({"aider": [aider, "--model", f"openai/{MODEL}"]},
                      heartbeat={"progress_interval": "20s", "quiet_after": 3,
                                 "stuck_after": 6})
    agent = cfg.agents["aider"]
    cfg.agents["aider"] = agent.model_copy(update={
        "adapter": "aider", "env": aider_env(tmp_path / "home", openai_stub.base_url,
                                             model=MODEL, prices=PRICES)})
    f = start(fleets, git_repo, cfg, [task("ae", "aider", verify="grep -qx 'hello from ae' "
                                                                 "hello-ae.txt")])
    assert f.wait_done(timeout=180), f.summary()
    wt = P.worktree_dir(git_repo, "ae", 1)
    assert (wt / "hello-ae.txt").read_text() == "hello from ae\n"
    # Its histories went to the attempt's folder; only its repo map's cache stays (untracked).
    assert {p for p in os.listdir(wt) if p.startswith(".aider")} <= {".aider.tags.cache.v4"}
    assert f.of("agent_activity", "ae")
    (ex,) = f.of("agent_exited", "ae")
    assert ex.data["models"][MODEL]["input"] == EDIT.input
    assert ex.data["tokens"] == EDIT.total  # its commit-message request is not reported
    assert ex.data["cost_usd"] == pytest.approx((EDIT.input * 1.25 + EDIT.output * 10.0) / 1e6)
    # Its results: swarmtui's words, read off its exit and commits, and said to be so.
    (res,) = f.of("results", "ae")
    assert res.data["status"] == "done" and res.data["files_modified"] == ["hello-ae.txt"]
    assert res.data["summary"].startswith("Not the agent's own word: written by swarmtui's "
                                          "aider adapter")
    subject = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=wt, text=True,
                             capture_output=True, check=True).stdout.splitlines()[0]
    assert res.data["summary"].endswith(f"1 commit(s): {subject}")
    assert "reported_by" in json.dumps(res.data["extra"])
    assert not f.of("attempt_failed", "ae")
    t = f.store.replay().tasks["ae"]
    assert str(t.state) in ("passed", "merged"), f.summary()
