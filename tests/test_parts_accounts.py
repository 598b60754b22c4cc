"""Accounts on a fake clock, with every real part in process (tests/standins.py ``Engine``):
an attempt runs on the first of its agent's ``[[accounts]]`` that is free (not usage-limited,
under its cost cap), with that account's key (and no other) in its env.json; a usage limit
(the transcript recorded from the real Claude Code CLI, tests/data/claude/usage_limit.jsonl)
moves the task at once onto the next free account, resuming the same session, without
counting the failure; only when every account is limited does it wait, for the earliest
reset. A replay of the log equals the live state throughout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.accounts.choose import after_limit, held_until, limit_account, spend
from swarmtui.engine.attempts.outcomes import FAILOVER_FOLLOW_UP
from swarmtui.engine.wrapper.launch import LAUNCH_FILE
from swarmtui.errors import ConfigError
from swarmtui.model import TaskSpec, TaskState
from swarmtui.model import payloads as p
from tests.standins import Engine, FakeClock
from tests.test_parts_usage_limit import RECORD, RESET, SESSION, SIGNALS, T0

WORK_KEY = "sk-ant-oat01-work-account-token-0123456789"
HOME_KEY = "sk-ant-api03-home-account-key-0123456789"
ENV = {"WORK_CLAUDE_TOKEN": WORK_KEY, "ANTHROPIC_API_KEY": "sk-ant-api03-the-callers-own-key",
       "PATH": "/usr/bin"}


def config(tmp: Path, *, work: dict[str, Any] | None = None,
           home: dict[str, Any] | None = None) -> Config:
    key_file = tmp / "home.key"
    key_file.write_text(HOME_KEY + "\n")
    return config_from_dict({
        "slots": {"min_free_memory": "0", "reserve": 0, "max_agents": 4,
                  "pools": {"worker": 4}},
        "heartbeat": {"progress_interval": "1h"},
        "context": {"count_with_api": False},  # the caller's key below is not for counting
        "accounts": [{"name": "work", "cli": "claude", "env": "WORK_CLAUDE_TOKEN", **(work or {})},
                     {"name": "home", "cli": "claude", "file": str(key_file), **(home or {})}],
        "agents": {"claude": {"command": ["claude", "-p"], "adapter": "claude",
                              "accounts": ["work", "home"]}},
    }, "test")


def task(tid: str) -> TaskSpec:
    return TaskSpec(id=tid, title=tid, prompt="p", role="worker", agent="claude")


def engine(tmp: Path, cfg: Config, start: float = T0) -> Engine:
    return Engine(tmp, cfg, clock=FakeClock(start), agent_env=ENV)


def env_of(e: Engine, tid: str, n: int) -> dict[str, str]:
    data = json.loads((e.runner.agent_dir(tid, n) / P.ENV_FILE).read_text())
    assert isinstance(data, dict)
    return data


def accounts(e: Engine, tid: str) -> list[str | None]:
    return [ev.data["account"] for ev in e.events("attempt_spawned") if ev.task == tid]


def limit(e: Engine, account: str, until: float) -> None:
    e.loop.emit(p.UsageLimited(until=until, account=account, limit_type="five_hour",
                               source="test"))


def test_an_attempt_runs_on_the_first_account_with_its_key_alone(tmp_path: Path) -> None:
    e = engine(tmp_path, config(tmp_path))
    e.add(task("t"))
    e.tick()
    assert accounts(e, "t") == ["work"]
    assert e.state.attempts["t-1"].account == "work"
    env = env_of(e, "t", 1)
    # A subscription's token goes where Claude Code reads one; the caller's own key, the
    # variable the account reads from and every other credential variable stay out.
    assert env["CLAUDE_CODE_OAUTH_TOKEN"] == WORK_KEY
    assert "ANTHROPIC_API_KEY" not in env and "WORK_CLAUDE_TOKEN" not in env
    assert HOME_KEY not in json.dumps(env)
    # Never in the log, nor in launch.json.
    log = json.dumps([ev.data for ev in e.events()])
    assert WORK_KEY not in log and HOME_KEY not in log
    assert WORK_KEY not in (e.runner.agent_dir("t", 1) / LAUNCH_FILE).read_text()
    assert (e.runner.agent_dir("t", 1) / P.ENV_FILE).stat().st_mode & 0o077 == 0
    assert e.replays()


def test_a_limited_account_is_skipped(tmp_path: Path) -> None:
    e = engine(tmp_path, config(tmp_path))
    limit(e, "work", T0 + 600)
    e.add(task("t"))
    e.tick()
    assert accounts(e, "t") == ["home"]
    env = env_of(e, "t", 1)
    assert env["ANTHROPIC_API_KEY"] == HOME_KEY and "CLAUDE_CODE_OAUTH_TOKEN" not in env
    assert WORK_KEY not in json.dumps(env)
    assert e.replays()


def test_a_usage_limit_carries_on_at_once_on_the_next_account_in_the_same_session(
        tmp_path: Path) -> None:
    e = engine(tmp_path, config(tmp_path))
    e.add(task("t"))
    e.tick()
    e.advance(60)
    hit = e.clock.now
    e.exits("t", 1, RECORD, signals=SIGNALS)
    e.tick()
    assert [(ev.data["account"], ev.data["until"]) for ev in e.events("usage_limited")] == [
        ("work", RESET)]
    failed = e.events("attempt_failed")[-1].data
    assert (failed["cause"], failed["counts_attempt"], failed["counts_breaker"]) == (
        "usage_limited", False, False)
    assert "account work" in failed["reason"] and "at once on account home" in failed["reason"]
    requeued = e.events("task_requeued")[-1].data
    assert (requeued["not_before"], requeued["resume_session"], requeued["follow_up"]) == (
        hit, SESSION, FAILOVER_FOLLOW_UP)
    # The next tick, with the clock where it was, spawns it again on the other account.
    e.tick()
    assert accounts(e, "t") == ["work", "home"]
    again, first = (next(ev for ev in e.events("attempt_spawned") if ev.attempt == n)
                    for n in (2, 1))
    assert again.time == hit and again.data["resumes"] == SESSION
    assert again.data["worktree"] == first.data["worktree"]
    argv = json.loads((e.runner.agent_dir("t", 2) / LAUNCH_FILE).read_text())["argv"]
    assert argv[argv.index("--resume") + 1] == SESSION
    env = env_of(e, "t", 2)
    assert env["ANTHROPIC_API_KEY"] == HOME_KEY and WORK_KEY not in json.dumps(env)
    t = e.task("t")
    assert (t.state, t.failures, e.state.breaker_window) == (TaskState.RUNNING, 0, [])
    # Work is not held back: the run is not called usage-limited, nor is the task.
    assert limit_account(e.state, e.ports.config, "claude", e.clock.now) == ""
    assert held_until(e.state, e.ports.config, e.clock.now) is None
    assert not e.parts.alerts.status_line(e.clock.now).startswith("usage-limited")
    assert e.replays()


@pytest.mark.parametrize(("home_until", "resumes_on"), [(RESET - 600, "home"),
                                                        (RESET + 600, "work")])
def test_with_every_account_limited_it_waits_for_the_earliest_reset(
        tmp_path: Path, home_until: float, resumes_on: str) -> None:
    e = engine(tmp_path, config(tmp_path))
    e.add(task("t"))
    e.tick()
    limit(e, "home", home_until)
    e.advance(60)
    e.exits("t", 1, RECORD, signals=SIGNALS)
    e.tick()
    first = min(home_until, RESET)
    requeued = e.events("task_requeued")[-1].data
    assert requeued["not_before"] == first and requeued["resume_session"] == SESSION
    assert "waiting for the first reset" in e.events("attempt_failed")[-1].data["reason"]
    e.add(task("w"))  # another task of the agent waits too
    assert held_until(e.state, e.ports.config, e.clock.now) == first
    assert e.parts.alerts.status_line(e.clock.now).startswith("usage-limited until")
    e.at(first - 1)
    assert (accounts(e, "t"), accounts(e, "w")) == (["work"], [])
    e.at(first)
    assert accounts(e, "t") == ["work", resumes_on] and accounts(e, "w") == [resumes_on]
    assert e.state.tasks["t"].failures == 0
    assert e.replays()


def test_an_account_over_its_cost_cap_is_not_used_again(tmp_path: Path) -> None:
    e = engine(tmp_path, config(tmp_path, work={"max_cost_usd": 1.0},
                                home={"max_cost_usd": 2.0}))
    e.add(task("a"))
    e.tick()
    e.advance(60)
    e.exits("a", 1, {"cost_usd": 1.25, "tokens": 1000})  # crashed, and cost 1.25 on work
    e.tick()
    assert spend(e.state, "work") == 1.25
    e.add(task("b"))
    e.advance(3600)  # past any backoff
    assert accounts(e, "a") == ["work", "home"] and accounts(e, "b") == ["home"]
    for tid in ("a", "b"):
        e.exits(tid, e.task(tid).attempt, {"cost_usd": 1.0, "tokens": 1000})
    e.tick()
    assert spend(e.state, "home") == 2.0
    # Both over their caps: nothing of the agent starts, however long it waits.
    e.add(task("c"))
    e.advance(3600)
    assert accounts(e, "c") == [] and e.task("c").state == TaskState.PENDING
    assert after_limit(e.state, e.ports.config, "claude", e.clock.now).at is None
    assert e.replays()


def test_a_key_that_cannot_be_read_fails_the_start_saying_where(tmp_path: Path) -> None:
    e = Engine(tmp_path, config(tmp_path), clock=FakeClock(T0), agent_env={})
    e.add(task("t"))
    e.tick()
    failed = e.events("attempt_failed")[0].data
    assert failed["cause"] == "could_not_start"
    assert "$WORK_CLAUDE_TOKEN is not set" in failed["reason"] and "'work'" in failed["reason"]


@pytest.mark.parametrize(("accounts_", "agent", "says"), [
    ([{"name": "a", "cli": "claude", "env": "sk-ant-api03-oops"}], {},
     "key `accounts[0].env`: expected the NAME of an environment variable"),
    ([{"name": "a", "cli": "claude"}], {}, "needs exactly one of `env`"),
    ([{"name": "a", "cli": "codex", "env": "K"}], {"accounts": ["a"]},
     "key `agents.claude.accounts[0]`: account 'a' is for codex"),
    ([], {"accounts": ["nope"]}, "expected the name of an [[accounts]] entry"),
    ([{"name": "a", "cli": "claude", "env": "K"}], {"accounts": ["a"], "account": "x"},
     "not both"),
])
def test_bad_accounts_are_refused_naming_the_file_and_key(
        accounts_: list[dict[str, Any]], agent: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({"accounts": accounts_, "agents": {"claude": {
            "command": ["claude"], "adapter": "claude", **agent}}}, "my.toml")
    assert str(err.value).startswith("my.toml: ") and says in str(err.value)
    assert "sk-ant-api03-oops" not in str(err.value)  # a key written by mistake is not echoed


def test_status_and_the_report_show_each_account(tmp_path: Path) -> None:
    from swarmtui.cli.inspect import accounts_obj
    from swarmtui.render import accounts_line
    from swarmtui.report import build_report
    from swarmtui.report.render import report_json

    cfg = config(tmp_path, home={"max_cost_usd": 5.0})
    e = engine(tmp_path, cfg)
    e.add(task("t"))
    e.tick()
    e.advance(60)
    e.exits("t", 1, {**RECORD, "cost_usd": 0.75}, signals=SIGNALS)
    e.tick()
    e.tick()  # on home now
    shown = {a["name"]: a for a in accounts_obj(cfg, e.state, e.clock.now)}
    assert shown["work"] == {"name": "work", "cli": "claude", "in_use": 0,
                             "limited_until": RESET, "spend_usd": 0.75, "max_cost_usd": None,
                             "capped": False}
    assert shown["home"] == {"name": "home", "cli": "claude", "in_use": 1,
                             "limited_until": None, "spend_usd": 0.0, "max_cost_usd": 5.0,
                             "capped": False}
    line = accounts_line(list(shown.values()))
    assert line.startswith("accounts: work (claude) limited until ") and "$0.75" in line
    assert "home (claude) 1 running $0.00 of $5.00" in line
    assert "WORK_CLAUDE_TOKEN" not in json.dumps(shown) and "home.key" not in json.dumps(shown)
    e.exits("t", 2, {"cost_usd": 0.5, "tokens": 10})
    e.tick()
    r = report_json(build_report(e.events(), cfg))
    assert {k: (v["cost_usd"], v["attempts"]) for k, v in r["by_account"].items()} == {
        "home": (0.5, 1), "work": (0.75, 1)}
    assert r["by_cli"]["claude"]["cost_usd"] == 1.25
    assert [a["account"] for a in r["attempts"]] == ["work", "home"]


@pytest.mark.parametrize(("cli", "argv", "key", "variable", "gets", "drops"), [
    ("claude", ["claude", "-p"], "sk-ant-api03-k", "", ["ANTHROPIC_API_KEY"],
     ["CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN"]),
    ("claude", ["claude", "-p"], "sk-ant-oat01-k", "", ["CLAUDE_CODE_OAUTH_TOKEN"],
     ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]),
    ("codex", ["codex", "exec", "--json", "-"], "sk-proj-k", "",
     ["CODEX_API_KEY", "OPENAI_API_KEY"], []),
    ("gemini", ["gemini"], "AIza-k", "", ["GEMINI_API_KEY"], ["GOOGLE_API_KEY"]),
    ("opencode", ["opencode", "run", "-m", "openai/gpt-5"], "sk-k", "", ["OPENAI_API_KEY"], []),
    ("opencode", ["opencode", "run", "--model=stub/m"], "k", "", ["STUB_API_KEY"], []),
    ("opencode", ["opencode", "run", "-m", "stub/m"], "k", "MY_KEY", ["MY_KEY"], []),
])
def test_each_cli_gets_the_key_where_it_reads_it(
        cli: str, argv: list[str], key: str, variable: str, gets: list[str],
        drops: list[str]) -> None:
    from swarmtui.config import AccountConfig
    from swarmtui.engine.accounts.credential import with_account

    acct = AccountConfig(name="a", cli=cli, env="A_SRC", variable=variable)  # type: ignore[arg-type]
    other = AccountConfig(name="b", cli=cli, file="/b.key")  # type: ignore[arg-type]
    env = {"A_SRC": key, "PATH": "/bin", **dict.fromkeys(
        ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN",
         "GOOGLE_API_KEY"], "old")}
    out = with_account(env, acct, key, [acct, other], argv)
    assert {v: out[v] for v in gets} == dict.fromkeys(gets, key)
    assert not set(drops) & set(out) and "A_SRC" not in out and out["PATH"] == "/bin"
