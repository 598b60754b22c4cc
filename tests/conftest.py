"""Shared fixtures: real git repositories and a private tmux server per test."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import textual_css
from tests.anthropic_stub import anthropic_stub  # noqa: F401 - a fixture for every module

# pytest keeps each test module's rewritten form (the one that explains a failed assert) under
# __pycache__ only where bytecode may be written. This machine sets PYTHONDONTWRITEBYTECODE, and
# then every worker of every run rewrote the 170 test modules again: about 10 of the 19
# CPU-seconds a worker spends collecting. The package's own bytecode is compiled by .ci/run.
sys.dont_write_bytecode = False

textual_css.install()  # each stylesheet parsed once per worker, not once per app

GIT_ID = ["-c", "user.name=swarmtui-test", "-c", "user.email=test@swarmtui.invalid"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End-to-end tests first. They wait on real processes for seconds each; started early, they
    overlap with everything else when the suite runs in several workers (pytest-xdist), and the
    many short tests fill the workers in at the end instead of one long test running alone.
    Within each group the order stays the collection order."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A fresh repository on branch main with one commit (README.md and shared.txt)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# test repo\n")
    (repo / "shared.txt").write_text("line 1\nline 2\nline 3\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(autouse=True)
def _private_tmux(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test gets a tmux socket path of its own (unused unless something starts a server
    there), so no test, and no test running beside it in another worker, ever reaches the
    shared default server; a server started there is killed afterwards.

    Socket paths must stay short (sun_path is ~100 bytes), so they live in /tmp directly.
    """
    path = f"/tmp/swt-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
    monkeypatch.setenv("SWARMTUI_TMUX_SOCKET", path)
    yield path
    if os.path.exists(path):
        subprocess.run(["tmux", "-S", path, "kill-server"], capture_output=True)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@pytest.fixture
def tmux_socket(_private_tmux: str) -> str:
    """This test's own tmux socket path (``$SWARMTUI_TMUX_SOCKET``); the server on it is
    killed after the test."""
    return _private_tmux


@pytest.fixture
def swarmtui_cmd() -> list[str]:
    return [sys.executable, "-m", "swarmtui"]


@pytest.fixture
def fleets(tmux_socket: str) -> Iterator[list[Any]]:
    """End-to-end fleets started by a test (see tests/fleet.py), closed afterwards."""
    made: list[Any] = []
    yield made
    for f in made:
        f.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    """A run's log and files for the TUI tests (tests/test_tui_world.py), without a supervisor."""
    from tests.test_tui_world import build_world

    w = build_world(tmp_path / "w")
    yield w
    w.store.close()


@pytest.fixture
def live(world: Any) -> Iterator[Any]:
    """Something that answers the inbox commands the TUI sends to ``world``."""
    from tests.test_tui_world import Answerer

    a = Answerer(world).start()
    yield a
    a.stop()
