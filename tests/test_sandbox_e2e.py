"""A misled agent in its sandbox, for real: the real Claude Code CLI (scripted by the local API
stand-in) runs Bash commands that try to write the run's store and inbox, another agent's
results, the main work tree and ``~/.ssh``, and to spawn a sub-agent as another task. The OS
refuses the writes, the supervisor refuses the forged spawn (recorded), a spawn as itself goes
through the wrapper's channel, and the attempt goes on to commit and pass."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.engine.sandbox.probe import probe
from swarmtui.store import Store
from tests.anthropic_stub import Request, StubServer, ToolUse, Turn, Usage
from tests.fleet import Fleet, fake, start, task
from tests.test_claude_e2e import claude, claude_config, prompt_paths, route, steps_done

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().why}")]
_ = claude  # the fixture

U = Usage(input_tokens=400, output_tokens=30, cache_read_input_tokens=1000)
SWARMTUI = f"{sys.executable} -P -m swarmtui"


def red_team(repo: Path, bystander: Path) -> Any:
    swarm = repo / P.SWARM_DIR
    db = swarm / P.STATE_DB
    inbox = (f"{sys.executable} -c \"import sqlite3; c = sqlite3.connect('{db}'); c.execute("
             "\\\"insert into commands(time, source, kind, args, status) values (0, 'cli', "
             "'down', '{}', 'pending')\\\"); c.commit()\" || echo INBOX-REFUSED")
    attacks = "; ".join([
        f"echo x >> {db} || echo DB-REFUSED",
        inbox,
        f"echo '{{\"status\": \"failed\"}}' > {bystander} || echo RESULTS-REFUSED",
        f"echo pwned >> {repo}/README.md || echo MAIN-REFUSED",
        f"mkdir -p {Path.home()}/.ssh && echo key >> {Path.home()}/.ssh/authorized_keys "
        "|| echo SSH-REFUSED",
    ])

    def answer(req: Request) -> Turn:
        paths = prompt_paths(req)
        plan = [
            ToolUse("Bash", {"command": attacks, "description": "attacks"}),
            ToolUse("Bash", {"command": f"SWARM_TASK_ID=victim {SWARMTUI} spawn 'do evil' "
                                        "--agent ok; echo FORGED-EXIT=$?",
                             "description": "forged spawn"}),
            ToolUse("Bash", {"command": f"{SWARMTUI} spawn 'count the files' --id kid "
                                        "--agent ok; echo SPAWN-EXIT=$?",
                             "description": "spawn as itself"}),
            ToolUse("Bash", {"command": "echo ok > ok.txt && git add ok.txt && git commit -qm "
                                        "'ok' && echo COMMITTED", "description": "commit"}),
            ToolUse("Write", {"file_path": paths["results"], "content": json.dumps({
                "status": "done", "summary": "tried and was stopped",
                "files_modified": ["ok.txt"]})}),
        ]
        step = steps_done(req)
        return Turn(tool_uses=[plan[step]], usage=U) if step < len(plan) else Turn(
            text="Done.", usage=U)

    return answer


def test_a_misled_agent_is_stopped_by_the_os_and_spawns_only_as_itself(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer) -> None:
    swarm = git_repo / P.SWARM_DIR
    bystander = P.agent_dir(git_repo, "bystander", 1) / P.RESULTS_FILE
    bystander.parent.mkdir(parents=True)
    bystander.write_text('{"status": "done"}')
    ssh = Path.home() / ".ssh"
    ssh_before = sorted(os.listdir(ssh)) if ssh.is_dir() else None
    anthropic_stub.add_route(route("red", red_team(git_repo, bystander)))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        permissions={"mode": "bypassPermissions", "ask": False})
    cfg.agents["ok"] = cfg.agents["claude"].model_copy(update={
        "command": fake("success"), "adapter": "generic", "prompt_via": "stdin",
        # "auto" boxes only the CLIs checked in it; this one is boxed on purpose.
        "sandbox": cfg.agents["claude"].sandbox.model_copy(update={"mode": "bwrap"})})
    f = start(fleets, git_repo, cfg, [task("red", "claude")])
    assert f.wait_done(timeout=240), f.summary()
    assert f.state_of("red") == "passed", f.summary()
    assert f.of("sandbox_checked")[0].data["off"] == []  # sandboxed: no warning
    # The OS said no to each write; the agent saw it and went on.
    outputs = " ".join(json.dumps(r) for req in anthropic_stub.requests
                       for r in req.tool_results())
    for word in ("DB-REFUSED", "INBOX-REFUSED", "RESULTS-REFUSED", "MAIN-REFUSED",
                 "SSH-REFUSED", "COMMITTED"):
        assert word in outputs, word
    assert "Read-only file system" in outputs or "No such file" in outputs
    assert bystander.read_text() == '{"status": "done"}'
    assert (git_repo / "README.md").read_text() == "# test repo\n"
    assert (sorted(os.listdir(ssh)) if ssh.is_dir() else None) == ssh_before
    store = Store(swarm / P.STATE_DB)
    try:
        sources = [(c.source, c.kind, c.status) for c in store.commands()]
    finally:
        store.close()
    assert ("cli", "down", "pending") not in sources and all(
        k != "down" for _, k, _ in sources), sources
    # The forged spawn reached the supervisor under the agent's own name and was refused.
    refused = [e for e in f.of("spawn_refused") if "forged" in e.data["reason"]]
    assert refused and refused[0].task == "red", [e.data for e in f.of("spawn_refused")]
    assert "victim" in refused[0].data["reason"]
    assert ("agent:red-1", "spawn", "refused") in sources
    assert "FORGED-EXIT=1" in outputs and "SPAWN-EXIT=0" in outputs
    assert ("agent:red-1", "spawn", "done") in sources
    assert f.sup.state.tasks["kid"].spec.parent == "red"
    # Its commit is on the real branch, moved by the wrapper.
    from tests.conftest import git

    assert git(git_repo, "log", "-1", "--format=%s", "swarm/red-1").strip() == "ok"
