"""What a boxed Aider is given, with real parts: its virtual environment (made here with
``venv``, as pip and pipx make Aider's) read-only in real bubblewrap, a copy of its state in the
private home, its API hosts under ``network = "api"``, and git's identity without a write to
the repository's config."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmtui.engine.sandbox.apihosts import api_hosts
from swarmtui.engine.sandbox.gitident import identity_env
from swarmtui.engine.sandbox.layout import HOME_FILE_MAX, copy_home_files, venv_dirs
from swarmtui.engine.sandbox.probe import probe
from tests.conftest import git
from tests.test_sandbox import Attempt

needs_bwrap = pytest.mark.skipif(not probe().ok and not os.environ.get("CI"),
                                 reason=f"no sandbox here: {probe().why}")


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A console script in a virtual environment of its own (Aider's shape), at a path
    nothing else in the box holds."""
    root = tmp_path_factory.mktemp("tool")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root / "venv")
    site = next((root / "venv" / "lib").glob("python3*/site-packages"))
    (site / "pytool.py").write_text(
        "import sys\ndef main():\n    print('TOOL-RAN', sys.prefix)\n    try:\n"
        "        open(__file__, 'a').close()\n    except OSError as e:\n"
        "        print('VENV-REFUSED', e)\n")
    script = root / "venv" / "bin" / "pytool"
    script.write_text(f"#!{root}/venv/bin/python\nimport pytool\npytool.main()\n")
    script.chmod(0o755)
    return script


@pytest.fixture
def attempt(git_repo: Path, tmp_path: Path) -> Iterator[Attempt]:
    (git_repo / ".swarm").mkdir(mode=0o700)
    a = Attempt(git_repo, "t", 1, tmp_path / "home")
    yield a
    a.box.close()


def test_a_scripts_virtual_environment_is_found_from_its_first_line(tool: Path) -> None:
    got = venv_dirs(str(tool))
    assert str(tool.parent.parent) in got
    base = Path(os.path.realpath(sys.base_prefix))
    assert str(base) in got or any(str(base).startswith(g) for g in got), got
    plain = tool.parent / "plain.sh"
    plain.write_text("#!/bin/sh\necho hi\n")
    assert venv_dirs(str(plain)) == [] and venv_dirs(str(tool.parent / "absent")) == []


@needs_bwrap
def test_a_python_tool_runs_in_the_box_from_its_venv_which_it_cannot_change(
        attempt: Attempt, tool: Path) -> None:
    argv, env = attempt.box.command(
        [str(tool)], dict(attempt.env), "aider", str(attempt.wt))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "TOOL-RAN" in done.stdout, done.stderr
    assert "VENV-REFUSED [Errno 30] Read-only file system" in done.stdout, done.stdout


@needs_bwrap
def test_aider_gets_a_copy_of_its_state_and_its_writes_there_go_nowhere(
        attempt: Attempt, tmp_path: Path) -> None:
    home = tmp_path / "home"
    caches = home / ".aider" / "caches"
    caches.mkdir(parents=True)
    prices = caches / "model_prices_and_context_window.json"
    prices.write_text("{}\n")
    (home / ".aider.conf.yml").write_text("model: x\n")
    (home / ".aider" / "oauth-keys.env").symlink_to("/etc/hostname")  # not followed
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("secret\n")
    done = attempt.sh(
        "cat ~/.aider.conf.yml ~/.aider/caches/model_prices_and_context_window.json; "
        "echo poisoned > ~/.aider/caches/model_prices_and_context_window.json && echo WROTE; "
        "test -e ~/.aider/oauth-keys.env || echo NO-LINK; "
        "test -e ~/.ssh/id_ed25519 || echo NO-KEY", adapter="aider")
    for word in ("model: x", "WROTE", "NO-LINK", "NO-KEY"):
        assert word in done.stdout, (word, done.stdout, done.stderr)
    assert prices.read_text() == "{}\n"  # the copy changed, not the user's


def test_a_home_file_over_the_bound_is_not_copied(tmp_path: Path) -> None:
    home, into = tmp_path / "home", tmp_path / "into"
    (home / ".aider").mkdir(parents=True)
    (home / ".aider" / "installs.json").write_bytes(b"x" * (HOME_FILE_MAX + 1))
    (home / ".aider.conf.yml").write_text("a: 1\n")
    copy_home_files((".aider/installs.json", ".aider.conf.yml", ".absent"), str(home), into)
    assert sorted(p.name for p in into.rglob("*") if p.is_file()) == [".aider.conf.yml"]


def test_aiders_api_hosts_follow_its_keys_and_base_urls() -> None:
    assert api_hosts("aider", {"OPENAI_API_KEY": "k"}, []) == [("api.openai.com", 443)]
    assert api_hosts("aider", {"OPENAI_API_KEY": "k", "OPENAI_API_BASE":
                               "http://127.0.0.1:8080/v1"}, []) == [("127.0.0.1", 8080)]
    assert api_hosts("aider", {"ANTHROPIC_API_KEY": "k", "DEEPSEEK_API_KEY": "k"}, []) == [
        ("api.anthropic.com", 443), ("api.deepseek.com", 443)]
    assert api_hosts("aider", {}, ["llm.internal"]) == [("llm.internal", 443)]


def test_git_identity_is_given_only_where_git_has_none(git_repo: Path, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "nohome"),
           "GIT_CONFIG_GLOBAL": str(tmp_path / "none"), "GIT_AUTHOR_NAME": "agent"}
    config_before = (git_repo / ".git" / "config").read_text()
    extra = identity_env("aider", env, str(git_repo))
    assert extra == {"GIT_CONFIG_KEY_0": "user.name", "GIT_CONFIG_VALUE_0": "agent",
                     "GIT_CONFIG_KEY_1": "user.email", "GIT_CONFIG_VALUE_1": "you@example.com",
                     "GIT_CONFIG_COUNT": "2"}
    # git reads it so: Aider's question is answered, and nothing was written.
    got = subprocess.run(["git", "config", "user.name"], cwd=git_repo, env={**env, **extra},
                         capture_output=True, text=True).stdout.strip()
    assert got == "agent" and (git_repo / ".git" / "config").read_text() == config_before
    git(git_repo, "config", "user.name", "someone")
    git(git_repo, "config", "user.email", "someone@example.com")
    assert identity_env("aider", env, str(git_repo)) == {}
    assert identity_env("claude", env, str(git_repo)) == {}
