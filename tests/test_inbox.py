"""The command inbox and the store under stress, driven as a user does: real CLI processes,
real tmux, real SQLite, the supervisor killed or paused at the point each defect lived."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.engine.runtime.wake import nudge
from swarmtui.model import payloads as p
from swarmtui.store import Store, UnreadablePayload
from tests.clirun import (
    SWARMTUI,
    events,
    py_agent,
    run,
    start,
    store_of,
    supervisor_pid,
    wait_state,
    write_config,
    write_tasks,
)
from tests.fleet import fake
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

# Reports progress every 0.1 s until the gate file exists, then finishes.
GATED = """
import json, os, sys, time
gate = sys.argv[1]
pace = float(sys.argv[2])
prog = os.environ["SWARM_PROGRESS_FILE"]
while not os.path.exists(gate):
    with open(prog, "a") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - working\\n")
    time.sleep(pace)
res = os.environ["SWARM_RESULTS_FILE"]
with open(res + ".tmp", "w") as f:
    json.dump({"status": "done", "summary": "gate opened"}, f)
os.replace(res + ".tmp", res)
"""


def gated(gate: Path, pace: float = 0.1) -> list[str]:
    return [*py_agent(GATED), str(gate), str(pace)]


def _paused(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def _pending(repo: Path, kind: str) -> bool:
    with store_of(repo) as s:
        return any(c.kind == kind for c in s.pending_commands())


def _running(st: object) -> bool:
    tasks = getattr(st, "tasks", {})
    return "a" in tasks and str(tasks["a"].state) == "running" and tasks["a"].progress_lines > 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


# -- issue 18.1: a command belongs to the run it was sent to --------------------------------


def test_a_down_sent_as_a_headless_run_ends_is_refused_at_once(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """The supervisor is paused on its way out of a finished run (the lock still held); a
    `down` sent then is answered when it leaves, refused with the reason, and the next `up`
    runs its own run."""
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log", env={"SWARMTUI_FAULT": "supervisor-exit:stop"})
    down: subprocess.Popen[str] | None = None
    try:
        wait_until(lambda: _paused(up.pid), timeout=120, what="the supervisor to leave the run")
        down = subprocess.Popen([*SWARMTUI, "down", "--repo", str(git_repo)], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until(lambda: _pending(git_repo, "down"), what="the down command to be queued")
        os.kill(up.pid, signal.SIGCONT)
        said, _ = down.communicate(timeout=30)  # answered as the supervisor leaves, not at 60 s
        assert down.returncode == 1, said
        assert "run 1 finished before command" in said and "nothing was done" in said, said
        assert up.wait(30) == 0
    finally:
        if down is not None and down.poll() is None:
            down.kill()
            down.wait()
        _stop(up)
    with store_of(git_repo) as s:
        cmd = next(c for c in s.commands() if c.kind == "down")
    assert cmd.status == "refused" and cmd.run == 1
    again = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "was stopped" not in again.stdout and "run finished" in again.stdout


def test_a_command_left_for_an_ended_run_is_never_applied_to_the_next(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    first = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert first.returncode == 0, first.stdout + first.stderr
    with store_of(git_repo) as s:  # queued for run 1 as it ended (an older client, a race)
        cid = s.append_command("down", {"keep_agents": False}, source="cli", run=1)
    again = run("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "was stopped" not in again.stdout and "run finished" in again.stdout
    with store_of(git_repo) as s:
        cmd = s.command(cid)
        assert cmd is not None and cmd.status == "refused"
        assert "sent to run 1, which has ended" in str(cmd.result)
        assert s.replay().status == "finished" and s.current_run() == 2


def test_a_cli_waiting_on_a_supervisor_that_dies_answers_at_once(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    cfg = write_config(tmp_path / "c.toml", {"gated": gated(gate)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log")
    try:
        wait_state(git_repo, _running, what="the agent to run")
        os.kill(up.pid, signal.SIGSTOP)  # alive (the lock held) but not answering
        pause = subprocess.Popen([*SWARMTUI, "pause", "--repo", str(git_repo)], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until(lambda: _pending(git_repo, "pause"), what="the pause to be queued")
        os.kill(up.pid, signal.SIGKILL)
        said, _ = pause.communicate(timeout=20)
        assert pause.returncode == 1
        assert "stopped before applying command" in said and "nothing was done" in said, said
    finally:
        _stop(up)
    with store_of(git_repo) as s:  # withdrawn: the run's next supervisor does not apply it
        assert [c.status for c in s.commands() if c.kind == "pause"] == ["refused"]
    again = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
                  log=tmp_path / "again.log")
    try:
        wait_until(lambda: bool(events(git_repo, "run_resumed")), what="the run to resume")
        gate.touch()
        assert again.wait(120) == 0
    finally:
        _stop(again)
    assert not events(git_repo, "dispatch_paused")


# -- issue 19.5: a command's effects and its answer are one transaction ---------------------


def test_an_add_killed_between_its_effects_and_its_answer_is_applied_once(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    cfg = write_config(tmp_path / "c.toml", {"gated": gated(gate)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    prompt = "write the changelog"
    crashing = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config",
                     str(cfg), log=tmp_path / "crash.log",
                     env={"SWARMTUI_FAULT": "inbox-effects:kill"})
    again: subprocess.Popen[bytes] | None = None
    try:
        wait_state(git_repo, _running, what="the agent to run")
        with store_of(git_repo) as s:
            cid = s.append_command("add", {"prompt": prompt}, source="cli")
        nudge(git_repo)
        assert crashing.wait(60) == -signal.SIGKILL  # at the fault point
        added = [e for e in events(git_repo, "task_added") if e.data["spec"]["prompt"] == prompt]
        assert added == []  # without its answer, nothing of the command is on disk
        again = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config",
                      str(cfg), log=tmp_path / "again.log")

        def answered() -> bool:
            with store_of(git_repo) as s:
                c = s.command(cid)
            return c is not None and c.status != "pending"

        wait_until(answered, timeout=60, what="the restarted supervisor to apply the add")
        gate.touch()
        assert again.wait(120) == 0
    finally:
        _stop(crashing)
        if again is not None:
            _stop(again)
    added = [e for e in events(git_repo, "task_added") if e.data["spec"]["prompt"] == prompt]
    assert len(added) == 1
    applied = [e for e in events(git_repo, "command_applied") if e.data["id"] == cid]
    assert [e.data["status"] for e in applied] == ["done"]


# -- issue 19.2: the log never takes what it cannot give back; readers skip what it has ------

NESTED_KEY = "deep"


def _nested(depth: int) -> dict[str, object]:
    out: dict[str, object] = {}
    cur = out
    for _ in range(depth):
        nxt: dict[str, object] = {}
        cur[NESTED_KEY] = nxt
        cur = nxt
    return out


def test_a_payload_that_would_not_read_back_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as s:
        s.append(p.DispatchPaused(by="x"), run=1)
        with pytest.raises(UnreadablePayload, match="command_applied refused"):
            s.append(p.CommandApplied(id=1, command="add", source="cli", status="done",
                                      result=_nested(200)), run=1)
        assert s.last_seq() == 1 and [e.kind for e in s.events()] == ["dispatch_paused"]


def test_a_poisoned_row_in_a_live_run_is_skipped_by_every_reader(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """A row an old version wrote (an unknown key nested 200 levels deep): status, events,
    the client's projection, a restarted supervisor and down all read past it."""
    gate = tmp_path / "gate"
    cfg = write_config(tmp_path / "c.toml", {"gated": gated(gate)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log")
    again: subprocess.Popen[bytes] | None = None
    try:
        wait_state(git_repo, _running, what="the agent to run")
        raw = sqlite3.connect(git_repo / P.SWARM_DIR / P.STATE_DB)
        data = json.dumps({"by": "old", "extra": _nested(200)})
        bad = raw.execute("INSERT INTO events(run, time, kind, task, data, v) VALUES "
                          "(1, ?, 'dispatch_paused', NULL, ?, 2)", (time.time(), data)).lastrowid
        raw.commit()
        raw.close()
        wait_until(lambda: any(e.seq > bad for e in events(git_repo)), what="events after it")
        client = RunClient(git_repo)
        client.refresh()
        assert client.state.last_seq > bad and not client.state.paused
        assert bad in client.store.skipped
        for argv in (["status"], ["events"]):
            res = run(*argv, "--repo", str(git_repo))
            assert res.returncode == 0, res.stderr
            assert f"event {bad} (dispatch_paused) cannot be read and is skipped" in res.stderr
        assert "Traceback" not in res.stderr
        os.kill(up.pid, signal.SIGKILL)
        up.wait(10)
        again = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config",
                      str(cfg), log=tmp_path / "again.log")
        wait_until(lambda: bool(events(git_repo, "run_resumed")), what="the run to resume")
        wait_until(lambda: supervisor_pid(git_repo) == again.pid, what="the new supervisor")
        down = run("down", "--repo", str(git_repo))
        assert down.returncode == 0, down.stdout + down.stderr
        assert "run stopped" in down.stdout
        assert again.wait(60) == 0
    finally:
        _stop(up)
        if again is not None:
            _stop(again)


# -- issue 19.6: a locked store is waited for, said, and caught up with ---------------------

HOLD = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("COMMIT")
"""


def _status_line(sock: str, repo: Path) -> str:
    from swarmtui.engine.runtime.tmux import session_name_for

    res = subprocess.run(["tmux", "-S", sock, "show-options", "-v", "-t",
                          f"={session_name_for(repo)}:", "@swarm_status"],
                         capture_output=True, text=True)
    return res.stdout.strip()


def test_a_store_locked_past_the_busy_timeout_is_waited_for_and_said(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    import sys

    gate = tmp_path / "gate"
    # Slow enough that the lines written while the store is locked stay under the reader's
    # 50-line catch-up cap: every line must then be recorded, none lost to the lock.
    cfg = write_config(tmp_path / "c.toml", {"gated": gated(gate, pace=0.4)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    fast = {"SWARMTUI_STORE_BUSY_TIMEOUT": "0.3"}
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log", env=fast)
    holder: subprocess.Popen[str] | None = None
    pause: subprocess.Popen[str] | None = None
    try:
        wait_state(git_repo, _running, what="the agent to run")
        db = git_repo / P.SWARM_DIR / P.STATE_DB
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert holder.stdout is not None and holder.stdin is not None
        # The lock is taken while the agent keeps reporting: the supervisor must write.
        holder_ready = holder.stdout.readline().strip()
        assert holder_ready == "locked"
        wait_until(lambda: "store busy" in _status_line(tmux_socket, git_repo), timeout=30,
                 what="the status line to say the store is busy")
        hb = git_repo / P.SWARM_DIR / P.HEARTBEAT_FILE
        busy_at = hb.stat().st_mtime
        wait_until(lambda: hb.stat().st_mtime > busy_at, what="the heartbeat to go on")
        # The CLI: says so, waits with backoff, then a clean error.
        gave_up = run("kill", "a", "--repo", str(git_repo),
                      env={**fast, "SWARMTUI_STORE_WAIT": "1"})
        assert gave_up.returncode == 1
        assert "store busy" in gave_up.stderr and "gave up after 1s" in gave_up.stderr
        assert "Traceback" not in gave_up.stderr + gave_up.stdout
        # One that waits long enough gets through once the lock goes.
        pause = subprocess.Popen([*SWARMTUI, "pause", "--repo", str(git_repo)], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env={**os.environ, **fast})
        assert pause.stderr is not None
        assert "store busy" in pause.stderr.readline()
        assert up.poll() is None  # the supervisor lives on through the lock
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.wait(10) == 0
        said, _ = pause.communicate(timeout=60)
        assert pause.returncode == 0 and "dispatch paused" in said
        wait_until(lambda: "store busy" not in _status_line(tmux_socket, git_repo),
                 what="the status line to recover")
        seen = max(e.seq for e in events(git_repo))
        wait_until(lambda: any(e.kind == "progress" and e.seq > seen for e in events(git_repo)),
                 what="progress to be recorded again")  # caught up, no restart
        assert up.poll() is None and supervisor_pid(git_repo) == up.pid
        gate.touch()
        wait_state(git_repo, lambda st: "a" in st.tasks and str(st.tasks["a"].state) == "passed",
                   what="the task to pass")
        numbers = [e.data["n"] for e in events(git_repo, "progress", "a")]
        assert numbers == list(range(1, len(numbers) + 1))  # no line lost to the lock
        down = run("down", "--repo", str(git_repo))
        assert down.returncode == 0, down.stdout + down.stderr
        assert up.wait(60) == 0
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait()
        if pause is not None and pause.poll() is None:
            pause.kill()
            pause.wait()
        _stop(up)


def test_a_merge_command_killed_mid_merge_is_answered_by_the_merge_not_refused(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """`merge` is answered when its merge is done. Killed while the merge runs, the restarted
    supervisor finishes that merge and answers the command with it; it does not apply the
    command again (which refused it: "already in the merge queue")."""
    go = tmp_path / "merge-go"
    extra = f'[merge]\nverify = "while [ ! -f {go} ]; do sleep 0.05; done"\n'
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success"),
                                             "gated": gated(tmp_path / "never")}, extra=extra)
    # b keeps the run open: it is not over when a passes.
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "a", "files": ["fake/a*"]},
                                          {"id": "b", "prompt": "b", "agent": "gated"}])
    first = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
                  log=tmp_path / "h1.log")
    try:
        wait_state(git_repo, lambda st: "a" in st.tasks and str(st.tasks["a"].state) == "passed",
                   what="a to pass")
        with store_of(git_repo) as s:
            cid = s.append_command("merge", {"task": "a", "attempt": 1}, source="cli")
        nudge(git_repo)
        wait_until(lambda: bool(events(git_repo, "merge_started", "a")), timeout=60,
                 what="the merge of a to start")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        _stop(first)
    go.touch()
    again = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
                  log=tmp_path / "h2.log")
    try:
        wait_state(git_repo, lambda st: str(st.tasks["a"].state) == "merged",
                   what="a to be merged")

        def answer() -> str:
            with store_of(git_repo) as s:
                c = s.command(cid)
            return c.status if c is not None else "?"

        wait_until(lambda: answer() != "pending", what="the merge command's answer")
        assert answer() == "done"
        applied = [e.data["status"] for e in events(git_repo, "command_applied")
                   if e.data["id"] == cid]
        assert applied == ["done"]
        assert run("down", "--repo", str(git_repo)).returncode == 0
    finally:
        _stop(again)


def test_a_refused_payload_costs_its_message_not_the_loop(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from swarmtui.engine.messages import Wake
    from swarmtui.engine.run.loop import Loop
    from swarmtui.model import RunState

    with Store(tmp_path / "state.db") as s:
        loop = Loop(s, RunState(), 1)
        deep = p.CommandApplied(id=1, command="add", source="cli", status="done",
                                result=_nested(200))
        loop.on(Wake, lambda _m: loop.emit(deep))
        loop.dispatch(Wake("x"))  # refused and logged; nothing raised
        assert s.last_seq() == 0 and "would not read back" in caplog.text
        loop.emit(p.DispatchPaused(by="x"))
        assert s.last_seq() == 1 and loop.state.paused


def test_a_supervisor_killed_between_a_failure_and_its_retry_still_retries(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """Found by the chaos test: killed after `attempt_failed` was written and before the retry
    decision, the restarted supervisor saw a failed task that nothing would retry, and the run
    never ended. The failure and its decision are one transaction now."""
    cfg = write_config(tmp_path / "c.toml", {"crash": fake("crash", "--until-attempt", "1")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    argv = ("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg))
    first = start(*argv, log=tmp_path / "h1.log",
                  env={"SWARMTUI_FAULT": "failure-recorded:kill"})
    try:
        assert first.wait(120) == -signal.SIGKILL  # at the fault point
    finally:
        _stop(first)
    again = run(*argv, timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    with store_of(git_repo) as s:
        st = s.replay()
    assert str(st.tasks["a"].state) == "passed" and st.tasks["a"].attempt == 2
    assert [e.data["cause"] for e in events(git_repo, "attempt_failed", "a")] == ["crashed"]
