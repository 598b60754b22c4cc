"""Secrets: which values are secret, redaction (including in the real wrapper's output), the run's
stored settings without them, and getting them back when a run resumes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmtui.config import config_from_dict
from swarmtui.engine.run.runconfig import config_of_run, settings_for
from swarmtui.engine.wrapper.launch import LaunchSpec
from swarmtui.protocol import ENV_FILE, EXIT_FILE, OUTPUT_LOG, PROMPT_FILE, SIGNALS_FILE
from swarmtui.secrets import (
    MARKER,
    REDACTED,
    Redactor,
    is_secret_name,
    redact_config,
    restore_secrets,
    secret_values,
)

PLANTED = "planted-Zq81-secret-value"
SHAPED = "sk-ant-api03-" + "A1b2C3d4E5f6G7h8" * 3


@pytest.mark.parametrize("name", ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "db_password",
                                  "AWS_SECRET_ACCESS_KEY", "GCP_CREDENTIALS", "SSH_PRIVATE"])
def test_names_that_are_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "EDITOR", "TERM"])
def test_names_that_are_not(name: str) -> None:
    assert not is_secret_name(name)
    assert is_secret_name(name, [name])  # unless the config marks it


def test_redactor_values_and_shapes() -> None:
    r = Redactor([PLANTED, "short"])
    text = f"key={PLANTED} and {SHAPED} and AKIAABCDEFGHIJKLMNOP; short stays"
    out = r(text)
    assert PLANTED not in out and SHAPED not in out and "AKIA" not in out
    assert out.count(REDACTED) == 3 and "short stays" in out
    assert r.bytes(f"x{PLANTED}y".encode()) == f"x{REDACTED}y".encode()


@given(st.text(max_size=200), st.text(max_size=200))
def test_redactor_never_leaves_a_known_value(before: str, after: str) -> None:
    out = Redactor([PLANTED])(before + PLANTED + after)
    assert PLANTED not in out


def test_secret_values_only_for_secret_names() -> None:
    env = {"API_KEY": PLANTED, "HOME": "/home/someone", "DEPLOY": "deploy-value-1"}
    assert secret_values(env) == [PLANTED]
    assert sorted(secret_values(env, ["DEPLOY"])) == sorted([PLANTED, "deploy-value-1"])


def _config(**agent_env: object) -> dict[str, object]:
    return {"agents": {"a": {"command": ["true"], "env": agent_env}}}


def test_secret_true_entry_marks_a_variable() -> None:
    cfg = config_from_dict(_config(DEPLOY={"value": PLANTED, "secret": True}, PLAIN="x"), "t")
    agent = cfg.agents["a"]
    assert agent.env == {"DEPLOY": PLANTED, "PLAIN": "x"} and agent.secret_env == ["DEPLOY"]


def test_stored_settings_carry_no_secret_and_resume_gets_them_back(tmp_path: Path) -> None:
    data = _config(ANTHROPIC_API_KEY=PLANTED, DEPLOY={"value": "deploy-value-1", "secret": True},
                   MODE="fast")
    cfg = config_from_dict(data, "t")
    settings = settings_for(cfg, "tasks.toml")
    dumped = json.dumps(settings.config)
    assert PLANTED not in dumped and "deploy-value-1" not in dumped and "fast" in dumped
    back = config_of_run(settings, cfg)
    assert back.agents["a"].env == {"ANTHROPIC_API_KEY": PLANTED, "DEPLOY": "deploy-value-1",
                                    "MODE": "fast"}
    # Without a source for the value, the variable is left out rather than set to the marker.
    bare = config_of_run(settings, config_from_dict({}, "t"))
    assert "ANTHROPIC_API_KEY" not in bare.agents["a"].env
    assert MARKER not in json.dumps(bare.to_dict())


def test_restore_prefers_the_first_source() -> None:
    stored = redact_config(_config(API_KEY="old-value-1"))
    got = restore_secrets(stored, _config(API_KEY="from-file-1"), _config(API_KEY="caller-1"))
    assert got["agents"]["a"]["env"]["API_KEY"] == "from-file-1"  # type: ignore[index]


AGENT = """
import json, os, sys
sys.stdin.read()
secret = os.environ["DEPLOY"]
half = len(secret) // 2
sys.stdout.write("first " + secret[:half]); sys.stdout.flush()
sys.stdout.write(secret[half:] + " end\\n"); sys.stdout.flush()
print("partial line with " + os.environ["API_KEY"], end="", flush=True)
print()
print("shaped " + os.environ["PLAIN_VAR"])
"""


def test_wrapper_redacts_output_and_drops_env_file(tmp_path: Path) -> None:
    """The real wrapper: env.json is gone once read; neither the pane nor output.log nor
    exit.json shows a secret value, even one split across two writes."""
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    script = tmp_path / "agent.py"
    script.write_text(textwrap.dedent(AGENT))
    (agent_dir / PROMPT_FILE).write_text("go\n")
    (tmp_path / "hb").touch()
    LaunchSpec(argv=[sys.executable, str(script)], cwd=str(tmp_path),
               env={"DEPLOY": "deploy-value-1234", "API_KEY": PLANTED, "PLAIN_VAR": SHAPED,
                    "PATH": "/usr/bin:/bin"},
               prompt_via="stdin", prompt_file=str(agent_dir / PROMPT_FILE),
               heartbeat_file=str(tmp_path / "hb"), orphan_timeout=60, kill_grace=2,
               log_max_bytes=1 << 20, secret_names=["DEPLOY"]).write(agent_dir)
    assert (agent_dir / ENV_FILE).stat().st_mode & 0o777 == 0o600
    res = subprocess.run([sys.executable, "-m", "swarmtui", "wrap", str(agent_dir)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert not (agent_dir / ENV_FILE).exists()
    log = (agent_dir / OUTPUT_LOG).read_text()
    for where in (res.stdout, log):
        assert "first [redacted] end" in where and "partial line with [redacted]" in where
        assert "shaped [redacted]" in where
    for path in agent_dir.iterdir():
        text = path.read_text(errors="replace")
        for secret in ("deploy-value-1234", PLANTED, SHAPED):
            assert secret not in text, f"{secret} in {path.name}"
    assert json.loads((agent_dir / EXIT_FILE).read_text())["how"] == "exited"
    assert not (agent_dir / SIGNALS_FILE).exists() or PLANTED not in (
        agent_dir / SIGNALS_FILE).read_text()
