"""Recovery, driven as a user does: real CLI processes, real tmux, real git and agents, and
the real process killed at the point each recovery path is for."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.runtime import proc
from tests.clirun import (
    SWARMTUI,
    events,
    kill_supervisor,
    processes_mentioning,
    py_agent,
    run,
    start,
    store_of,
    supervisor_pid,
    wait_state,
    write_config,
    write_tasks,
)
from tests.fleet import Fleet, fake, fast_config, task
from tests.fleet import start as start_fleet
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _running_with_progress(st: object) -> bool:
    tasks = getattr(st, "tasks", {})
    return bool(tasks) and all(str(t.state) == "running" and t.progress_lines > 0
                               for t in tasks.values())


def _all(state: str):
    return lambda st: bool(st.tasks) and all(str(t.state) == state for t in st.tasks.values())


def _tmux(sock: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True)


def test_attach_restarts_a_dead_supervisor_and_attaches(git_repo: Path, tmux_socket: str,
                                                        tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=0.25)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = run("up", str(tf), "--repo", str(git_repo), "--config", str(cfg), "--no-tui")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_state(git_repo, _running_with_progress, what="the agent to report progress")
    kill_supervisor(git_repo)
    att = run("attach", "--repo", str(git_repo), "--config", str(cfg), "--no-tui")
    assert att.returncode == 0, att.stdout + att.stderr
    assert "restarting" in att.stdout and supervisor_pid(git_repo) is not None
    st = wait_state(git_repo, _all("passed"), what="the adopted agent to pass")
    assert st.tasks["a"].attempt == 1  # adopted, not run again
    assert [e.kind for e in events(git_repo)].count("run_resumed") == 1
    run("down", "--repo", str(git_repo))


def test_a_headless_supervisor_killed_is_restarted_in_window_zero(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=0.25)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    p = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
              log=tmp_path / "headless.log")
    try:
        wait_state(git_repo, _running_with_progress)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        windows = _tmux(tmux_socket, "list-windows", "-a", "-F", "#{window_index}:#{window_name}")
        assert "0:events" in windows.stdout  # the headless run's window 0 is still there
        att = run("attach", "--repo", str(git_repo), "--config", str(cfg), "--no-tui")
        assert att.returncode == 0, att.stdout + att.stderr
        windows = _tmux(tmux_socket, "list-windows", "-a", "-F", "#{window_index}:#{window_name}")
        assert "0:swarmtui" in windows.stdout, windows.stdout
        wait_state(git_repo, _all("passed"))
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        run("down", "--repo", str(git_repo))


def test_a_resumed_run_keeps_its_config(git_repo: Path, tmux_socket: str,
                                        tmp_path: Path) -> None:
    # The run's agent exists only in its own config: resumed on the built-in defaults, it
    # could not run at all.
    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=0.25)}, max_agents=2)
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = run("up", str(tf), "--repo", str(git_repo), "--config", str(cfg), "--no-tui")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_state(git_repo, _running_with_progress)
    kill_supervisor(git_repo)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "no-user-config")}
    att = run("attach", "--no-tui", cwd=git_repo, env=env)
    assert att.returncode == 0, att.stdout + att.stderr
    status = run("status", "--json", cwd=git_repo, env=env)
    obj = json.loads(status.stdout)
    assert obj["slots"]["max"] == 2 and obj["run"]["config"] == str(cfg)
    wait_state(git_repo, _all("passed"))
    run("down", "--repo", str(git_repo))


ENV_AGENT = textwrap.dedent("""
    import hashlib, json, os
    # The key by its digest: the value itself would be redacted from the summary.
    key = os.environ.get("ANTHROPIC_API_KEY", "-")
    summary = os.environ.get("FOO", "<unset>") + "|" + hashlib.sha256(key.encode()).hexdigest()
    tmp = os.environ["SWARM_RESULTS_FILE"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"status": "done", "summary": summary}, f)
    os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
""")


def test_agents_get_the_callers_environment_not_the_tmux_servers(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    # A tmux server that already holds an old key in its global environment.
    keep = subprocess.run(["tmux", "-S", tmux_socket, "new-session", "-d", "-s", "keep"],
                          env={**os.environ, "ANTHROPIC_API_KEY": "sk-stale", "FOO": "stale"})
    assert keep.returncode == 0
    # The policy names what agents get: the defaults (which cover API keys) plus FOO.
    from swarmtui.config import DEFAULT_PASS_ENV

    cfg = write_config(tmp_path / "c.toml", {"env": py_agent(ENV_AGENT)},
                       pass_env=[*DEFAULT_PASS_ENV, "FOO"])
    tf = write_tasks(tmp_path / "t.toml", [{"id": "e", "prompt": "report the env"}])
    summaries = []
    for env in ({"ANTHROPIC_API_KEY": "sk-first"}, {"ANTHROPIC_API_KEY": "sk-second",
                                                     "FOO": "bar"}):
        base = {k: v for k, v in os.environ.items() if k not in ("FOO", "ANTHROPIC_API_KEY")}
        p = subprocess.run([*SWARMTUI, "up",
                            str(tf), "--headless", "--repo", str(git_repo), "--config",
                            str(cfg)], capture_output=True, text=True, timeout=120,
                           env={**base, **env})
        assert p.returncode == 0, p.stdout + p.stderr
        with store_of(git_repo) as s:
            summaries.append(s.replay().tasks["e"].summary)
    digest = {k: hashlib.sha256(k.encode()).hexdigest() for k in ("sk-first", "sk-second")}
    assert summaries == [f"<unset>|{digest['sk-first']}", f"bar|{digest['sk-second']}"]
    shown = _tmux(tmux_socket, "show-environment", "-g").stdout
    assert "ANTHROPIC_API_KEY" not in shown


WAIT_AGENT = textwrap.dedent("""
    import json, os, sys, time
    go = sys.argv[1]
    prog = os.environ["SWARM_PROGRESS_FILE"]
    while not os.path.exists(go):
        with open(prog, "a") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - waiting\\n")
        time.sleep(0.2)
    tmp = os.environ["SWARM_RESULTS_FILE"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"status": "done", "summary": "finished while nobody watched"}, f)
    os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
""")


def test_results_written_while_no_supervisor_ran_are_honoured(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    cfg = write_config(tmp_path / "c.toml", {"w": [*py_agent(WAIT_AGENT), str(go)]})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "w", "prompt": "wait"}])
    p = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
              log=tmp_path / "h1.log")
    wait_state(git_repo, _running_with_progress)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(10)
    go.touch()
    exit_file = P.agent_dir(git_repo, "w", 1) / P.EXIT_FILE
    wait_until(exit_file.exists, what="the agent to finish and its wrapper to record it")
    _tmux(tmux_socket, "kill-server")  # and the tmux server is gone too
    again = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert again.returncode == 0, again.stdout + again.stderr
    spawned = [e.attempt for e in events(git_repo, "attempt_spawned", "w")]
    assert spawned == [1]  # one launch: the result on disk counted
    assert not events(git_repo, "attempt_failed", "w")


GROUP_AGENT = textwrap.dedent("""
    import os, subprocess, time
    subprocess.Popen(["sleep", "300"])  # a grandchild in the agent's process group
    prog = os.environ["SWARM_PROGRESS_FILE"]
    while True:
        with open(prog, "a") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - working\\n")
        time.sleep(0.2)
""")


def test_a_killed_wrapper_takes_its_agent_with_it(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"g": py_agent(GROUP_AGENT)}, retry={"max_attempts": 2})
    f = start_fleet(fleets, git_repo, cfg, [task("g", "g")], exit_when_done=False)
    f.wait_kind("progress", "g")
    adir = P.agent_dir(git_repo, "g", 1)
    wpid = int((adir / P.WRAP_PID_FILE).read_text())
    pgid = int((adir / P.AGENT_PGID_FILE).read_text())
    assert proc.group_alive(pgid)
    os.kill(wpid, signal.SIGKILL)
    exited = f.wait_event(lambda e: e.kind == "agent_exited" and e.task == "g"
                          and e.attempt == 1, timeout=30)
    assert not proc.group_alive(pgid), "the agent (or its grandchild) outlived its wrapper"
    second = f.wait_event(lambda e: e.kind == "attempt_spawned" and e.task == "g"
                          and e.attempt == 2, timeout=30)
    assert second.seq > exited.seq  # never two live agents for one task
    f.wait_kind("progress", "g", timeout=30)
    f.command("down")
    f.wait_kind("run_stopped", timeout=30)
    assert f.thread is not None
    f.thread.join(30)
    assert processes_mentioning(str(git_repo)) == []


def test_a_queued_merge_lands_after_a_restart(git_repo: Path, tmux_socket: str,
                                              tmp_path: Path) -> None:
    go = tmp_path / "merge-go"
    extra = (f'[merge]\nauto = true\nverify = "while [ ! -f {go} ]; do sleep 0.05; done"\n')
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")}, extra=extra)
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "a", "files": ["fake/a*"]},
                                          {"id": "b", "prompt": "b", "depends_on": ["a"]}])
    p = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
              log=tmp_path / "h1.log")
    wait_until(lambda: bool(events(git_repo, "merge_started", "a")), timeout=60,
             what="the merge of a to start")
    os.kill(p.pid, signal.SIGKILL)
    p.wait(10)
    go.touch()
    again = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert again.returncode == 0, again.stdout + again.stderr
    with store_of(git_repo) as s:
        st = s.replay()
    assert str(st.tasks["a"].state) == "merged" and str(st.tasks["b"].state) == "merged"


def test_actions_name_the_attempt_the_operator_saw(git_repo: Path, fleets: list[Fleet],
                                                   tmux_socket: str) -> None:
    cfg = fast_config({"stall": fake("stall", "--until-attempt", "1", pace=0.3)},
                      heartbeat={"progress_interval": "500ms"})
    f = start_fleet(fleets, git_repo, cfg, [task("st", "stall")], exit_when_done=False)
    f.wait_event(lambda e: e.kind == "attempt_started" and e.task == "st" and e.attempt == 2,
                 timeout=60)
    f.command("kill", task="st", attempt=1)  # pressed "y" on "Kill st (attempt 1)?"
    ev = f.wait_kind("command_applied", command="kill")
    assert ev.data["status"] == "refused"
    assert "st-2 is running now" in ev.data["result"]["reason"]
    assert str(f.sup.state.tasks["st"].state) == "running"
    cli = run("kill", "st-1", "--repo", str(git_repo))
    assert cli.returncode == 1 and "no longer the current attempt" in cli.stdout


def test_a_headless_run_leaves_nothing_running(git_repo: Path, tmux_socket: str,
                                               tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "a"}, {"id": "b",
                                                                         "prompt": "b"}])
    done = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _tmux(tmux_socket, "has-session").returncode != 0
    wait_until(lambda: processes_mentioning(str(git_repo)) == [], timeout=10,
             what="every process of the run to be gone")


def test_up_in_a_repository_without_commits_is_refused(tmp_path: Path,
                                                        tmux_socket: str) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "a"}])
    for extra in ([], ["--headless"]):
        r = run("up", str(tf), "--repo", str(repo), "--config", str(cfg), *extra)
        assert r.returncode == 2 and "no commits" in r.stderr, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    doc = run("doctor", "--repo", str(repo), "--config", str(cfg))
    assert doc.returncode == 1 and "no commits" in doc.stdout


def test_an_agent_started_just_before_the_supervisor_died_is_adopted(
        git_repo: Path, fleets: list[Fleet]) -> None:
    """The window opened (the agent runs) but the supervisor died before recording it: the
    next supervisor finds the window and adopts the agent instead of starting another."""
    from swarmtui.engine.attempts.spawn import Plan
    from swarmtui.engine.runners.base import PrepareJob
    from swarmtui.model import payloads as pl

    cfg = fast_config({"ok": fake("success", pace=0.2)})
    f = Fleet(git_repo, cfg, [task("t", "ok")])
    fleets.append(f)
    assert f.lock.acquire()
    f.sup.open_run(f.tasks, "test")
    ctx = f.sup.ports
    assert ctx is not None
    assert f.sup.parts is not None
    t = ctx.task("t")
    # Exactly what the spawner does, up to opening the window, but nothing after it.
    ctx.emit(pl.AttemptSpawned(window="t-1", agent="ok", branch="swarm/t-1",
                               worktree=str(P.worktree_dir(git_repo, "t", 1)), base="main"),
             "t", 1)
    prepared = f.sup.parts.spawner._prepare(Plan(task=t, attempt=1, prev=None,
                                  job=PrepareJob(task="t", attempt=1, branch="swarm/t-1",
                                                 start="main"),
                                  ledger=(), env=dict(os.environ), prev_start_commit="",
                                  base=ctx.state.base, target=ctx.state.target,
                                  worktree=str(P.worktree_dir(git_repo, "t", 1))))
    assert not prepared.error
    ctx.runner.start("t-1", P.agent_dir(git_repo, "t", 1), P.worktree_dir(git_repo, "t", 1))
    ctx.workers.shutdown()
    f.lock.release()
    f2 = Fleet(git_repo, cfg, [])
    fleets.append(f2)
    f2.start()
    assert f2.wait_done()
    assert [e.attempt for e in f2.of("attempt_adopted", "t")] == [1]
    assert not f2.of("attempt_spawned", "t")  # nothing ran twice
    assert not f2.of("attempt_failed", "t")


def test_a_supervisor_killed_as_a_failure_is_recorded_still_retries_the_task(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """The failure and the retry decision are one transaction: a supervisor SIGKILLed right
    after an attempt's failure is durable leaves the task requeued, and a restart runs it."""
    cfg = write_config(tmp_path / "c.toml",
                       {"crash": fake("crash", "--until-attempt", "1", pace=0.05)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "c", "prompt": "do c"}])
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    first = start(*argv, log=tmp_path / "first.log", env={"SWARMTUI_FAULT": "attempt-failed:kill"})
    assert first.wait(120) == -signal.SIGKILL, (tmp_path / "first.log").read_text()
    failed = events(git_repo, "attempt_failed", "c")
    assert [e.attempt for e in failed] == [1]
    assert [e.attempt for e in events(git_repo, "task_requeued", "c")] == [1], \
        "the retry decision was lost with the supervisor"
    second = run(*argv, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    with store_of(git_repo) as store:
        assert str(store.replay().tasks["c"].state) == "passed"
