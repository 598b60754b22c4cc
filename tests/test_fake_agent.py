"""The fake agent, run as a real subprocess against a real git worktree."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from swarmtui import fake_agent
from swarmtui.fake_agent import (
    CONFLICT_FILE,
    FAIL_VERIFY_MARKER,
    INJECTION_TEXT,
    SCENARIOS,
    conflict_line,
    output_path,
    verify_command_for,
)
from swarmtui.protocol import (
    ENV_AGENT_ID,
    ENV_ATTEMPT,
    ENV_PROGRESS_FILE,
    ENV_PROMPT_FILE,
    ENV_REPO,
    ENV_RESULTS_FILE,
    ENV_TASK_ID,
    ENV_WORKTREE,
    HANDOFF_HEADING,
)
from tests.waiting import wait_until

PACE = "0.02"
PROGRESS_RE = re.compile(r"^(?P<time>\S+) - (?P<status>.+?)(?: \[outputs: (?P<outputs>\d+)\])?$")
GIT_ID = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
HANDOFF_PROMPT = f"Do the task.\n\n{HANDOFF_HEADING}\nThe verify command failed: fix the bug.\n"


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout


@dataclass
class Attempt:
    """One attempt's worktree and protocol files."""

    repo: Path
    task: str
    attempt: int
    worktree: Path
    agent_dir: Path

    @property
    def progress(self) -> Path:
        return self.agent_dir / "progress.md"

    @property
    def results(self) -> Path:
        return self.agent_dir / "results.json"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
        env.update(
            {
                ENV_AGENT_ID: f"{self.task}-{self.attempt}",
                ENV_TASK_ID: self.task,
                ENV_ATTEMPT: str(self.attempt),
                ENV_REPO: str(self.repo),
                ENV_WORKTREE: str(self.worktree),
                ENV_PROGRESS_FILE: str(self.progress),
                ENV_RESULTS_FILE: str(self.results),
                ENV_PROMPT_FILE: str(self.agent_dir / "prompt.md"),
            }
        )
        return env

    def cmd(self, scenario: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "swarmtui.fake_agent", "--scenario", scenario,
                "--pace", PACE, *extra]  # fmt: skip

    def run(
        self, scenario: str, *extra: str, prompt: str = "Do the task.\n", env: dict | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.cmd(scenario, *extra),
            cwd=self.worktree,
            env=env if env is not None else self.env(),
            input=prompt,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def lines(self) -> list[re.Match[str]]:
        if not self.progress.exists():
            return []
        out = []
        for line in self.progress.read_text().splitlines():
            m = PROGRESS_RE.match(line)
            assert m, f"bad progress line {line!r}"
            out.append(m)
        return out

    def statuses(self) -> list[str]:
        return [m["status"] for m in self.lines()]

    def load_results(self) -> dict:
        return json.loads(self.results.read_text())

    def verify(self, scenario: str) -> int:
        command = verify_command_for(scenario, self.task)
        assert command is not None
        return subprocess.run(["sh", "-c", command], cwd=self.worktree).returncode

    def new_commits(self) -> int:
        return int(git(self.worktree, "rev-list", "--count", "main..HEAD").strip())


@pytest.fixture
def make_attempt(tmp_path: Path) -> Callable[..., Attempt]:
    """Make a repo with ``shared.txt`` in its base commit; return a factory of worktrees."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / CONFLICT_FILE).write_text("line 1\nline 2\nline 3\n")
    git(repo, "add", CONFLICT_FILE)
    git(repo, *GIT_ID, "commit", "-q", "-m", "base")

    def make(task: str = "t1", attempt: int = 1, *, base: str = "main") -> Attempt:
        name = f"{task}-{attempt}"
        worktree = tmp_path / "worktrees" / name
        git(repo, "worktree", "add", "-q", "-b", f"swarm/{name}", str(worktree), base)
        agent_dir = tmp_path / "agents" / name
        agent_dir.mkdir(parents=True)
        return Attempt(repo, task, attempt, worktree, agent_dir)

    return make


def wait_for_lines(a: Attempt, n: int, proc: subprocess.Popen[str], timeout: float = 10) -> None:
    def enough() -> bool:
        assert proc.poll() is None, "the agent exited early"
        return len(a.lines()) >= n

    wait_until(enough, timeout, f"{n} progress lines", interval=0.02, seen=a.lines)


def test_success_reports_commits_and_results(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    proc = a.run("success")
    assert proc.returncode == 0, proc.stderr
    lines = a.lines()
    assert len(lines) == fake_agent.SUCCESS_STEPS
    for m in lines:
        assert datetime.fromisoformat(m["time"]).utcoffset() is not None
        assert m["outputs"] is not None
    assert [int(m["outputs"]) for m in lines][-1] == 1
    assert a.new_commits() >= 1
    assert git(a.worktree, "status", "--porcelain") == ""
    results = a.load_results()
    assert results == {
        "status": "done",
        "summary": results["summary"],
        "files_modified": [output_path("t1")],
        "do_not_revert": False,
        "outputs": 1,
    }
    assert a.verify("success") == 0
    assert not list(a.agent_dir.glob(".results-*")), "the temp file was left behind"


def test_slow_takes_more_steps_and_outputs_grow(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    assert a.run("slow", "--pace", "0.005").returncode == 0
    outputs = [int(m["outputs"]) for m in a.lines()]
    assert len(outputs) == fake_agent.SLOW_STEPS
    assert outputs == sorted(outputs) and outputs[-1] > 1
    assert a.load_results()["outputs"] == outputs[-1]
    assert a.verify("slow") == 0


def test_same_seed_same_work(make_attempt: Callable[..., Attempt]) -> None:
    first, second, other = make_attempt("t1", 1), make_attempt("t1", 2), make_attempt("t1", 3)
    for att, seed in ((first, "7"), (second, "7"), (other, "8")):
        assert att.run("success", "--seed", seed).returncode == 0
    content = [(att.worktree / output_path("t1")).read_text() for att in (first, second, other)]
    assert content[0] == content[1] != content[2]
    assert first.statuses() == second.statuses()
    assert first.load_results() == second.load_results()


def test_crash_exits_3_without_results(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    proc = a.run("crash")
    assert proc.returncode == 3
    assert len(a.lines()) == 1
    assert not a.results.exists()


def test_stall_stays_alive_and_silent_until_terminated(
    make_attempt: Callable[..., Attempt],
) -> None:
    a = make_attempt()
    proc = subprocess.Popen(
        a.cmd("stall"), cwd=a.worktree, env=a.env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_lines(a, fake_agent.STALL_LINES, proc)
        before = a.progress.read_text()
        time.sleep(0.5)  # 25 paces
        assert proc.poll() is None
        assert a.progress.read_text() == before
        assert not a.results.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_loop_gives_up_after_max_loops(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    proc = a.run("loop", "--max-loops", "5")
    assert proc.returncode == 0
    assert proc.stdout == ""  # an unproductive agent does not grow its log either
    assert [m["outputs"] for m in a.lines()] == ["0"] * 5
    assert a.load_results()["status"] == "failed"
    assert a.load_results()["summary"] == "made no progress"
    assert a.new_commits() == 0
    assert git(a.worktree, "status", "--porcelain") == ""
    assert a.verify("loop") != 0


def test_fail_verify_once_fixed_by_handoff(make_attempt: Callable[..., Attempt]) -> None:
    first = make_attempt("t1", 1)
    assert first.run("fail-verify-once").returncode == 0
    assert first.load_results()["status"] == "done"  # it believes its buggy work is fine
    assert FAIL_VERIFY_MARKER in (first.worktree / output_path("t1")).read_text()
    assert first.verify("fail-verify-once") != 0

    # A retry with fresh context, and one built on top of the buggy branch, both pass.
    for retry in (make_attempt("t1", 2), make_attempt("t1", 3, base="swarm/t1-1")):
        assert retry.run("fail-verify-once", prompt=HANDOFF_PROMPT).returncode == 0
        assert retry.verify("fail-verify-once") == 0
        assert retry.load_results()["do_not_revert"] is True
        assert "handoff" in retry.statuses()[0]


def test_handoff_read_from_prompt_file_env(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    (a.agent_dir / "prompt.md").write_text(HANDOFF_PROMPT)
    proc = subprocess.run(
        a.cmd("fail-verify-once"), cwd=a.worktree, env=a.env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert a.verify("fail-verify-once") == 0


def test_prompt_file_option_wins_over_stdin(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    prompt = a.agent_dir / "other.md"
    prompt.write_text(HANDOFF_PROMPT)
    proc = a.run("fail-verify-once", "--prompt-file", str(prompt), prompt="no handoff here\n")
    assert proc.returncode == 0
    assert a.verify("fail-verify-once") == 0


def test_conflict_tasks_edit_the_same_line(make_attempt: Callable[..., Attempt]) -> None:
    a, b = make_attempt("c1"), make_attempt("c2")
    for att in (a, b):
        assert att.run("conflict").returncode == 0
        lines = (att.worktree / CONFLICT_FILE).read_text().splitlines()
        assert lines == [conflict_line(att.task), "line 2", "line 3"]
        assert CONFLICT_FILE in att.load_results()["files_modified"]
        assert att.verify("conflict") == 0
    git(a.repo, *GIT_ID, "merge", "-q", "--no-edit", "swarm/c1-1")
    merge = subprocess.run(
        ["git", *GIT_ID, "merge", "-q", "--no-edit", "swarm/c2-1"], cwd=a.repo, capture_output=True
    )
    assert merge.returncode != 0  # the second merge conflicts on line 1


def test_inject_puts_injection_in_summary(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt()
    assert a.run("inject").returncode == 0
    results = a.load_results()
    assert results["status"] == "done"
    assert INJECTION_TEXT in results["summary"]
    assert "ignore all previous instructions" in INJECTION_TEXT.lower()
    assert a.verify("inject") == 0


@pytest.mark.parametrize("scenario", ["crash", "stall", "loop", "fail-verify-once"])
def test_until_attempt_recovers_later_attempts(
    make_attempt: Callable[..., Attempt], scenario: str
) -> None:
    a = make_attempt("t1", 2)
    proc = a.run(scenario, "--until-attempt", "1", prompt=HANDOFF_PROMPT)
    assert proc.returncode == 0, proc.stderr
    assert a.load_results()["status"] == "done"
    assert a.verify(scenario) == 0


def test_until_attempt_still_misbehaves_early(make_attempt: Callable[..., Attempt]) -> None:
    a = make_attempt("t1", 2)
    assert a.run("crash", "--until-attempt", "2").returncode == 3
    assert not a.results.exists()


@pytest.mark.parametrize("missing", [ENV_PROGRESS_FILE, ENV_RESULTS_FILE])
def test_missing_env_exits_2(make_attempt: Callable[..., Attempt], missing: str) -> None:
    a = make_attempt()
    env = a.env()
    del env[missing]
    proc = a.run("success", env=env)
    assert proc.returncode == 2
    assert missing in proc.stderr
    assert not a.progress.exists() and not a.results.exists()


def test_spawner_records_a_spawn_command_that_cannot_start(
    make_attempt: Callable[..., Attempt], tmp_path: Path
) -> None:
    a = make_attempt()
    missing = tmp_path / "no-such-swarmtui"
    proc = a.run("spawner", "--spawn-command", str(missing))
    assert proc.returncode == 0, proc.stderr
    results = a.load_results()
    assert results["status"] == "blocked"
    assert "failed to start" in results["summary"]
    assert sum("failed to start" in s for s in a.statuses()) == fake_agent.SPAWN_REQUESTS


def test_spawner_logs_accepted_and_refused(
    make_attempt: Callable[..., Attempt], tmp_path: Path
) -> None:
    # A stand-in for `swarmtui spawn`: accepts two sub-agents, then refuses on budget.
    counter, calls = tmp_path / "count", tmp_path / "calls"
    stub = tmp_path / "stub-swarmtui"
    stub.write_text(
        "#!/bin/sh\n"
        f'printf "%s|" "$@" >> {calls}; echo >> {calls}\n'
        f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}\n"
        'if [ "$n" -le 2 ]; then echo "queued"; echo "t1.sub$n"; exit 0; fi\n'
        'echo "subtree budget exhausted (2 of 2)" >&2; exit 1\n'
    )
    stub.chmod(0o755)
    a = make_attempt()
    proc = a.run("spawner", "--spawn-command", str(stub), "--child-agent", "slow")
    assert proc.returncode == 0, proc.stderr
    results = a.load_results()
    assert results["status"] == "done"
    assert "t1.sub1, t1.sub2" in results["summary"]
    assert "subtree budget exhausted (2 of 2)" in results["summary"]
    statuses = a.statuses()
    assert any("accepted as t1.sub2" in s for s in statuses)
    assert any("refused: subtree budget exhausted" in s for s in statuses)
    first_call = calls.read_text().splitlines()[0].split("|")
    assert first_call[0] == "spawn" and first_call[2:4] == ["--agent", "slow"]


def test_verify_commands() -> None:
    assert verify_command_for("spawner", "t1") is None
    for scenario in SCENARIOS:
        if scenario != "spawner":
            assert isinstance(verify_command_for(scenario, "t 1; rm -rf x"), str)
    with pytest.raises(ValueError):
        verify_command_for("nope", "t1")


def test_conflict_markers_resolve_to_the_agents_own_side() -> None:
    """A resolver's fake agent reads shared.txt with git's markers (merge and diff3 styles)
    and keeps its own side, so its verify (line 1 is its own) can pass."""
    from swarmtui.fake_agent import _resolve_markers

    merged = ["<<<<<<< HEAD", "mine", "=======", "theirs", ">>>>>>> main", "line 2"]
    diff3 = ["<<<<<<< HEAD", "mine", "||||||| base", "old", "=======", "theirs",
             ">>>>>>> main", "line 2"]
    assert _resolve_markers(merged) == _resolve_markers(diff3) == ["mine", "line 2"]
    assert _resolve_markers(["a", "b"]) == ["a", "b"]
