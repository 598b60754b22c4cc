"""No planted secret anywhere swarmtui writes or shows: a whole run driven through the real CLI
(`up` in tmux, an agent that prints its secrets, a failure and a retry, `down`), then every file
under .swarm/ (the database and its WAL included), the tmux server's global environment and its
process environment, and every pane's scrollback are searched for the planted values."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from swarmtui import protocol as P
from tests.clirun import py_agent, run, wait_state, write_config, write_tasks

pytestmark = pytest.mark.e2e

CALLER_KEY = "sk-ant-api03-PLANTEDcallerKEY0123456789abcdef"  # from the caller's environment
CONFIG_TOKEN = "planted-config-token-5150"  # agents.x.env, secret by its name
MARKED = "planted-marked-value-8086"  # agents.x.env, marked secret = true
PLANTED = (CALLER_KEY, CONFIG_TOKEN, MARKED)

# Prints every secret it was given, to stdout and stderr, fails once, then passes.
LEAKY = """
import json, os, sys
vals = [os.environ.get(k, "") for k in ("ANTHROPIC_API_KEY", "SERVICE_TOKEN", "DEPLOY_WORD")]
assert all(vals), "the agent did not get its secrets"
print("my secrets:", *vals, flush=True)
print("error: upstream rejected key", vals[0], file=sys.stderr, flush=True)
if os.environ["SWARM_ATTEMPT"] == "1":
    sys.exit(3)
with open(os.environ["SWARM_RESULTS_FILE"], "w") as f:
    json.dump({"status": "done", "summary": "did it", "files_modified": []}, f)
"""


def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-S", sock, *args], capture_output=True,
                          text=True).stdout


def test_no_planted_secret_on_disk_or_in_tmux(git_repo: Path, tmux_socket: str,
                                              tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"leaky": py_agent(LEAKY)})
    text = cfg.read_text() + (
        f'[agents.leaky.env]\nSERVICE_TOKEN = "{CONFIG_TOKEN}"\n'
        f'DEPLOY_WORD = {{ value = "{MARKED}", secret = true }}\n')
    cfg.write_text(text)
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    env = {"ANTHROPIC_API_KEY": CALLER_KEY}
    up = run("up", str(tf), "--repo", str(git_repo), "--config", str(cfg), "--no-tui", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    st = wait_state(git_repo, lambda s: "a" in s.tasks and str(s.tasks["a"].state) == "passed",
                    what="the retried agent to pass")
    assert st.tasks["a"].attempt == 2
    assert "[redacted]" in (P.agent_dir(git_repo, "a", 1) / P.OUTPUT_LOG).read_text()

    # While tmux still runs: what other processes (and anyone who can list the server) see.
    views = {"tmux global environment": _tmux(tmux_socket, "show-environment", "-g")}
    for pane in _tmux(tmux_socket, "list-panes", "-a", "-F", "#{pane_id}").split():
        views[f"pane {pane}"] = _tmux(tmux_socket, "capture-pane", "-p", "-S", "-", "-t", pane)
    server = _tmux(tmux_socket, "display-message", "-p", "#{pid}").strip()
    views["tmux server environ"] = Path(f"/proc/{server}/environ").read_bytes().decode(
        errors="replace")
    down = run("down", "--repo", str(git_repo))
    assert down.returncode == 0, down.stdout + down.stderr

    swarm = git_repo / P.SWARM_DIR
    assert swarm.stat().st_mode & 0o777 == 0o700
    for path in swarm.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        views[str(path.relative_to(git_repo))] = path.read_bytes().decode(errors="replace")
        if path.name.startswith(P.STATE_DB):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    assert any(k.endswith(P.STATE_DB) for k in views) and len(views) > 10
    leaks = [(where, secret[:12]) for where, text in views.items() for secret in PLANTED
             if secret in text]
    assert not leaks, f"planted secrets found: {leaks}"
    assert os.environ.get("ANTHROPIC_API_KEY") != CALLER_KEY  # the test did not leak it itself
