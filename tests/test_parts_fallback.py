"""Fallback lists across CLIs on a fake clock, with every real part in process
(tests/standins.py ``Engine``): a task's own ``accounts``, else its role's, else its agent's
name accounts or CLIs in order; an account of another CLI runs that CLI's agent config. A usage
limit (the transcript recorded from the real Claude Code CLI) on a Claude account moves the task
at once onto a Codex account: a fresh Codex session in the same worktree, with a handoff that
carries the task and a digest of the Claude conversation (from its output.log, a recorded real
transcript), the Codex key alone in its environment; nothing counted twice, the report split
by account and CLI. Bad lists are refused naming the key. A replay equals the live state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.accounts.fallback import task_problems
from swarmtui.engine.attempts.digest import bounded, entries
from swarmtui.engine.wrapper.launch import LAUNCH_FILE
from swarmtui.errors import ConfigError
from swarmtui.model import TaskSpec, TaskState
from tests.standins import Engine, FakeClock
from tests.test_parts_usage_limit import RECORD, SIGNALS, T0

DATA = Path(__file__).parent / "data"
WORK_KEY = "sk-ant-oat01-work-account-token-0123456789"
OA_KEY = "sk-proj-openai-account-key-0123456789"
GEM_KEY = "AIza-gemini-account-key-0123456789"
ENV = {"WORK_CLAUDE_TOKEN": WORK_KEY, "OA_KEY": OA_KEY, "GEM_KEY": GEM_KEY, "PATH": "/usr/bin"}


def config(*, claude_accounts: list[str] | None = None, roles: dict[str, Any] | None = None,
           **more: Any) -> Config:
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "max_agents": 4,
                  "pools": {"worker": 4, "reviewer": 1}},
        "heartbeat": {"progress_interval": "1h"},
        "context": {"count_with_api": False},
        "accounts": [{"name": "work", "cli": "claude", "env": "WORK_CLAUDE_TOKEN"},
                     {"name": "oa", "cli": "codex", "env": "OA_KEY"},
                     {"name": "gem", "cli": "gemini", "env": "GEM_KEY"}],
        "agents": {"claude": {"command": ["claude", "-p"], "adapter": "claude",
                              "accounts": claude_accounts or []},
                   "codex": {"command": ["codex", "exec", "--json", "-"], "adapter": "codex"},
                   "gemini": {"command": ["gemini", "--output-format", "stream-json"],
                              "adapter": "gemini"}},
        "roles": roles or {},
        **more,
    }, "test")


def task(tid: str, role: str = "worker", accounts: tuple[str, ...] = ()) -> TaskSpec:
    return TaskSpec(id=tid, title=tid, prompt="Add hello.txt", role=role, agent="claude",
                    accounts=accounts)


def engine(tmp: Path, cfg: Config) -> Engine:
    return Engine(tmp, cfg, clock=FakeClock(T0), agent_env=ENV)


def spawned(e: Engine, tid: str) -> list[tuple[str, str | None]]:
    return [(ev.data["agent"], ev.data["account"]) for ev in e.events("attempt_spawned")
            if ev.task == tid]


def test_a_usage_limit_on_claude_carries_on_at_once_on_codex_with_a_digest(
        tmp_path: Path) -> None:
    e = engine(tmp_path, config(claude_accounts=["work", "codex"]))
    e.add(task("t"))
    e.tick()
    assert spawned(e, "t") == [("claude", "work")]
    # What the Claude session printed before its limit: a recorded real transcript.
    shutil.copy(DATA / "claude" / "success.jsonl", e.runner.agent_dir("t", 1) / P.OUTPUT_LOG)
    e.advance(60)
    hit = e.clock.now
    e.exits("t", 1, {**RECORD, "cost_usd": 0.5}, signals=SIGNALS)
    e.tick()
    failed = e.events("attempt_failed")[-1].data
    assert (failed["cause"], failed["counts_attempt"]) == ("usage_limited", False)
    assert "at once on account oa (codex: a fresh session in the same worktree" in (
        failed["reason"])
    e.tick()
    assert spawned(e, "t") == [("claude", "work"), ("codex", "oa")]
    first, again = (next(ev for ev in e.events("attempt_spawned") if ev.attempt == n)
                    for n in (1, 2))
    assert again.time == hit and again.data["resumes"] is None  # another CLI: fresh
    assert again.data["worktree"] == first.data["worktree"]  # the work so far stays
    adir = e.runner.agent_dir("t", 2)
    argv = json.loads((adir / LAUNCH_FILE).read_text())["argv"]
    assert argv[:2] == ["codex", "exec"] and "resume" not in argv
    env = json.loads((adir / P.ENV_FILE).read_text())
    assert env["CODEX_API_KEY"] == OA_KEY and WORK_KEY not in json.dumps(env)
    prompt = (adir / P.PROMPT_FILE).read_text()
    assert "# Task t: t" in prompt and "Add hello.txt" in prompt  # the task itself
    assert P.HANDOFF_HEADING in prompt and "It ran on claude (account work)" in prompt
    assert "same worktree" in prompt and "### Its conversation (digest, newest last)" in prompt
    assert "said: Starting: recording progress." in prompt
    assert "used Bash: git add -A && git commit -q -m 'Add hello.txt'" in prompt
    assert "said: Done: hello.txt committed, results.json written." in prompt
    t = e.task("t")
    assert (t.state, t.failures) == (TaskState.RUNNING, 0)
    assert (t.ran_on, t.account) == ("codex", "oa")  # what the TUI's task view shows
    # Cost: each attempt once, on its own account and CLI.
    e.exits("t", 2, {"cost_usd": 0.25, "tokens": 10})
    e.tick()
    from swarmtui.report import build_report
    from swarmtui.report.render import report_json

    r = report_json(build_report(e.events(), e.ports.config))
    assert {k: v["cost_usd"] for k, v in r["by_account"].items()} == {"work": 0.5, "oa": 0.25}
    assert {k: v["cost_usd"] for k, v in r["by_cli"].items()} == {"claude": 0.5, "codex": 0.25}
    assert [(a["agent"], a["cli"], a["account"]) for a in r["attempts"]] == [
        ("claude", "claude", "work"), ("codex", "codex", "oa")]
    assert e.replays()


def test_a_tasks_list_comes_before_its_roles_which_comes_before_its_agents(
        tmp_path: Path) -> None:
    e = engine(tmp_path, config(claude_accounts=["work"], roles={"reviewer": {
        "accounts": ["gemini", "oa"]}}))
    e.add(task("agent"), task("role", role="reviewer"), task("own", role="worker",
                                                              accounts=("oa", "work")))
    e.tick()
    assert [spawned(e, x) for x in ("agent", "role", "own")] == [
        [("claude", "work")], [("gemini", "gem")], [("codex", "oa")]]
    env = json.loads((e.runner.agent_dir("role", 1) / P.ENV_FILE).read_text())
    assert env["GEMINI_API_KEY"] == GEM_KEY
    assert GEM_KEY not in json.dumps(json.loads(
        (e.runner.agent_dir("own", 1) / P.ENV_FILE).read_text()))
    assert e.replays()


def test_an_account_names_the_agent_config_it_runs(tmp_path: Path) -> None:
    cfg = config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "pools": {"worker": 2}},
        "accounts": [{"name": "oa", "cli": "codex", "env": "OA_KEY", "agent": "codex-high"}],
        "agents": {"claude": {"command": ["claude", "-p"], "adapter": "claude"},
                   "codex": {"command": ["codex", "exec", "--json"], "adapter": "codex"},
                   "codex-high": {"command": ["codex", "exec", "--json", "-m", "gpt-5.5"],
                                  "adapter": "codex"}},
        "roles": {"worker": {"accounts": ["oa"]}},
    }, "test")
    e = engine(tmp_path, cfg)
    e.add(task("t"))
    e.tick()
    assert spawned(e, "t") == [("codex-high", "oa")]


BASE: dict[str, Any] = {
    "accounts": [{"name": "work", "cli": "claude", "env": "W"},
                 {"name": "oa", "cli": "codex", "env": "O"}],
    "agents": {"claude": {"command": ["claude"], "adapter": "claude"}},
}


@pytest.mark.parametrize(("more", "says"), [
    ({"roles": {"nope": {"accounts": ["work"]}}},
     "key `roles.nope`: expected a role from [slots.pools]"),
    ({"roles": {"worker": {"accounts": ["ghost"]}}},
     "key `roles.worker.accounts[0]`: expected the name of an [[accounts]] entry (work, oa) "
     "or of a CLI that has one, got 'ghost'"),
    ({"roles": {"worker": {"accounts": ["oa"]}}},
     "key `roles.worker.accounts[0]`: account 'oa' is for codex, and no agent config runs it"),
    ({"roles": {"worker": {"accounts": ["codex"]}}, "agents": {
        "claude": {"command": ["claude"], "adapter": "claude"},
        "c1": {"command": ["codex"], "adapter": "codex"},
        "c2": {"command": ["codex"], "adapter": "codex"}}},
     "several agent configs run it (c1, c2): set `agent` on the account"),
    ({"accounts": [{"name": "oa", "cli": "codex", "env": "O", "agent": "claude"}]},
     "key `accounts[0].agent`: expected the name of an agent config whose adapter is 'codex'"),
    ({"roles": {"worker": {"accounts": "work"}}}, "roles.worker.accounts"),
])
def test_bad_fallback_lists_are_refused_naming_the_key(more: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({**BASE, **more}, "my.toml")
    assert str(err.value).startswith("my.toml: ") and says in str(err.value), str(err.value)


def test_a_tasks_own_list_is_checked_against_the_config() -> None:
    from swarmtui.engine.accounts.fallback import agents_run

    cfg = config()
    ok = TaskSpec(id="a", title="a", prompt="p", role="worker", agent="claude",
                  accounts=("gemini", "oa"))
    bad = TaskSpec(id="b", title="b", prompt="p", role="worker", agent="claude",
                   accounts=("oa", "nope"))
    assert task_problems(cfg, [ok, bad]) == [
        "task 'b': key `accounts[1]`: expected the name of an [[accounts]] entry (work, oa, "
        "gem) or of a CLI that has one, got 'nope'"]
    # validate and up check the commands of every CLI a task may move to.
    assert agents_run(cfg, [ok]) == {"claude", "gemini", "codex"}


def test_a_task_file_takes_accounts(tmp_path: Path) -> None:
    from swarmtui.errors import TaskFileError
    from swarmtui.tasks import load_tasks

    f = tmp_path / "tasks.toml"
    f.write_text('[[task]]\nid = "a"\nprompt = "p"\naccounts = ["work", "codex"]\n')
    (t,) = load_tasks(f, roles={"worker"}, agents={"claude"}, default_role="worker",
                      default_agent="claude")
    assert t.accounts == ("work", "codex")
    assert TaskSpec.from_dict(t.to_dict()) == t
    f.write_text('[[task]]\nid = "a"\nprompt = "p"\naccounts = "work"\n')
    with pytest.raises(TaskFileError, match=r"key \"accounts\": expected a list of strings"):
        load_tasks(f, roles={"worker"}, agents={"claude"}, default_role="worker",
                   default_agent="claude")


@pytest.mark.parametrize(("cli", "name", "has"), [
    ("codex", "success.jsonl", ["ran: /bin/bash -lc \"printf 'hello\\\\n' > hello.txt && git "
                                "add hello.txt && git commit -q -m 'Add hello'\" (exit 0)",
                                "said: Done."]),
    ("gemini", "success.jsonl", ["used run_shell_command: git add hello.txt && git commit -q "
                                 "-m 'Add hello'", "used write_file: /tmp/rec-gemini-tei8486x/"
                                 "repo/hello.txt", "said: Done."]),
    ("opencode", "success.jsonl", ["used bash: echo 'started [outputs: 0]' >> /tmp/rec-"
                                   "opencode-_h03qzuw/repo/.progress.md", "said: Done."]),
    ("claude", "success.jsonl", ["said: Starting: recording progress.",
                                 "said: Done: hello.txt committed, results.json written."]),
])
def test_the_digest_reads_each_clis_recorded_output(cli: str, name: str, has: list[str]) -> None:
    got = entries((DATA / cli / name).read_text().splitlines())
    for line in has:
        assert line in got, got
    assert got[-1] == has[-1]  # the newest last


def test_the_digest_is_bounded_and_keeps_the_newest() -> None:
    lines = [json.dumps({"type": "item.completed", "item": {
        "type": "agent_message", "text": f"message {i} " + "x" * 2000}}) for i in range(100)]
    got = bounded(entries(lines))
    assert 0 < len(got) <= 30 and sum(map(len, got)) <= 5000
    assert got[-1].startswith("said: message 99 ") and all(len(x) <= 600 for x in got)
    plain = entries(["Applied edit to hello.txt", "", "Commit abc1234 Add hello"])
    assert plain == ["printed: Applied edit to hello.txt", "printed: Commit abc1234 Add hello"]


@pytest.mark.parametrize(("name", "code", "writes"), [
    ("success", 0, True), ("quota_429", 0, False), ("auth_401", 0, False),
    ("plan_ask", 0, False), ("success", 1, False)])
def test_aiders_results_are_written_for_it_only_after_a_clean_exit_with_commits(
        tmp_path: Path, name: str, code: int, writes: bool) -> None:
    """From Aider's recorded output (tests/data/aider): a clean run that committed gets
    results.json written by the adapter, labelled; an API error, an ask-only run (no commit)
    or a failing exit gets none; an existing file is never replaced."""
    from swarmtui.engine.adapters.aider import AiderAdapter

    out = tmp_path / P.RESULTS_FILE
    a = AiderAdapter()
    a.configure({"results_file": str(out)})
    for line in (DATA / "aider" / f"{name}.txt").read_text().splitlines():
        a.observe(line)
    a.exited(code)
    assert out.exists() == writes
    if writes:
        got = json.loads(out.read_text())
        assert got["status"] == "done" and got["files_modified"] == ["hello.txt"]
        assert got["summary"].startswith("Not the agent's own word")
        assert got["reported_by"].startswith("swarmtui's aider adapter")
        out.write_text('{"status": "failed", "summary": "its own"}')
        a.exited(code)
        assert json.loads(out.read_text())["summary"] == "its own"
    assert [x.name for x in tmp_path.iterdir() if x.name != P.RESULTS_FILE] == []


def test_the_digest_is_screened_like_all_agent_text(tmp_path: Path) -> None:
    """An instruction the old session printed reaches the new CLI's prompt only as screened
    text, never as it was written."""
    from swarmtui.fake_agent import INJECTION_TEXT

    e = engine(tmp_path, config(claude_accounts=["work", "oa"]))
    e.add(task("t"))
    e.tick()
    said = {"type": "assistant", "parent_tool_use_id": None, "message": {
        "content": [{"type": "text", "text": INJECTION_TEXT}]}}
    (e.runner.agent_dir("t", 1) / P.OUTPUT_LOG).write_text(json.dumps(said) + "\n")
    e.advance(60)
    e.exits("t", 1, RECORD, signals=SIGNALS)
    e.tick()
    e.tick()
    assert spawned(e, "t") == [("claude", "work"), ("codex", "oa")]
    prompt = (e.runner.agent_dir("t", 2) / P.PROMPT_FILE).read_text()
    assert "### Its conversation (digest, newest last)" in prompt
    assert "IGNORE ALL PREVIOUS INSTRUCTIONS" not in prompt, prompt
