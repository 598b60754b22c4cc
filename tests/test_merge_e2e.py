"""Fan-in through a real supervisor: merge queue, auto-merge, integration gate and retry,
conflicts and the resolver, the ledger in later prompts, revert detection, merging after a
headless run has ended, and feature-list write-back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.fake_agent import FAIL_VERIFY_MARKER, conflict_line, verify_command_for
from swarmtui.model import Cause
from tests.conftest import git
from tests.fleet import Fleet, fake, fast_config, start, task

pytestmark = pytest.mark.e2e

SCRIPTED = str(Path(__file__).with_name("scripted_agent.py"))


def scripted(tmp: Path, name: str, plan: dict[str, Any]) -> list[str]:
    path = tmp / f"plan-{name}.json"
    path.write_text(json.dumps(plan))
    return [sys.executable, SCRIPTED, str(path)]


def main_file(repo: Path, path: str) -> str:
    return git(repo, "show", f"main:{path}")


def test_manual_merge_updates_checked_out_target(git_repo: Path, fleets: list[Fleet],
                                                tmp_path: Path) -> None:
    cfg = fast_config({"s": scripted(tmp_path, "s", {"write": {"src/a.py": "A = 1\n"},
                                                     "results": {"summary": "adds A"}})})
    f = start(fleets, git_repo, cfg, [task("t1", "s", title="Add A")], exit_when_done=False)
    f.wait_kind("verify_passed", "t1")
    cid = f.command("merge", task="t1")
    ev = f.wait_kind("command_applied", command="merge")
    assert ev.data["status"] == "done" and ev.data["id"] == cid
    merged = f.wait_kind("task_merged", "t1")
    assert (git_repo / "src" / "a.py").read_text() == "A = 1\n"  # work tree moved with the ref
    assert git(git_repo, "status", "--porcelain") == ""
    msg = git(git_repo, "log", "-1", "--format=%B")
    assert "t1" in msg and "Add A" in msg and "adds A" in msg
    assert git(git_repo, "rev-parse", "HEAD").strip() == merged.data["commit"]
    assert f.state_of("t1") == "merged"
    # A second merge of a merged task is refused with the reason.
    f.command("merge", task="t1")
    again = f.wait_event(lambda e: e.kind == "command_applied" and e.seq > ev.seq)
    assert again.data["status"] == "refused" and "merged" in again.data["result"]["reason"]


def test_auto_merge_and_integration_failure_retried(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"fv": fake("fail-verify-once")},
                      merge={"auto": True, "verify": f"! grep -rqF '{FAIL_VERIFY_MARKER}' fake/"})
    f = start(fleets, git_repo, cfg, [task("fv", "fv")])  # no task verify: accepted on its word
    assert f.wait_done()
    integ = f.of("integration_failed", "fv")
    assert len(integ) == 1 and integ[0].attempt == 1
    assert FAIL_VERIFY_MARKER in (integ[0].data["tail"] + "") or integ[0].data["reason"]
    failed = f.of("attempt_failed", "fv")[0]
    assert failed.payload.cause == Cause.INTEGRATION_FAILED  # type: ignore[attr-defined]
    assert failed.data["counts_attempt"] is True
    assert failed.data["reason"].startswith("integration failed")
    merged = f.of("task_merged", "fv")
    assert len(merged) == 1 and merged[0].attempt == 2
    assert FAIL_VERIFY_MARKER not in main_file(git_repo, "fake/fv.txt")
    # The failing merge never reached main: its only merge commit is attempt 2's.
    log = git(git_repo, "log", "--format=%s", "main")
    assert log.count("swarm: merge fv") == 1
    prompt2 = (P.agent_dir(git_repo, "fv", 2) / P.PROMPT_FILE).read_text()
    assert "integration failed" in prompt2


def test_conflict_refused_then_resolved(git_repo: Path, fleets: list[Fleet],
                                        tmp_path: Path) -> None:
    cfg = fast_config({
        "a": scripted(tmp_path, "a", {"write": {"shared.txt": "line 1 by a\nline 2\nline 3\n"},
                                      "results": {"summary": "a rewrites line 1",
                                                  "files_modified": ["shared.txt"]}}),
        "b": scripted(tmp_path, "b", {"write": {"shared.txt": "line 1 by b\nline 2\nline 3\n"},
                                      "results": {"summary": "b rewrites line 1"}}),
        "fix": scripted(tmp_path, "fix", {"resolve": True, "results": {"summary": "kept both"}}),
    })
    f = start(fleets, git_repo, cfg, [task("a", "a"), task("b", "b")], exit_when_done=False)
    f.wait_kind("verify_passed", "a")
    f.wait_kind("verify_passed", "b")
    fc = f.wait_event(lambda e: e.kind == "forecast" and e.task == "b"
                      and e.data.get("conflicts_with") == ["a"])
    assert fc.data["target"] == "clean"
    f.command("merge", task="a")
    f.wait_kind("task_merged", "a")
    # Once a is on main, b's forecast turns to a conflict in shared.txt.
    f.wait_event(lambda e: e.kind == "forecast" and e.task == "b"
                 and e.data.get("target") == "conflict" and e.data["files"] == ["shared.txt"])
    f.command("merge", task="b")
    refused = f.wait_kind("merge_refused", "b")
    assert refused.data["conflicts"] == ["shared.txt"]
    assert main_file(git_repo, "shared.txt").startswith("line 1 by a")  # nothing lost
    assert f.state_of("b") == "passed"
    # The resolver attempt: the task's branch with main merged in, handoff naming the files.
    assert f.sup.ports is not None
    cfg = f.sup.ports.config  # the run's own config, which its parts read
    f.sup.config = f.sup.ports.config = cfg.model_copy(update={"agents": {
        **cfg.agents, "b": cfg.agents["fix"]}})
    f.command("resolve", task="b")
    # The prompt is written off the loop, between attempt_spawned and attempt_started.
    f.wait_event(lambda e: e.kind == "attempt_started" and e.task == "b" and e.attempt == 2)
    prompt = (P.agent_dir(git_repo, "b", 2) / P.PROMPT_FILE).read_text()
    assert "Merge conflicts to resolve" in prompt and "shared.txt" in prompt
    assert "a rewrites line 1" in prompt  # the other side's intent
    f.wait_event(lambda e: e.kind == "verify_passed" and e.task == "b" and e.attempt == 2)
    f.command("merge", task="b")
    f.wait_kind("task_merged", "b")
    text = main_file(git_repo, "shared.txt")
    assert "line 1 by a" in text and "line 1 by b" in text


def test_demo_conflict_tasks_resolver_commits_with_paths_and_merges(
        git_repo: Path, fleets: list[Fleet]) -> None:
    """The demo's edit-a and edit-b (the fake agent's conflict scenario, which commits with
    `git commit -- paths`): b's merge conflicts, `resolve` starts a resolver on b's branch with
    main merged in, the resolver's partial commits work, its verify passes on its first try and
    it merges; main has b's line 1, the rest intact and no marker."""
    cfg = fast_config({"conflict": fake("conflict")})
    f = start(fleets, git_repo, cfg, [
        task(tid, "conflict", verify=verify_command_for("conflict", tid))
        for tid in ("edit-a", "edit-b")], exit_when_done=False)
    f.wait_kind("verify_passed", "edit-a")
    f.wait_kind("verify_passed", "edit-b")
    f.command("merge", task="edit-a")
    f.wait_kind("task_merged", "edit-a")
    f.command("merge", task="edit-b")
    assert f.wait_kind("merge_refused", "edit-b").data["conflicts"] == ["shared.txt"]
    f.command("resolve", task="edit-b")
    f.wait_event(lambda e: e.task == "edit-b" and e.attempt == 2
                 and e.kind in ("verify_passed", "attempt_failed"))
    failed = [e.data["reason"] for e in f.of("attempt_failed", "edit-b")]
    assert not failed, failed  # e.g. "git commit failed: cannot do a partial commit ..."
    assert f.of("attempt_spawned", "edit-b")[1].data["resolving"] == ["shared.txt"]
    # The merge the resolver was handed is one commit with main as its second parent.
    merges = git(git_repo, "log", "--merges", "--format=%P", "swarm/edit-b-2").split("\n")
    assert git(git_repo, "rev-parse", "main").strip() in merges[0].split()
    f.command("merge", task="edit-b")
    merged = f.wait_kind("task_merged", "edit-b")
    assert merged.attempt == 2
    text = main_file(git_repo, "shared.txt")
    assert text.splitlines() == [conflict_line("edit-b"), "line 2", "line 3"], text
    assert f.state_of("edit-a") == "merged" and f.state_of("edit-b") == "merged"


def test_resolver_that_leaves_markers_is_not_accepted(git_repo: Path, fleets: list[Fleet],
                                                      tmp_path: Path) -> None:
    """A resolver that commits nothing (or commits the markers as they are) is handed a branch
    whose merge already has main as a parent: its attempt fails verification naming the files,
    and nothing with markers reaches main."""
    cfg = fast_config({
        "a": scripted(tmp_path, "a", {"write": {"shared.txt": "line 1 by a\nline 2\n"}}),
        "b": scripted(tmp_path, "b", {"write": {"shared.txt": "line 1 by b\nline 2\n"}}),
        "lazy": scripted(tmp_path, "lazy", {"results": {"summary": "looked at it"}}),
    }, retry={"max_attempts": 3, "continue_from_previous": True})
    f = start(fleets, git_repo, cfg, [task("a", "a"), task("b", "b")], exit_when_done=False)
    f.wait_kind("verify_passed", "a")
    f.wait_kind("verify_passed", "b")
    f.command("merge", task="a")
    f.wait_kind("task_merged", "a")
    f.command("merge", task="b")
    assert f.wait_kind("merge_refused", "b").data["conflicts"] == ["shared.txt"]
    assert f.sup.ports is not None
    cfg = f.sup.ports.config
    f.sup.config = f.sup.ports.config = cfg.model_copy(update={"agents": {
        **cfg.agents, "b": cfg.agents["lazy"]}})
    f.command("resolve", task="b")
    failed = f.wait_event(lambda e: e.kind == "attempt_failed" and e.task == "b")
    assert failed.attempt == 2 and failed.data["cause"] == "verify_failed"
    assert failed.data["reason"] == "conflict markers left in shared.txt"
    # The retry carries on from that branch: it inherits the files to check.
    again = f.wait_event(lambda e: e.kind == "attempt_failed" and e.task == "b"
                         and e.attempt == 3)
    assert again.data["reason"] == "conflict markers left in shared.txt"
    assert f.of("attempt_spawned", "b")[2].data["base"] == "swarm/b-2"
    assert "<<<<<<<" not in main_file(git_repo, "shared.txt")
    assert not f.of("task_merged", "b")


def test_branch_committing_the_run_log_fails_before_verify_and_status_works(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    """An agent that commits .swarm/state.db in its worktree: its attempt fails before the
    verify command runs, with the protected-paths cause naming the file, nothing is merged,
    the run's log is intact and `status` reads it."""
    marker = tmp_path / "verify-ran"
    cfg = fast_config({"bad": scripted(tmp_path, "bad", {
        "write": {".swarm/state.db": "not a database\n", "src/a.py": "A = 1\n"},
        "force": [".swarm/state.db"], "results": {"summary": "done"}})},
        merge={"auto": True})
    f = start(fleets, git_repo, cfg, [task("t", "bad", verify=f"touch {marker}")],
              exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "t", timeout=60, cause="protected_paths")
    assert ".swarm/state.db" in failed.data["reason"] and "protected" in failed.data["reason"]
    assert not marker.exists() and not f.of("verify_passed") and not f.of("task_merged")
    assert git(git_repo, "ls-tree", "-r", "--name-only", "swarm/t-1").split().count(
        ".swarm/state.db") == 1  # it was committed; it just never reaches main
    assert ".swarm" not in git(git_repo, "ls-tree", "-r", "--name-only", "main")
    st = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--json", "--repo",
                         str(git_repo)], capture_output=True, text=True, timeout=60)
    assert st.returncode == 0, st.stdout + st.stderr
    row = json.loads(st.stdout)["tasks"][0]
    assert row["state"] == "failed" and ".swarm/state.db" in row["reason"]
    # The operator's merge is refused too, naming the file.
    f.command("merge", task="t")
    ans = f.wait_kind("command_applied", command="merge")
    assert ans.data["status"] == "refused"


def test_operator_merge_never_overwrites_an_ignored_file(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    """The user's git-ignored local.env in the main work tree; the agent's branch adds its own
    local.env: the operator's merge is refused naming it, and the file is untouched."""
    (git_repo / ".gitignore").write_text("local.env\n")
    git(git_repo, "add", ".gitignore")
    git(git_repo, "commit", "-q", "-m", "ignore local.env")
    (git_repo / "local.env").write_text("SECRET=mine\n")
    cfg = fast_config({"s": scripted(tmp_path, "s", {
        "write": {"local.env": "SECRET=agent\n", "app.py": "x = 1\n"}, "force": ["local.env"],
        "results": {"summary": "adds app.py"}})})
    f = start(fleets, git_repo, cfg, [task("t", "s")], exit_when_done=False)
    f.wait_kind("verify_passed", "t")
    f.command("merge", task="t")
    ans = f.wait_kind("command_applied", command="merge")
    assert ans.data["status"] == "refused", ans.data
    refused = f.wait_kind("merge_refused", "t")
    assert refused.data["untracked"] == ["local.env"]
    assert "local.env" in refused.data["reason"]
    assert (git_repo / "local.env").read_text() == "SECRET=mine\n"
    assert not (git_repo / "app.py").exists() and f.state_of("t") == "passed"


def test_ledger_reaches_later_prompts_and_reverts_are_caught(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    cfg = fast_config({
        "keep": scripted(tmp_path, "keep", {
            "write": {"src/guard.py": "def guard():\n    return check_auth()\n"},
            "results": {"summary": "auth guard added", "do_not_revert": True,
                        "files_modified": ["src/guard.py"]}}),
        "undo": scripted(tmp_path, "undo", {
            "write": {"src/guard.py": "def guard():\n    return True\n"},
            "results": {"summary": "simplified guard"}}),
    }, merge={"auto": True})
    f = start(fleets, git_repo, cfg, [
        task("guard", "keep", files=("src/guard.py",)),
        task("simplify", "undo", files=("src/**",), depends_on=("guard",)),
    ], exit_when_done=False)
    f.wait_kind("task_merged", "guard")
    f.wait_kind("attempt_started", "simplify")  # its prompt.md is written by then
    prompt = (P.agent_dir(git_repo, "simplify", 1) / P.PROMPT_FILE).read_text()
    assert "do not revert" in prompt.lower() and "auth guard added" in prompt
    refused = f.wait_kind("merge_refused", "simplify")
    assert "guard" in refused.data["reason"] and refused.data["reverts"][0]["task"] == "guard"
    assert "check_auth" in main_file(git_repo, "src/guard.py")
    fc = f.wait_event(lambda e: e.kind == "forecast" and e.task == "simplify"
                      and bool(e.data.get("reverts")))
    assert fc.data["reverts"][0]["file"] == "src/guard.py"
    out = subprocess.run([sys.executable, "-m", "swarmtui", "ledger", "--repo", str(git_repo),
                          "--json"], capture_output=True, text=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["task"] for r in rows] == ["guard"] and rows[0]["do_not_revert"] is True


def test_out_of_scope_blocks_auto_merge(git_repo: Path, fleets: list[Fleet],
                                        tmp_path: Path) -> None:
    cfg = fast_config({"s": scripted(tmp_path, "s", {"write": {"src/a.py": "x\n",
                                                               "README.md": "changed\n"}})},
                      merge={"auto": True})
    f = start(fleets, git_repo, cfg, [task("t", "s", files=("src/**",))], exit_when_done=False)
    refused = f.wait_kind("merge_refused", "t")
    assert refused.data["out_of_scope"] == ["README.md"]
    # The operator may accept it by merging by hand.
    f.command("merge", task="t")
    f.wait_kind("task_merged", "t")


def test_merge_after_headless_run_without_supervisor(git_repo: Path, fleets: list[Fleet],
                                                     tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(
        '[slots]\nmin_free_memory = "0"\n[heartbeat]\ntick = "100ms"\n'
        '[run]\ndefault_agent = "s"\n'
        f'[agents.s]\ncommand = {json.dumps(scripted(tmp_path, "s", {"write": {"n.txt": "1"}}))}\n')
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "t1"\nprompt = "write n"\n')
    cmd = [sys.executable, "-m", "swarmtui"]
    common = ["--repo", str(git_repo), "--config", str(cfg_file)]
    up = subprocess.run([*cmd, "up", str(tasks), "--headless", *common], capture_output=True,
                        text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    (git_repo / "README.md").write_text("my uncommitted edit\n")
    dirty = subprocess.run([*cmd, "merge", "t1", *common], capture_output=True, text=True)
    assert dirty.returncode == 1 and "README.md" in dirty.stdout + dirty.stderr
    assert (git_repo / "README.md").read_text() == "my uncommitted edit\n"
    git(git_repo, "checkout", "README.md")
    ok = subprocess.run([*cmd, "merge", "t1", "--json", *common], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["status"] == "done"
    assert (git_repo / "n.txt").read_text() == "1"
    st = subprocess.run([*cmd, "status", "--json", *common], capture_output=True, text=True)
    assert json.loads(st.stdout)["tasks"][0]["state"] == "merged"


def test_feature_list_passes_written_back(git_repo: Path, fleets: list[Fleet],
                                          tmp_path: Path) -> None:
    from swarmtui.tasks import load_tasks

    features = tmp_path / "features.json"
    features.write_text(json.dumps([
        {"category": "api", "description": "List users", "steps": ["GET /users"],
         "passes": False},
        {"category": "api", "description": "Done already", "steps": ["x"], "passes": True},
        {"category": "ui", "description": "Show users", "steps": ["render"], "passes": False},
    ], indent=2))
    cfg = fast_config({"ok": fake("success")}, merge={"auto": True})
    specs = load_tasks(features, roles=cfg.roles, agents=set(cfg.agents),
                       default_role="worker", default_agent="ok")
    f = start(fleets, git_repo, cfg, specs)
    assert f.wait_done()
    data = json.loads(features.read_text())
    assert [d["passes"] for d in data] == [True, True, True]
    assert len(f.of("feature_passed")) == 2
