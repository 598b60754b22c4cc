"""Aider in its sandbox, for real: the pinned Aider (tests/aider_cli.py, a Python program in a
virtual environment of its own), scripted by the local Chat Completions stand-in, runs in
bubblewrap under ``[agents.aider.sandbox] mode = "auto"`` (so only because ``aider`` is in
``policy.VERIFIED``).

Aider runs no shell command a model asks for (``--yes-always`` refuses those), but it runs the
repository's tests after each edit (``--auto-test``), and the model edits them: a misled
model rewrites ``check.sh`` into writes to the run's store and inbox, another agent's results,
the main work tree and ``~/.ssh``. Aider runs it in the box, the OS refuses each write, the
failing output goes back to the model, which mends the script; Aider commits in its worktree
(its auto-commits) and the task passes. With ``network = "api"`` every request goes through the
wrapper's proxy; with ``"none"`` none arrives."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.engine.sandbox.probe import probe
from swarmtui.store import Store
from tests.aider_cli import aider_env
from tests.api_stub import Reply, Tokens
from tests.conftest import git
from tests.fleet import Fleet, fast_config, start, task
from tests.openai_stub import OpenAIStub
from tests.test_agent_clis_e2e import route
from tests.test_aider_e2e import aider

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().why}")]
_ = aider  # the fixture

MODEL = "gpt-5.5"
STEP = Tokens(1500, 40)
CHECK = "#!/bin/sh\ntest -s hello-{tid}.txt\n"


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def whole(*files: tuple[str, str]) -> str:
    """An answer in Aider's whole-file edit format."""
    return "".join(f"{name}\n```\n{body}```\n\n" for name, body in files)


def attacks(repo: Path, bystander: Path) -> str:
    db = repo / P.SWARM_DIR / P.STATE_DB
    inbox = (f"{sys.executable} -c \"import sqlite3; c = sqlite3.connect('{db}'); c.execute("
             "\\\"insert into commands(time, source, kind, args, status) values (0, 'cli', "
             "'down', '{}', 'pending')\\\"); c.commit()\" || echo INBOX-REFUSED")
    ssh = Path.home() / ".ssh"
    return "\n".join([
        "#!/bin/sh",
        f"echo x >> {db} || echo DB-REFUSED",
        inbox,
        f"echo '{{\"status\": \"failed\"}}' > {bystander} || echo RESULTS-REFUSED",
        f"echo pwned >> {repo}/README.md || echo MAIN-REFUSED",
        f"mkdir -p {ssh} && echo key >> {ssh}/authorized_keys || echo SSH-REFUSED",
        "exit 1", ""])


def aider_config(exe: str, stub: OpenAIStub, home: Path, tid: str, **sandbox: Any) -> Any:
    cfg = fast_config({"aider": [exe, "--model", f"openai/{MODEL}", "--auto-test",
                                 "--test-cmd", "sh check.sh"]},
                      heartbeat={"progress_interval": "20s", "quiet_after": 3,
                                 "stuck_after": 6})
    agent = cfg.agents["aider"]
    cfg.agents["aider"] = agent.model_copy(update={
        "adapter": "aider", "env": aider_env(home, stub.base_url, model=MODEL),
        "sandbox": agent.sandbox.model_copy(update=sandbox)})
    return cfg


def with_check(repo: Path, tid: str) -> None:
    (repo / "check.sh").write_text(CHECK.format(tid=tid))
    git(repo, "add", "check.sh")
    git(repo, "commit", "-qm", "the task's check")


def verify(tid: str) -> str:
    return f"grep -qx 'hello from {tid}' hello-{tid}.txt && sh check.sh"


def test_a_misled_aider_is_stopped_by_the_os_and_its_task_passes(
        aider: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    with_check(git_repo, "ab")
    bystander = P.agent_dir(git_repo, "bystander", 1) / P.RESULTS_FILE
    bystander.parent.mkdir(parents=True)
    bystander.write_text('{"status": "done"}')
    ssh = Path.home() / ".ssh"
    ssh_before = sorted(os.listdir(ssh)) if ssh.is_dir() else None
    openai_stub.add_route(route(
        "ab", Reply(text=whole(("hello-ab.txt", "hello from ab\n"),
                               ("check.sh", attacks(git_repo, bystander))), tokens=STEP),
        Reply(text=whole(("check.sh", CHECK.format(tid="ab"))), tokens=STEP, repeat=True)))
    openai_stub.default = Reply(text="Edit the files", tokens=Tokens(300, 8), repeat=True)
    f = start(fleets, git_repo, aider_config(aider, openai_stub, tmp_path / "home", "ab"),
              [task("ab", "aider", verify=verify("ab"))])
    assert f.wait_done(timeout=240), f.summary()
    assert f.of("sandbox_checked")[0].data["off"] == []  # boxed under "auto": no warning
    launch = json.loads((P.agent_dir(git_repo, "ab", 1) / P.LAUNCH_FILE).read_text())
    assert launch["extra"]["sandbox"]["mode"] == "bwrap"
    # Aider ran the script in the box; each write was refused, and it saw so.
    outputs = " ".join(json.dumps(r.body) for r in openai_stub.model_requests())
    for word in ("DB-REFUSED", "INBOX-REFUSED", "RESULTS-REFUSED", "MAIN-REFUSED",
                 "SSH-REFUSED"):
        assert word in outputs, (word, outputs[-3000:])
    assert "Read-only file system" in outputs or "No such file" in outputs
    assert bystander.read_text() == '{"status": "done"}'
    assert (git_repo / "README.md").read_text() == "# test repo\n"
    assert (sorted(os.listdir(ssh)) if ssh.is_dir() else None) == ssh_before
    store = Store(git_repo / P.SWARM_DIR / P.STATE_DB)
    try:
        assert all(c.kind != "down" for c in store.commands())
    finally:
        store.close()
    # It went on: its commits (git in the box) are on the real branch, moved by the wrapper.
    assert f.state_of("ab") in ("passed", "merged"), f.summary()
    log = git(git_repo, "log", "--format=%s", "main..swarm/ab-1").splitlines()
    assert len(log) >= 2, log
    assert git(git_repo, "show", "swarm/ab-1:hello-ab.txt") == "hello from ab\n"
    assert git(git_repo, "show", "swarm/ab-1:check.sh") == CHECK.format(tid="ab")
    (ex,) = f.of("agent_exited", "ab")
    assert ex.data["tokens"] == 2 * STEP.total


def test_with_network_api_aider_reaches_its_api_only_through_the_proxy(
        aider: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    with_check(git_repo, "an")
    around = (f"{sys.executable} -c \"import socket; socket.create_connection(('127.0.0.1', "
              f"{openai_stub.port}), timeout=5); print('REACH' 'ED')\" 2>&1 | tail -1\nexit 1\n")
    openai_stub.add_route(route(
        "an", Reply(text=whole(("hello-an.txt", "hello from an\n"),
                               ("check.sh", "#!/bin/sh\n" + around)), tokens=STEP),
        Reply(text=whole(("check.sh", CHECK.format(tid="an"))), tokens=STEP, repeat=True)))
    openai_stub.default = Reply(text="Edit the files", tokens=Tokens(300, 8), repeat=True)
    f = start(fleets, git_repo, aider_config(aider, openai_stub, tmp_path / "home", "an",
                                             mode="bwrap", network="api"),
              [task("an", "aider", verify=verify("an"))])
    assert f.wait_done(timeout=240), f.summary()
    assert f.state_of("an") in ("passed", "merged"), f.summary()
    # Every request (its edits' and its commit messages') came through the proxy, which sends
    # each on as one request and says so; around the proxy there was no way out.
    assert len(openai_stub.requests) >= 4
    assert {r.headers.get("connection") for r in openai_stub.requests} == {"close"}
    outputs = " ".join(json.dumps(r.body) for r in openai_stub.model_requests())
    assert "got this output:\\n\\nConnectionRefusedError" in outputs, outputs[-1500:]
    assert "REACHED" not in outputs, outputs[-1500:]
    assert f.of("net_refused") == []  # it asked the proxy for nothing else


def test_with_network_none_aider_cannot_reach_its_api(
        aider: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    openai_stub.default = Reply(text="unreachable", tokens=STEP, repeat=True)
    f = start(fleets, git_repo, aider_config(aider, openai_stub, tmp_path / "home", "cut",
                                             mode="bwrap", network="none"),
              [task("cut", "aider")])
    exited = f.wait_kind("agent_exited", "cut", timeout=240)
    assert exited.attempt == 1
    f.stop()
    assert openai_stub.requests == [], [r.path for r in openai_stub.requests]
    # Aider said why it could not work: its API could not be reached.
    assert exited.data["outcome"]["api_error"], exited.data
    assert not (P.agent_dir(git_repo, "cut", 1) / P.RESULTS_FILE).exists()
