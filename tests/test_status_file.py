"""The supervisor's status file (`swarmtui/statusfile.py`), end to end: a real supervisor on a
real repository with its own tmux server writes it; `status` answers from it only when the
answer equals what the log says, and from the log otherwise (a killed or crashed supervisor, a
link, an oversized or garbled file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui import statusfile
from swarmtui.cli.inspect import status_obj
from swarmtui.engine.run.runconfig import config_of_run
from tests.clirun import kill_supervisor, run, start, store_of, write_config, write_tasks
from tests.fleet import Fleet, fake, fast_config, task
from tests.fleet import start as start_fleet
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

# Asked in a fresh interpreter: the answer, and whether answering it loaded the model (pydantic):
# an answer from the status file does not.
ASK = ("import sys\nfrom swarmtui.cli import main\nrc = main(sys.argv[1:])\n"
       "print('pydantic' in sys.modules, rc, file=sys.stderr)\n")


def ask(repo: Path, *extra: str) -> tuple[str, bool]:
    """`swarmtui status --repo REPO EXTRA`'s output, and whether it answered from the file."""
    done = subprocess.run([sys.executable, "-c", ASK, "status", "--repo", str(repo), *extra],
                          capture_output=True, text=True, timeout=60)
    loaded, rc = done.stderr.split()[-2:]
    assert rc == "0", done.stderr
    return done.stdout, loaded == "False"


def from_log(f: Fleet) -> dict[str, Any]:
    """`status --json`'s object computed from the log in this process (the slow path)."""
    with store_of(f.repo) as s:
        state = s.replay()
        return status_obj(f.repo, config_of_run(state.settings, f.config), s, state)


def timeless(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without the two ages that grow between two calls."""
    for row in obj["tasks"]:
        row.pop("last_progress_age_s")
        row.pop("runtime_s")
    return obj


def quiet_fleet(fleets: list[Fleet], repo: Path) -> Fleet:
    """A real supervisor whose run has finished (two agents passed): the log stands still, so
    the file, once written, is as new as the log."""
    cfg = fast_config({"ok": fake("success")})
    f = start_fleet(fleets, repo, cfg, [task("a", "ok"), task("b", "ok")],
                    exit_when_done=False)
    f.wait_kind("run_finished", timeout=90)
    wait_until(lambda: statusfile.fresh_json(repo, None), 30, "a status file as new as the log",
               seen=lambda: why_not(repo))
    return f


def why_not(repo: Path) -> dict[str, Any]:
    """What the reader checks, one by one (for a wait that timed out)."""
    got = statusfile.read(repo)
    head = got[0] if got is not None else {}
    pid = statusfile.holder(repo)
    return {"holder": pid, "read": got is not None, "head pid": head.get("pid"),
            "usable": bool(got) and statusfile.usable(head, None, pid or 0),
            "zone": head.get("zone") == statusfile.zone(),
            "code": statusfile.same_code(head.get("code")), "seq": head.get("seq"),
            "log": statusfile.log_seq(repo)}


def test_status_from_the_file_equals_status_from_the_log(git_repo: Path,
                                                         fleets: list[Fleet]) -> None:
    f = quiet_fleet(fleets, git_repo)
    out, from_file = ask(git_repo, "--json")
    assert from_file
    got = json.loads(out)
    assert got["run"]["supervisor"] is True and got["run"]["last_seq"] == f.store.last_seq()
    assert timeless(got) == timeless(from_log(f))
    text, from_file = ask(git_repo)
    assert from_file
    assert text.splitlines()[0].startswith(f"run {f.sup.run_id}: finished  target main")
    assert [line.split()[:2] for line in text.splitlines()[3:5]] == [["a", "passed"],
                                                                      ["b", "passed"]]


def test_a_change_since_the_file_is_waited_for_never_missed(git_repo: Path,
                                                            fleets: list[Fleet]) -> None:
    """`pause` is answered (its event is in the log) before `status` runs: the file written
    before it is behind, so `status` has the supervisor write a new one and shows the pause."""
    f = quiet_fleet(fleets, git_repo)
    before = statusfile.read(git_repo)
    assert before is not None and before[0]["seq"] == f.store.last_seq()
    assert json.loads(statusfile.fill(before[1], before[0]["rows"], repo="", tip=None,
                                      now=0))["run"]["paused"] is False
    paused = run("pause", "--repo", str(git_repo))
    assert paused.returncode == 0, paused.stdout + paused.stderr
    out, from_file = ask(git_repo, "--json")
    got = json.loads(out)
    assert from_file and got["run"]["paused"] is True
    assert got["run"]["last_seq"] == f.store.last_seq()
    assert timeless(got) == timeless(from_log(f))


@pytest.mark.parametrize("damage", ["symlink", "oversized", "garbled", "fifo"])
def test_a_damaged_status_file_is_refused_and_the_log_answers(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path, damage: str) -> None:
    f = quiet_fleet(fleets, git_repo)
    path = P.swarm_dir(git_repo) / statusfile.FILE
    good = path.read_bytes()
    path.unlink()
    if damage == "symlink":  # a link to a good copy: refused all the same, never followed
        (tmp_path / "elsewhere.json").write_bytes(good)
        path.symlink_to(tmp_path / "elsewhere.json")
    elif damage == "oversized":
        path.write_bytes(good + b" " * statusfile.MAX_BYTES)
    elif damage == "garbled":
        path.write_bytes(good[: len(good) // 2])
    else:
        os.mkfifo(path)  # a reader that opened it blocking would hang here
    assert statusfile.read(git_repo) is None
    out, from_file = ask(git_repo, "--json")
    assert not from_file
    assert timeless(json.loads(out)) == timeless(from_log(f))


def test_a_killed_supervisor_leaves_a_stale_file_and_status_says_so(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=0.25)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log")
    try:
        wait_until(lambda: (statusfile.read(git_repo) or ({}, 0))[0].get("pid") == up.pid,
                   60, "the supervisor's status file")
        out, from_file = ask(git_repo, "--json", "--config", str(cfg))
        assert from_file and json.loads(out)["run"]["supervisor"] is True
        kill_supervisor(git_repo)
        assert statusfile.read(git_repo) is not None  # left behind, and stale
        out, from_file = ask(git_repo, "--json", "--config", str(cfg))
        got = json.loads(out)
        assert not from_file
        assert got["run"]["supervisor"] is False and got["run"]["state"] == "orphaned"
        text, _ = ask(git_repo, "--config", str(cfg))
        assert "running (no supervisor)" in text.splitlines()[0]
    finally:
        up.kill()
        up.wait(30)
        run("down", "--repo", str(git_repo), "--config", str(cfg))


def test_a_crashed_supervisors_file_is_not_read_and_status_quotes_the_crash(
        git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    """The supervisor's loop dies of a bug (an injected fault on a nudge) after writing its
    status file: `status` answers from the log, with the crash."""
    from swarmtui.nudge import nudge

    cfg = write_config(tmp_path / "c.toml", {"slow": fake("slow", pace=0.25)})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "a", "prompt": "do a"}])
    up = start("up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg),
               log=tmp_path / "up.log", env={"SWARMTUI_FAULT": "wake:raise"})
    try:
        wait_until(lambda: (statusfile.read(git_repo) or ({}, 0))[0].get("pid") == up.pid,
                   60, "the supervisor's status file")
        nudge(git_repo)
        assert up.wait(60) == 1
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(30)
    assert statusfile.read(git_repo) is not None
    text, from_file = ask(git_repo, "--config", str(cfg))
    assert not from_file
    assert "the supervisor crashed at " in text and "InjectedFault" in text
    run("down", "--repo", str(git_repo), "--config", str(cfg))


def test_a_row_the_supervisor_did_not_write_sends_status_to_the_log(
        git_repo: Path, fleets: list[Fleet]) -> None:
    """A row appended behind the supervisor's back is in the log but not in its projection:
    the file may not answer (it never covers that seq), and the log's answer shows the row."""
    import sqlite3

    f = quiet_fleet(fleets, git_repo)
    raw = sqlite3.connect(git_repo / P.SWARM_DIR / P.STATE_DB)
    raw.execute("INSERT INTO events(run, time, kind, task, data, v) VALUES "
                "(?, ?, 'dispatch_paused', NULL, '{\"by\": \"elsewhere\"}', 2)",
                (f.sup.run_id, f.sup.state.started_at or 0.0))
    raw.commit()
    raw.close()
    out, from_file = ask(git_repo, "--json")
    assert not from_file and json.loads(out)["run"]["paused"] is True
    assert timeless(json.loads(out)) == timeless(from_log(f))
    f.command("resume")  # the supervisor writes after a seq it did not write: no file any more
    wait_until(lambda: not (P.swarm_dir(git_repo) / statusfile.FILE).exists(), 30,
               "the supervisor to drop its status file")
    fleets.remove(f)  # its projection is not the log's, on purpose: closed without that check
    f.stop()
    f.tmux.kill_session()
