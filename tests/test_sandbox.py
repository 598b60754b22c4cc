"""The agent's sandbox with the real parts: bubblewrap, a git repository with a worktree made by
git, a listener on 127.0.0.1 (the API stand-in). What the agent's box lets it do, and what it
refuses, the way an agent's shell would meet it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.engine.sandbox import bwrap
from swarmtui.engine.sandbox.box import Box
from swarmtui.engine.sandbox.layout import SandboxError, shielded
from swarmtui.engine.sandbox.probe import probe
from tests.anthropic_stub import StubServer
from tests.conftest import git

pytestmark = pytest.mark.skipif(not probe().ok and not os.environ.get("CI"),
                                reason=f"no sandbox here: {probe().why}")

GIT_ENV = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@a.invalid",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@a.invalid"}


class Attempt:
    """An attempt's worktree and folder as the supervisor makes them, and its box."""

    def __init__(self, repo: Path, task: str, n: int, home: Path, **sandbox: Any) -> None:
        self.repo = repo
        self.aid = P.agent_id(task, n)
        self.wt = P.worktree_dir(repo, task, n)
        self.dir = P.agent_dir(repo, task, n)
        self.dir.mkdir(parents=True)
        git(repo, "worktree", "add", "-q", "-b", P.branch_name(task, n), str(self.wt))
        self.box = Box.open(self.dir, {"sandbox": {
            "mode": "bwrap", "network": "full", "repo": str(repo), "task": task,
            "worktree": str(self.wt), "branch": P.branch_name(task, n), **sandbox}})
        self.env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **GIT_ENV}

    def sh(self, script: str, adapter: str = "claude") -> subprocess.CompletedProcess[str]:
        argv, env = self.box.command(["sh", "-c", script], dict(self.env), adapter,
                                     str(self.wt))
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        self.box.settle()
        return done


@pytest.fixture
def attempt(git_repo: Path, tmp_path: Path) -> Iterator[Attempt]:
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    a = Attempt(git_repo, "t", 1, tmp_path / "home")
    yield a
    a.box.close()


def test_git_commit_moves_its_own_branch_and_nothing_else(attempt: Attempt) -> None:
    repo = attempt.repo
    git(repo, "branch", "other")
    neighbour = Attempt(repo, "u", 1, repo.parent / "home-u")
    main_before = git(repo, "rev-parse", "main").strip()
    done = attempt.sh(
        "echo work > work.txt && git add work.txt && git commit -qm 'work' && echo COMMITTED; "
        "git update-ref refs/heads/main HEAD || echo MAIN-REFUSED; "
        f"echo {main_before} > {repo}/.git/refs/heads/other || echo OTHER-REFUSED; "
        # Inside, swarm/ holds only its own branch: this makes a ref nobody reads.
        "git branch -f swarm/u-1 HEAD; "
        "git checkout -q -b escape || echo BRANCH-REFUSED; "
        f"echo junk > {repo}/.git/packed-refs || echo PACKED-REFUSED")
    out = done.stdout
    for word in ("COMMITTED", "MAIN-REFUSED", "OTHER-REFUSED", "BRANCH-REFUSED",
                 "PACKED-REFUSED"):
        assert word in out, (word, out, done.stderr)
    assert "Read-only file system" in done.stderr
    # The real branch carries the commit (the wrapper moved it), the others did not move.
    assert git(repo, "log", "-1", "--format=%s", "swarm/t-1").strip() == "work"
    assert git(repo, "rev-parse", "main").strip() == main_before
    assert git(repo, "rev-parse", "swarm/u-1").strip() == main_before
    assert "escape" not in git(repo, "branch", "--list")
    assert git(repo, "status", "--porcelain", "--", ".", ":!.swarm") == ""  # main tree
    neighbour.box.close()


def test_the_supervisors_files_other_agents_and_secrets_are_not_there(
        attempt: Attempt, tmp_path: Path) -> None:
    repo = attempt.repo
    swarm = repo / P.SWARM_DIR
    (swarm / P.STATE_DB).write_bytes(b"the store")
    other = P.agent_dir(repo, "u", 1)
    other.mkdir(parents=True)
    (other / P.RESULTS_FILE).write_text('{"status": "done"}')
    ssh = Path.home() / ".ssh"
    ssh_before = sorted(os.listdir(ssh)) if ssh.is_dir() else None
    done = attempt.sh(
        f"echo x > {swarm / P.STATE_DB} || echo DB; "
        f"cat {swarm / P.STATE_DB} || echo DB-UNREAD; "
        f"echo x > {other / P.RESULTS_FILE} || echo RESULTS; "
        f"echo x > {repo}/README.md || echo MAIN; "
        f"cat {repo}/README.md || echo MAIN-UNREAD; "
        f"mkdir -p {ssh} && echo key > {ssh}/authorized_keys || echo SSH; "
        f"ls {Path.home()}/.ssh 2>&1 | head -1; "
        f"echo mine > {attempt.dir}/progress.md && echo OWN-FOLDER; "
        "echo tmp > /tmp/x && echo TMP")
    out = done.stdout
    for word in ("DB", "DB-UNREAD", "RESULTS", "MAIN", "MAIN-UNREAD", "SSH", "OWN-FOLDER",
                 "TMP"):
        assert word in out.split(), (word, out, done.stderr)
    assert (swarm / P.STATE_DB).read_bytes() == b"the store"
    assert (other / P.RESULTS_FILE).read_text() == '{"status": "done"}'
    assert (repo / "README.md").read_text() == "# test repo\n"
    assert (sorted(os.listdir(ssh)) if ssh.is_dir() else None) == ssh_before
    assert (attempt.dir / "progress.md").read_text() == "mine\n"


def test_network_none_cannot_reach_the_api_stand_in(git_repo: Path, tmp_path: Path,
                                                    anthropic_stub: StubServer) -> None:
    (git_repo / P.SWARM_DIR).mkdir(mode=0o700)
    port = anthropic_stub.base_url.rsplit(":", 1)[1].strip("/")
    probe_py = (f"{sys.executable} -c \"import socket; socket.create_connection(('127.0.0.1', "
                f"{port}), timeout=5); print('REACHED')\"")
    closed = Attempt(git_repo, "n", 1, tmp_path / "h1", network="none")
    open_ = Attempt(git_repo, "f", 1, tmp_path / "h2", network="full")
    try:
        refused = closed.sh(probe_py)
        assert "REACHED" not in refused.stdout
        assert "ConnectionRefusedError" in refused.stderr, refused.stderr
        assert "REACHED" in open_.sh(probe_py).stdout
    finally:
        closed.box.close()
        open_.box.close()


def test_a_worktree_pointing_elsewhere_gets_no_box(git_repo: Path, tmp_path: Path) -> None:
    """An earlier attempt could have rewritten its worktree's .git file: the box is not made
    (the attempt fails to start, saying why) rather than bind what it names."""
    wt = tmp_path / "wt"
    git(git_repo, "worktree", "add", "-q", "-b", "swarm/x-1", str(wt))
    (wt / ".git").write_text(f"gitdir: {git_repo}/.git\n")
    adir = tmp_path / "agents" / "x-1"
    adir.mkdir(parents=True)
    with pytest.raises(SandboxError, match="not into"):
        Box.open(adir, {"sandbox": {"mode": "bwrap", "repo": str(git_repo), "task": "x",
                                    "worktree": str(wt), "branch": "swarm/x-1"}})


def test_mounts_are_applied_parents_first_and_the_root_is_read_only() -> None:
    ms = [bwrap.Mount("ro", "/r/.git/x", "/r/.git/x"), bwrap.Mount("rw", "/r", "/r"),
          bwrap.Mount("ro", "/r/.git", "/r/.git")]
    argv = bwrap.argv(ms, chdir="/r", network="none", root=True)
    dests = [argv[i + 2] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert dests == ["/r", "/r/.git", "/r/.git/x"]
    assert "--unshare-net" in argv and argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv[-5:] == ["--remount-ro", "/", "--chdir", "/r", "--"]


def test_a_repository_under_tmp_is_shielded(tmp_path: Path) -> None:
    ms = [bwrap.Mount("rw", "/tmp", "/x/tmp"), bwrap.Mount("rw", "/tmp/a/b/wt", "/tmp/a/b/wt")]
    out = shielded(ms, ["/tmp"], tmp_path / "skel")
    assert bwrap.Mount("ro", "/tmp/a", str(tmp_path / "skel" / "tmp" / "a")) in out
    assert (tmp_path / "skel" / "tmp" / "a" / "b" / "wt").is_dir()


def test_an_npm_cli_gets_its_node_modules_also_where_its_link_points(tmp_path: Path) -> None:
    from swarmtui.engine.sandbox.layout import executables

    real = tmp_path / "real" / "node_modules"
    (real / "@o" / "cli" / "bin").mkdir(parents=True)
    (real / "@o" / "cli" / "package.json").write_text("{}")
    (real / "@o" / "cli" / "bin" / "cli.js").write_text("")
    (real / "@o" / "cli-linux-x64").mkdir()  # its native binary, a sibling package
    (tmp_path / "cache").symlink_to(tmp_path / "real")  # a folder on the way is a link
    shim = tmp_path / "cache" / "node_modules" / ".bin"
    shim.mkdir()
    (shim / "cli").symlink_to("../@o/cli/bin/cli.js")
    out = executables(str(shim / "cli"), "")
    assert (str(shim), str(shim)) in out
    assert (str(real), str(real)) in out
    assert (str(tmp_path / "cache" / "node_modules"), str(real)) in out


def test_codex_runs_with_its_own_sandbox_bypassed_only_in_ours() -> None:
    from swarmtui.engine.sandbox.policy import VERIFIED, inner_box_off

    assert "codex" in VERIFIED
    assert inner_box_off("codex", {"mode": "bwrap"})
    assert not inner_box_off("codex", {"mode": "off", "why": "x"})
    assert not inner_box_off("claude", {"mode": "bwrap"})
