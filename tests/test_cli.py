"""The CLI contract: commands, exit codes, messages and the --json shapes."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from swarmtui import cli
from swarmtui import protocol as P
from swarmtui.cli.parser import build_parser
from swarmtui.model import Health, TaskSpec, TaskState
from swarmtui.runlock import RunLock
from swarmtui.store import Store
from tests.waiting import wait_until

PUBLIC_COMMANDS = ("up", "demo", "status", "events", "add", "spawn", "kill", "retry", "cancel",
                   "verify", "merge", "pause", "resume", "attach", "watch", "down", "gc", "doctor",
                   "resolve", "ack", "ledger", "validate", "send", "review", "approve", "reject")
INTERNAL_COMMANDS = ("supervise", "wrap")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, no inherited protocol environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    for var in ("SWARMTUI_CONFIG", P.ENV_REPO, P.ENV_TASK_ID, P.ENV_AGENT_ID):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Call ``cli.main`` in-process and capture what it printed."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "not-a-repo"
    d.mkdir()
    return d


def _all_commands() -> list[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    raise AssertionError("no subcommands")


# -- parsing and help ----------------------------------------------------------------------------


def test_top_level_help(run_cli: Callable[..., Result]) -> None:
    res = run_cli("--help")
    assert res.code == 0
    for name in PUBLIC_COMMANDS:
        assert name in res.out
    assert "Exit codes" in res.out
    listing = res.out.split("COMMAND", 1)[1]
    assert "supervise" not in listing  # internal commands stay out of the list


def test_every_command_has_help(run_cli: Callable[..., Result]) -> None:
    names = _all_commands()
    assert set(PUBLIC_COMMANDS) | set(INTERNAL_COMMANDS) <= set(names)
    for name in names:
        res = run_cli(name, "--help")
        assert res.code == 0, name
        assert "usage:" in res.out, name


@pytest.mark.parametrize("argv", [["no-such-command"], [], ["validate"], ["kill"], ["retry"],
                                  ["add"], ["status", "--bogus"]])
def test_bad_usage_exits_2(run_cli: Callable[..., Result], argv: list[str]) -> None:
    res = run_cli(*argv)
    assert res.code == 2
    assert "usage:" in res.err


# -- no run / no repository ----------------------------------------------------------------------

NO_RUN_COMMANDS = [["status"], ["status", "--json"], ["events"], ["kill", "X"], ["down"],
                   ["merge", "X"], ["gc"], ["ledger"], ["watch"], ["resolve", "X"]]


@pytest.mark.parametrize("argv", NO_RUN_COMMANDS)
def test_no_run_exits_3(run_cli: Callable[..., Result], git_repo: Path,
                        argv: list[str]) -> None:
    res = run_cli(*argv, "--repo", str(git_repo))
    assert res.code == 3, res.err
    assert "no run" in res.err
    assert not (git_repo / P.SWARM_DIR / P.STATE_DB).exists()  # asking created nothing


def test_no_run_with_an_empty_store_exits_3(run_cli: Callable[..., Result],
                                            git_repo: Path) -> None:
    Store(git_repo / P.SWARM_DIR / P.STATE_DB).close()
    for argv in (["status"], ["kill", "X"], ["down"]):
        res = run_cli(*argv, "--repo", str(git_repo))
        assert res.code == 3, (argv, res.err)


@pytest.mark.parametrize("argv", [*NO_RUN_COMMANDS, ["validate", "tasks.toml"]])
def test_outside_a_repository_exits_2(run_cli: Callable[..., Result], outside: Path,
                                      monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    res = run_cli(*argv, "--repo", str(outside))
    assert res.code == 2
    assert str(outside) in res.err
    monkeypatch.chdir(outside)
    res = run_cli(*argv)
    assert res.code == 2
    assert str(outside) in res.err


# -- validate ------------------------------------------------------------------------------------

GOOD_TASKS = """
[[task]]
id = "a"
prompt = "Write module a"

[[task]]
id = "b"
prompt = "Write module b"
depends_on = ["a"]
role = "orchestrator"
"""


@pytest.fixture
def claude_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``claude`` executable first on PATH (validate checks agent commands)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
    return exe


def test_validate_good_file(run_cli: Callable[..., Result], git_repo: Path,
                            tmp_path: Path, claude_on_path: Path) -> None:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(GOOD_TASKS)
    res = run_cli("validate", str(tasks), "--repo", str(git_repo))
    assert res.code == 0, res.err
    assert "2 tasks OK" in res.out
    res = run_cli("validate", str(tasks), "--repo", str(git_repo), "--json")
    assert res.code == 0
    assert json.loads(res.out)["tasks"] == ["a", "b"]


BAD_TASK_FILES: dict[str, tuple[str, list[str]]] = {
    "toml-syntax": ('[[task]]\nid = "a"\nprompt = "unterminated\n', ["line 3"]),
    "unknown-role": ('[[task]]\nid = "a"\nprompt = "x"\nrole = "wizard"\n',
                     ['"a"', "role", "wizard"]),
    "unknown-agent": ('[[task]]\nid = "a"\nprompt = "x"\nagent = "nosuch"\n',
                      ['"a"', "agent", "nosuch"]),
    "cycle": ('[[task]]\nid = "a"\nprompt = "x"\ndepends_on = ["b"]\n'
              '[[task]]\nid = "b"\nprompt = "y"\ndepends_on = ["a"]\n',
              ["cycle", "a -> b -> a"]),
    "duplicate-id": ('[[task]]\nid = "a"\nprompt = "x"\n[[task]]\nid = "a"\nprompt = "y"\n',
                     ["duplicate", '"a"', "id"]),
}


@pytest.mark.parametrize("case", sorted(BAD_TASK_FILES))
def test_validate_bad_file(run_cli: Callable[..., Result], git_repo: Path, tmp_path: Path,
                           case: str) -> None:
    text, needles = BAD_TASK_FILES[case]
    tasks = tmp_path / f"{case}.toml"
    tasks.write_text(text)
    res = run_cli("validate", str(tasks), "--repo", str(git_repo))
    assert res.code == 2
    assert str(tasks) in res.err
    for needle in needles:
        assert needle in res.err, (needle, res.err)
    assert res.out == ""


def test_validate_reports_an_agent_command_not_on_path(
        run_cli: Callable[..., Result], git_repo: Path, tmp_path: Path) -> None:
    """A task whose agent's command cannot be found fails validation, naming agent and fix."""
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "a"\nprompt = "x"\nagent = "ghost"\n')
    config = tmp_path / "config.toml"
    config.write_text('[agents.ghost]\ncommand = ["swarmtui-test-no-such-agent-binary"]\n')
    res = run_cli("validate", str(tasks), "--repo", str(git_repo), "--config", str(config))
    assert res.code == 2
    assert str(tasks) in res.err
    for needle in ("agent ghost", "swarmtui-test-no-such-agent-binary", "not found on PATH",
                   "[agents.ghost]"):
        assert needle in res.err, (needle, res.err)
    assert res.out == ""


def test_validate_missing_task_file(run_cli: Callable[..., Result], git_repo: Path,
                                    tmp_path: Path) -> None:
    res = run_cli("validate", str(tmp_path / "absent.toml"), "--repo", str(git_repo))
    assert res.code == 2
    assert "absent.toml" in res.err


def test_validate_bad_config(run_cli: Callable[..., Result], git_repo: Path,
                             tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(GOOD_TASKS)
    config = tmp_path / "bad-config.toml"
    config.write_text("[slots]\nmax_agent = 3\n")
    res = run_cli("validate", str(tasks), "--repo", str(git_repo), "--config", str(config))
    assert res.code == 2
    assert str(config) in res.err
    assert "slots.max_agent" in res.err


def test_validate_missing_config(run_cli: Callable[..., Result], git_repo: Path,
                                 tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(GOOD_TASKS)
    res = run_cli("validate", str(tasks), "--repo", str(git_repo), "--config",
                  str(tmp_path / "nope.toml"))
    assert res.code == 2
    assert "nope.toml" in res.err


# -- doctor --------------------------------------------------------------------------------------


def test_doctor_json(run_cli: Callable[..., Result], git_repo: Path, tmux_socket: str) -> None:
    res = run_cli("doctor", "--json", "--repo", str(git_repo))
    obj = json.loads(res.out)
    checks = {c["what"]: c for c in obj["checks"]}
    assert res.code == 0, obj
    assert obj["ok"] is True
    for what in ("python", "tmux", "git", "repository", "config", "store"):
        assert checks[what]["level"] == "ok", checks[what]
    assert checks["repository"]["detail"] == str(git_repo)
    assert checks["agent claude"]["level"] in ("ok", "warn")
    assert all(c["level"] in ("ok", "warn", "fail") for c in obj["checks"])
    assert tmux_socket in checks["tmux server"]["detail"]


def test_doctor_outside_a_repository_fails(run_cli: Callable[..., Result], outside: Path,
                                           tmux_socket: str) -> None:
    res = run_cli("doctor", "--json", "--repo", str(outside))
    obj = json.loads(res.out)
    assert res.code == 1
    assert obj["ok"] is False
    repo_check = next(c for c in obj["checks"] if c["what"] == "repository")
    assert repo_check["level"] == "fail"
    assert str(outside) in repo_check["detail"]


def test_doctor_checks_each_account_key_without_showing_it(
        run_cli: Callable[..., Result], git_repo: Path, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "open.key"
    key.write_text("sk-ant-api03-file-key-0123456789\n")
    key.chmod(0o644)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[accounts]]\nname = "work"\ncli = "claude"\nenv = "DOCTOR_WORK_KEY"\n\n'
        f'[[accounts]]\nname = "open"\ncli = "claude"\nfile = "{key}"\n\n'
        '[[accounts]]\nname = "unset"\ncli = "claude"\nenv = "DOCTOR_UNSET_KEY"\n\n'
        '[agents.claude]\ncommand = ["claude", "-p"]\nadapter = "claude"\n'
        'accounts = ["work", "open", "unset"]\n')
    monkeypatch.setenv("DOCTOR_WORK_KEY", "sk-ant-api03-env-key-0123456789")
    monkeypatch.delenv("DOCTOR_UNSET_KEY", raising=False)
    res = run_cli("doctor", "--json", "--repo", str(git_repo), "--config", str(cfg))
    checks = {c["what"]: c for c in json.loads(res.out)["checks"]}
    assert checks["account work"] == {"level": "ok", "what": "account work",
                                      "detail": "claude: a key in $DOCTOR_WORK_KEY"}
    assert checks["account open"]["level"] == "warn" and "chmod 600" in checks[
        "account open"]["detail"]
    assert checks["account unset"]["level"] == "fail" and "$DOCTOR_UNSET_KEY is not set" in (
        checks["account unset"]["detail"])
    assert "0123456789" not in res.out and res.code == 1


# -- status and events on a store populated directly ---------------------------------------------


def _spec(tid: str, role: str = "worker") -> TaskSpec:
    return TaskSpec(id=tid, title=f"task {tid}", prompt=f"do {tid}", role=role, agent="claude")


@pytest.fixture
def populated(git_repo: Path) -> Iterator[Store]:
    """A run with t1 running (attempt 1, one progress line) and t2 pending."""
    store = Store(git_repo / P.SWARM_DIR / P.STATE_DB)
    store.append_event("run_started", data={"run": 1, "repo": str(git_repo), "base": "abc",
                                            "target": "main"}, run=1)
    store.append_event("task_added", "t1", data={"spec": _spec("t1").to_dict()}, run=1)
    store.append_event("task_added", "t2", data={"spec": _spec("t2", "orchestrator").to_dict()},
                       run=1)
    store.append_event("attempt_spawned", "t1", 1,
                       {"window": "t1-1", "worktree": str(P.worktree_dir(git_repo, "t1", 1)),
                        "branch": P.branch_name("t1", 1), "agent": "claude"}, run=1)
    store.append_event("progress", "t1", 1, {"status": "editing files", "n": 1, "outputs": 2},
                       run=1)
    yield store
    store.close()


def _status(run_cli: Callable[..., Result], repo: Path, *extra: str) -> dict[str, Any]:
    res = run_cli("status", "--json", "--repo", str(repo), *extra)
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_status_json_shape(run_cli: Callable[..., Result], git_repo: Path,
                           populated: Store) -> None:
    obj = _status(run_cli, git_repo)
    assert obj["run"]["id"] == 1
    assert obj["run"]["state"] == "orphaned"  # unfinished and no supervisor holds the lock
    assert obj["run"]["supervisor"] is False
    assert obj["run"]["target"] == "main"
    assert obj["run"]["queued"] == 1
    assert obj["slots"]["used"] == 1
    assert obj["slots"]["max"] == 4
    assert obj["slots"]["pools"]["worker"] == {"max": 4, "used": 1}
    rows = {r["id"]: r for r in obj["tasks"]}
    assert list(rows) == ["t1", "t2"]
    t1, t2 = rows["t1"], rows["t2"]
    assert (t1["state"], t1["attempt"], t1["role"], t1["health"]) == ("running", 1, "worker", "ok")
    assert t1["window"] == "t1-1"
    assert t1["last_progress"] == "editing files"
    assert t1["outputs"] == 2
    assert (t2["state"], t2["attempt"], t2["role"]) == ("pending", 0, "orchestrator")
    states = {str(s) for s in TaskState}
    healths = {str(h) for h in Health}
    for row in obj["tasks"]:
        assert row["state"] in states
        assert row["health"] in healths


def test_status_json_has_forecast_and_target_tip(run_cli: Callable[..., Result],
                                                 git_repo: Path, populated: Store) -> None:
    """`tasks[].forecast` (the documented contract for scripts) comes from the forecast the
    run recorded, computed here by the real forecaster on a branch that conflicts; `run`
    names the target's tip, and a forecast made on an older tip says it is stale."""
    from swarmtui.engine.integrate.forecast import Candidate, Forecaster
    from swarmtui.engine.runtime.git import Git
    from tests.conftest import git

    git(git_repo, "switch", "-q", "-c", P.branch_name("t1", 1))
    (git_repo / "shared.txt").write_text("line 1\nmine\nline 3\n")
    (git_repo / "extra.py").write_text("x = 1\n")
    git(git_repo, "commit", "-qam", "t1 work")
    git(git_repo, "add", "extra.py")
    git(git_repo, "commit", "-qm", "extra")
    head = git(git_repo, "rev-parse", "HEAD").strip()
    git(git_repo, "switch", "-q", "main")
    (git_repo / "shared.txt").write_text("line 1\ntheirs\nline 3\n")
    git(git_repo, "commit", "-qam", "main moves")
    tip = git(git_repo, "rev-parse", "main").strip()
    fc = Forecaster(Git(git_repo)).forecast(
        "main", [Candidate("t1", P.branch_name("t1", 1), head, ("shared.txt",))], [])["t1"]
    populated.append_event("forecast", "t1", 1, {**fc, "head": head, "target_commit": tip},
                           run=1)

    obj = _status(run_cli, git_repo)
    assert obj["run"]["target_tip"] == tip
    rows = {r["id"]: r for r in obj["tasks"]}
    assert rows["t2"]["forecast"] is None  # nothing computed for it yet
    f1 = rows["t1"]["forecast"]
    assert f1["target"] == "conflict"
    assert f1["files"] == ["shared.txt"]
    assert f1["out_of_scope"] == ["extra.py"]
    assert f1["conflicts_with"] == [] and f1["reverts"] == []
    assert (f1["head"], f1["target_commit"], f1["stale"]) == (head, tip, False)

    (git_repo / "README.md").write_text("# moved again\n")
    git(git_repo, "commit", "-qam", "main moves again")
    obj = _status(run_cli, git_repo)
    assert obj["run"]["target_tip"] == git(git_repo, "rev-parse", "main").strip()
    assert {r["id"]: r for r in obj["tasks"]}["t1"]["forecast"]["stale"] is True


def test_status_run_state_follows_lock_and_events(run_cli: Callable[..., Result],
                                                  git_repo: Path, populated: Store) -> None:
    lock = RunLock(git_repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
    assert lock.acquire()
    try:
        obj = _status(run_cli, git_repo)
        assert obj["run"]["state"] == "running"
        assert obj["run"]["supervisor"] is True
        populated.append_event("dispatch_paused", data={"by": "cli"}, run=1)
        assert _status(run_cli, git_repo)["run"]["state"] == "paused"
    finally:
        lock.release()
    assert _status(run_cli, git_repo)["run"]["state"] == "orphaned"
    populated.append_event("run_stopped", data={}, run=1)
    assert _status(run_cli, git_repo)["run"]["state"] == "stopped"


def test_status_human_table(run_cli: Callable[..., Result], git_repo: Path,
                            populated: Store) -> None:
    res = run_cli("status", "--repo", str(git_repo))
    assert res.code == 0
    assert "t1" in res.out and "t2" in res.out
    assert "no supervisor" in res.out


def test_events_json(run_cli: Callable[..., Result], git_repo: Path, populated: Store) -> None:
    res = run_cli("events", "--json", "--repo", str(git_repo))
    assert res.code == 0
    lines = res.out.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["kind"] for o in objs] == ["run_started", "task_added", "task_added",
                                         "attempt_spawned", "progress"]
    assert [o["seq"] for o in objs] == [1, 2, 3, 4, 5]
    for o in objs:
        assert {"seq", "time", "kind", "task"} <= set(o)
        assert isinstance(o["time"], str) and o["time"][:4].isdigit()
    assert objs[3]["task"] == "t1" and objs[3]["attempt"] == 1
    assert objs[0]["task"] is None

    since = run_cli("events", "--json", "--since", "3", "--repo", str(git_repo))
    assert [json.loads(x)["seq"] for x in since.out.splitlines()] == [4, 5]
    assert run_cli("events", "--json", "--since", "5", "--repo", str(git_repo)).out == ""

    human = run_cli("events", "--repo", str(git_repo))
    assert human.code == 0
    assert len(human.out.splitlines()) == 5
    assert "attempt_spawned" in human.out


@pytest.mark.parametrize("argv", [["kill", "t1"], ["pause"], ["resume"], ["retry", "t1"],
                                  ["add", "more work"]])
def test_inbox_command_without_supervisor(run_cli: Callable[..., Result], git_repo: Path,
                                          populated: Store, argv: list[str]) -> None:
    res = run_cli(*argv, "--repo", str(git_repo))
    assert res.code == 1
    assert "no supervisor" in res.err
    assert "swarmtui up" in res.err and "resume" in res.err
    assert populated.commands() == []  # nothing was queued for a supervisor that is not there


def test_spawn_outside_an_agent_exits_2(run_cli: Callable[..., Result], git_repo: Path) -> None:
    res = run_cli("spawn", "help me", "--repo", str(git_repo))
    assert res.code == 2
    assert P.ENV_TASK_ID in res.err


def test_up_missing_task_file_exits_2(run_cli: Callable[..., Result], git_repo: Path,
                                      tmp_path: Path) -> None:
    res = run_cli("up", str(tmp_path / "absent.toml"), "--headless", "--repo", str(git_repo))
    assert res.code == 2
    assert "absent.toml" in res.err
    assert not (git_repo / P.SWARM_DIR / P.STATE_DB).exists()


def test_subprocess_exit_codes(swarmtui_cmd: list[str], git_repo: Path) -> None:
    """The codes survive the process boundary (``python -m swarmtui``)."""
    ok = subprocess.run([*swarmtui_cmd, "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("swarmtui ")
    no_run = subprocess.run([*swarmtui_cmd, "status", "--repo", str(git_repo)],
                            capture_output=True, text=True)
    assert no_run.returncode == 3
    assert "no run" in no_run.stderr
    bad = subprocess.run([*swarmtui_cmd, "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2


# -- end to end through a real headless supervisor -----------------------------------------------


def _write_e2e_config(path: Path) -> Path:
    def agent(scenario: str) -> str:
        argv = [sys.executable, "-m", "swarmtui", "fake-agent", "--scenario", scenario,
                "--pace", "0.05"]
        return json.dumps(argv)

    path.write_text(f"""
[run]
default_agent = "ok"
kill_grace = "1s"

[heartbeat]
tick = "200ms"
progress_interval = "30s"

[slots]
min_free_memory = "0"

[agents.ok]
command = {agent("success")}

[agents.stall]
command = {agent("stall")}
""")
    return path


@dataclass
class LiveRun:
    """A headless ``swarmtui up`` running as a subprocess."""

    repo: Path
    config: Path
    tasks: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def args(self) -> list[str]:
        return ["--repo", str(self.repo), "--config", str(self.config)]


@pytest.fixture
def live_run(git_repo: Path, tmux_socket: str, tmp_path: Path,
             swarmtui_cmd: list[str]) -> Iterator[LiveRun]:
    config = _write_e2e_config(tmp_path / "config.toml")
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nid = "stall"\nprompt = "never finishes"\nagent = "stall"\n')
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*swarmtui_cmd, "up", str(tasks), "--headless", "--repo", str(git_repo),
             "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT)
    run = LiveRun(repo=git_repo, config=config, tasks=tasks, proc=proc, log=log)
    try:
        yield run
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _rows(run_cli: Callable[..., Result], run: LiveRun) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in _status(run_cli, run.repo, "--config", str(run.config))["tasks"]}


def _wait_task(run_cli: Callable[..., Result], run: LiveRun, tid: str,
               pred: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def check() -> bool:
        assert run.proc.poll() is None, f"supervisor exited:\n{run.log.read_text()}"
        if not (run.repo / P.SWARM_DIR / P.STATE_DB).exists():
            return False
        res = run_cli("status", "--json", *run.args())
        if res.code != 0:
            return False
        row = {r["id"]: r for r in json.loads(res.out)["tasks"]}.get(tid)
        if row is not None and pred(row):
            found.update(row)
            return True
        return False

    wait_until(check, timeout=45, what=what)
    return found


def test_end_to_end_headless(run_cli: Callable[..., Result], live_run: LiveRun) -> None:
    run = live_run
    a = run.args()
    # Waiting for a progress line means the agent itself runs (not only its wrapper).
    _wait_task(run_cli, run, "stall", lambda r: r["state"] == "running" and r["last_progress"],
               "stall to run")

    res = run_cli("pause", *a)
    assert res.code == 0, res.err
    assert _status(run_cli, run.repo, *a[2:])["run"]["state"] == "paused"
    res = run_cli("resume", *a)
    assert res.code == 0, res.err
    assert _status(run_cli, run.repo, *a[2:])["run"]["state"] == "running"

    res = run_cli("add", "write docs", "--id", "docs", "--agent", "ok", *a)
    assert res.code == 0, res.err
    assert "docs" in res.out
    assert "docs" in _rows(run_cli, run)
    docs = _wait_task(run_cli, run, "docs", lambda r: r["state"] in ("passed", "failed", "dead"),
                      "docs to finish")
    assert docs["state"] == "passed", docs

    res = run_cli("kill", "stall", *a)
    assert res.code == 0, res.err
    stall = _rows(run_cli, run)["stall"]
    assert stall["state"] == "failed"
    assert "killed" in stall["reason"]
    # The kill was of the attempt the CLI saw; an operator's kill counts against nothing.
    failed = [json.loads(x) for x in run_cli("events", "--json", *a).out.splitlines()]
    failed = [e for e in failed if e["kind"] == "attempt_failed" and e["task"] == "stall"]
    assert [(e["attempt"], e["data"]["cause"]) for e in failed] == [(1, "killed")]
    assert failed[0]["data"]["counts_attempt"] is False

    res = run_cli("retry", "stall", "--note", "try X", *a)
    assert res.code == 0, res.err
    _wait_task(run_cli, run, "stall", lambda r: r["attempt"] == 2 and r["state"] == "running"
               and r["last_progress"], "attempt 2 of stall")
    prompt = (P.agent_dir(run.repo, "stall", 2) / P.PROMPT_FILE).read_text()
    assert "try X" in prompt
    assert P.HANDOFF_HEADING in prompt

    # An action aimed at an attempt that is no longer current is refused, not applied to the
    # new one: "TASK-N" names attempt N (so does --attempt N).
    for argv in (["kill", "stall-1"], ["kill", "stall", "--attempt", "1"]):
        stale = run_cli(*argv, *a)
        assert stale.code == 1, stale.out + stale.err
        assert "stall-1 is no longer the current attempt" in stale.out
    stall = _rows(run_cli, run)["stall"]
    assert (stall["state"], stall["attempt"]) == ("running", 2)

    second = run_cli("up", str(run.tasks), "--headless", *a)
    assert second.code == 2
    assert "already running" in second.err

    res = run_cli("down", *a)
    assert res.code == 0, res.err
    run.proc.wait(timeout=30)
    obj = _status(run_cli, run.repo, *a[2:])
    assert obj["run"]["state"] == "stopped"
    assert obj["run"]["supervisor"] is False
    rows = {r["id"]: r for r in obj["tasks"]}
    assert rows["docs"]["state"] == "passed"
    assert rows["stall"]["state"] == "failed"
    # The stopped run's agents were ended and their exits recorded by the wrappers.
    exit2 = json.loads((P.agent_dir(run.repo, "stall", 2) / P.EXIT_FILE).read_text())
    assert exit2["how"] == "terminated"
    log = run.log.read_text()
    assert "run 1" in log


def _needs(run_cli: Callable[..., Result], run: LiveRun) -> dict[str, dict[str, Any]]:
    return {n["task"]: n for n in _status(run_cli, run.repo, "--config",
                                          str(run.config))["needs_you"]}


def test_status_json_lists_what_needs_you_on_a_real_run(run_cli: Callable[..., Result],
                                                        live_run: LiveRun) -> None:
    """`needs_you` names each task that waits for the operator (a typed kind, the words, the
    command that acts on it): an agent waiting for input (its CLI's hook said so), then a
    killed attempt; running the listed command clears it."""
    run = live_run
    _wait_task(run_cli, run, "stall", lambda r: r["state"] == "running" and r["last_progress"],
               "stall to run")
    assert _needs(run_cli, run) == {}
    hook = subprocess.run(
        [sys.executable, "-m", "swarmtui.hook", "Notification"],
        input=json.dumps({"notification_type": "idle_prompt",
                          "message": "Claude is waiting for your input"}).encode(),
        env={**os.environ, "SWARM_AGENT_DIR": str(P.agent_dir(run.repo, "stall", 1))},
        timeout=30, check=True)
    assert hook.returncode == 0
    wait_until(lambda: "stall" in _needs(run_cli, run), what="stall to wait for input")
    assert _needs(run_cli, run)["stall"] == {
        "task": "stall", "kind": "input", "text": "waiting for input",
        "command": "swarmtui attach"}

    assert run_cli("kill", "stall", *run.args()).code == 0
    need = _needs(run_cli, run)["stall"]
    assert (need["kind"], need["command"]) == ("failed", "swarmtui retry stall")
    assert need["text"].startswith("failed: ")
    res = run_cli(*shlex.split(need["command"])[1:], *run.args())
    assert res.code == 0, res.err
    _wait_task(run_cli, run, "stall", lambda r: r["attempt"] == 2 and r["state"] == "running",
               "attempt 2 of stall")
    assert "stall" not in _needs(run_cli, run)


def test_headless_reports_a_stopped_run_after_down(run_cli: Callable[..., Result],
                                                   live_run: LiveRun) -> None:
    run = live_run
    _wait_task(run_cli, run, "stall", lambda r: r["state"] == "running" and r["last_progress"],
               "stall to run")
    assert run_cli("down", *run.args()).code == 0
    run.proc.wait(timeout=30)
    assert _status(run_cli, run.repo, "--config", str(run.config))["run"]["state"] == "stopped"
    log = run.log.read_text()
    assert "agents keep running" not in log
    assert "resumes the run" not in log


def test_readme_commands_table_lists_every_command_and_the_demos_flags() -> None:
    """The README's commands table names every public command and every flag of the demo."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("## Commands"):]
    table = table[: table.index("\n## ", 5)]
    rows = [line for line in table.splitlines() if line.startswith("| `swarmtui ")]
    named = {w.strip("`") for line in rows for w in line.split("`")[1::2]
             if w.startswith("swarmtui ")}
    commands = {n.split()[1] for n in named}
    missing = sorted(set(_all_commands()) - set(INTERNAL_COMMANDS) - commands)
    assert not missing, f"README commands table lacks {missing}"
    demo = next(line for line in rows if line.startswith("| `swarmtui demo"))
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {o for a in sub.choices["demo"]._actions for o in a.option_strings
             if o.startswith("--") and o not in ("--help", "--repo", "--config")}
    assert flags and all(f in demo for f in flags), sorted(f for f in flags if f not in demo)


@pytest.mark.parametrize("name", _all_commands())
def test_one_command_parser_is_the_whole_command_lines_for_that_command(name: str) -> None:
    """``main`` builds only the command it is given: that command's parser must be the one the
    whole command line has (same options, defaults, function and help)."""
    def sub_of(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return sub.choices[name]

    whole, one = sub_of(build_parser()), sub_of(build_parser(only=name))
    assert one.format_help() == whole.format_help()
    assert [(a.dest, a.option_strings, a.default, a.nargs, a.choices, a.required)
            for a in one._actions] == [(a.dest, a.option_strings, a.default, a.nargs, a.choices,
                                        a.required) for a in whole._actions]
    assert one.get_default("fn") is whole.get_default("fn")


def test_an_unknown_command_is_refused_naming_every_command(run_cli: Callable[..., Result]
                                                            ) -> None:
    res = run_cli("no-such-command")
    assert res.code == 2
    assert "invalid choice: 'no-such-command'" in res.err and "kill" in res.err
