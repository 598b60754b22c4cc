"""`status`'s git questions without the subprocess module (``swarmtui/gitquick.py``) give
``gitview``'s answers, from a real repository and its linked worktrees."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from swarmtui import gitquick, gitview, statusfile
from tests.conftest import git


def test_the_main_root_is_found_from_the_repository_a_subfolder_and_a_worktree(
        git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "sub" / "deeper").mkdir(parents=True)
    linked = tmp_path / "linked"
    git(git_repo, "worktree", "add", "-q", "-b", "side", str(linked))
    for start in (git_repo, git_repo / "sub" / "deeper", linked):
        assert gitquick.main_root(str(start)) == str(gitview.main_root(start)) == str(
            git_repo.resolve())


def test_no_root_outside_a_repository_nor_in_a_bare_one(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    env_ceiling = os.environ.get("GIT_CEILING_DIRECTORIES")
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path)  # not the folders above tmp_path
    try:
        assert gitquick.main_root(str(outside)) is None
        assert gitquick.main_root(str(bare)) is None
        with pytest.raises(subprocess.CalledProcessError):
            gitview.main_root(outside)
    finally:
        if env_ceiling is None:
            del os.environ["GIT_CEILING_DIRECTORIES"]
        else:
            os.environ["GIT_CEILING_DIRECTORIES"] = env_ceiling


def test_the_target_tip_is_the_branch_commit_or_none(git_repo: Path) -> None:
    head = git(git_repo, "rev-parse", "HEAD").strip()
    assert gitquick.target_tip(str(git_repo), "main") == head
    assert gitquick.target_tip(str(git_repo), "no-such-branch") is None
    assert gitquick.target_tip(str(git_repo), None) is None
    assert gitquick.target_tip(str(git_repo / "gone"), "main") is None


def test_git_that_outlives_its_timeout_is_killed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A `git` that never answers (a stand-in first on PATH) costs the timeout, not a hang."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert gitquick.git(["rev-parse", "HEAD"], 0.3) is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert gitquick.git(["rev-parse", "HEAD"], 5) is None  # no git at all


def test_the_head_parser_reads_what_json_reads() -> None:
    head = {"format": 2, "pid": 12, "seq": 40, "at": 1.5e9, "valid_until": None,
            "zone": [0, -3600, 1, ["UTC", "CEST"], None], "rows": [[1.25, None, "a" * 40]],
            "code": {"root": "/x/ü", "files": [["m.py", 10, 10**18]]}, "vouched": [],
            "body": [3, 7], "nan": float("inf"), "neg": -0.0, "esc": "a\"\\\u0001"}
    text = json.dumps(head, separators=(",", ":"))
    assert statusfile.loads(text) == json.loads(text)
    for bad in ("", "{", '{"a":1} x', " {}", "{'a':1}"):
        with pytest.raises(ValueError):
            statusfile.loads(bad)
