"""The wrapper runs in the agent's worktree: a ``swarmtui/`` package there (an agent's edit, or
swarmtui supervising its own repository) must not be what gets imported as the wrapper."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git
from tests.fleet import Fleet, fake, fast_config, start, task


def test_a_swarmtui_package_in_the_worktree_is_not_imported(git_repo: Path,
                                                             fleets: list[Fleet]) -> None:
    marker = git_repo.parent / "the-worktree-copy-ran"
    pkg = git_repo / "swarmtui" / "engine"
    pkg.mkdir(parents=True)
    for init in (git_repo / "swarmtui" / "__init__.py", pkg / "__init__.py"):
        init.write_text("")
    (pkg / "wrap.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    git(git_repo, "add", "swarmtui")
    git(git_repo, "commit", "-qm", "a package named like the supervisor's")
    agent = fake("success")
    agent.insert(1, "-P")  # the agent too would import the worktree's package otherwise
    f = start(fleets, git_repo, fast_config({"ok": agent}), [task("t1", "ok")])
    assert f.wait_done()
    assert f.state_of("t1") == "passed"
    assert not marker.exists()
