"""Agents are hostile input: nothing an agent puts in its folder may block, exhaust or blind
the supervisor. Each test runs a real agent doing the damage beside a bystander agent that must
be unaffected."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from swarmtui import protocol as P
from tests.clirun import py_agent, run
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PROGRESS_FOREVER = """
import os, time
prog = os.environ["SWARM_PROGRESS_FILE"]
while True:
    os.makedirs(os.path.dirname(prog), exist_ok=True)
    with open(prog, "a") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - still here\\n")
    time.sleep(0.1)
"""


def evil(setup: str) -> list[str]:
    """An agent that does ``setup`` (Python, with os, time, json imported) and then keeps
    running without ever finishing."""
    return py_agent("import json, os, time\n" + textwrap.dedent(setup) +
                    "\nwhile True:\n    time.sleep(1)\n")


def heartbeat_age(repo: Path) -> float:
    return time.time() - (repo / P.SWARM_DIR / P.HEARTBEAT_FILE).stat().st_mtime


def test_results_symlinked_to_a_fifo_blocks_nothing(git_repo: Path, fleets: list[Fleet],
                                                    tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    cfg = fast_config({"evil": evil(f"""
        os.mkfifo({str(fifo)!r})
        os.symlink({str(fifo)!r}, os.environ["SWARM_RESULTS_FILE"])
        with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
            f.write("2026-01-01T00:00:00Z - set the trap\\n")
    """), "ok": fake("success")}, heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("evil", "evil"), task("ok", "ok")],
              exit_when_done=False)
    refused = f.wait_kind("file_refused", "evil")
    assert refused.data["file"] == P.RESULTS_FILE and "link" in refused.data["why"]
    f.wait_kind("verify_passed", "ok")  # the bystander is unaffected
    assert heartbeat_age(git_repo) < 2.0  # the loop keeps ticking
    f.command("kill", task="evil")
    assert f.wait_kind("command_applied", command="kill", timeout=10).data["status"] == "done"


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname"])
def test_progress_symlinked_elsewhere_is_refused_not_read(git_repo: Path, fleets: list[Fleet],
                                                          target: str) -> None:
    cfg = fast_config({"evil": evil(f"""
        p = os.environ["SWARM_PROGRESS_FILE"]
        os.unlink(p)
        os.symlink({target!r}, p)
    """), "ok": fake("success")}, heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("evil", "evil"), task("ok", "ok")],
              exit_when_done=False)
    refused = f.wait_kind("file_refused", "evil")
    assert refused.data["file"] == P.PROGRESS_FILE
    f.wait_kind("verify_passed", "ok")
    assert not f.of("progress", "evil")  # nothing behind the link was taken as progress


def test_removing_the_agents_folder_does_not_blind_the_supervisor(
        git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"wrecker": evil(f"""
        import shutil
        time.sleep(0.5)
        shutil.rmtree({str(git_repo / P.SWARM_DIR / P.AGENTS_DIR)!r})
    """), "bystander": py_agent(PROGRESS_FOREVER)},
        heartbeat={"progress_interval": "1s", "stuck_after": 5, "quiet_after": 4})
    f = start(fleets, git_repo, cfg, [task("wreck", "wrecker"), task("by", "bystander")],
              exit_when_done=False)
    f.wait_kind("watcher_rearmed", timeout=30)
    first = len(f.of("progress", "by"))
    f.wait_event(lambda e: e.kind == "progress" and e.task == "by"
                 and e.data["n"] >= first + 15, timeout=30)
    assert not list(f.of("attempt_failed", "by"))  # never taken for stuck


REWRITER = """
import os, time
prog = os.environ["SWARM_PROGRESS_FILE"]
for i in range(6):
    with open(prog, "w") as f:  # ">" instead of ">>": the file holds one line at a time
        f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + f" - step {i}\\n")
    time.sleep(0.4)
while True:
    time.sleep(1)
"""


def test_a_progress_file_rewritten_instead_of_appended_still_counts(
        git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"rw": py_agent(REWRITER)}, heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("rw", "rw")], exit_when_done=False)
    f.wait_event(lambda e: e.kind == "progress" and e.data["status"] == "step 5", timeout=30)
    statuses = [e.data["status"] for e in f.of("progress", "rw")]
    assert statuses == [f"step {i}" for i in range(6)]


SLOW_BIG_RESULTS = """
import os, time
path = os.environ["SWARM_RESULTS_FILE"]
with open(path, "w") as f:
    f.write('{"status": "done", "summary": "')
    for _ in range(50):
        f.write("x" * (1 << 20))  # 50 MB, slowly
        f.flush()
        time.sleep(0.05)
    f.write('"}')
while True:
    time.sleep(1)
"""

CAT_RESULTS = """
import json, os, time
path = os.environ["SWARM_RESULTS_FILE"]
with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
    f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - writing results like `cat >` does\\n")
f = open(path, "w")  # truncated (empty) first ...
f.flush()
time.sleep(0.6)
f.write(json.dumps({"status": "done", "summary": "written in two goes"}))  # ... then filled
f.close()
"""


def test_a_huge_results_file_is_refused_without_stalling(git_repo: Path,
                                                         fleets: list[Fleet]) -> None:
    cfg = fast_config({"big": py_agent(SLOW_BIG_RESULTS), "ok": fake("success")},
                      heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("big", "big"), task("ok", "ok")],
              exit_when_done=False)
    refused = f.wait_kind("file_refused", "big", timeout=30)
    assert refused.data["file"] == P.RESULTS_FILE and "cap" in refused.data["why"]
    f.wait_kind("verify_passed", "ok")
    assert max(f.sup.loop.tick_seconds) < 1.0  # no read stalled the loop
    assert not f.of("results_invalid", "big")


def test_results_written_in_two_goes_is_not_misread_as_invalid(git_repo: Path,
                                                               fleets: list[Fleet]) -> None:
    cfg = fast_config({"cat": py_agent(CAT_RESULTS)})
    f = start(fleets, git_repo, cfg, [task("cat", "cat")])
    assert f.wait_done()
    assert not f.of("results_invalid", "cat")
    assert f.of("results", "cat")[0].data["summary"] == "written in two goes"


NASTY = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07"
NASTY_AGENT = f"""
import json, os
nasty = {NASTY!r}
with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
    f.write("2026-01-01T00:00:00Z - " + nasty + "progress\\n")
summary = "lone " + chr(0xD800) + " surrogate " + nasty
with open(os.environ["SWARM_RESULTS_FILE"] + ".tmp", "w") as f:
    f.write(json.dumps({{"status": "done", "summary": summary}}))
os.replace(os.environ["SWARM_RESULTS_FILE"] + ".tmp", os.environ["SWARM_RESULTS_FILE"])
"""


def test_agent_text_reaches_no_terminal_raw(git_repo: Path, fleets: list[Fleet],
                                            tmux_socket: str) -> None:
    cfg = fast_config({"nasty": py_agent(NASTY_AGENT)})
    f = start(fleets, git_repo, cfg, [task("n", "nasty")])
    assert f.wait_done()
    for argv in (["events"], ["status"], ["events", "--json"], ["status", "--json"]):
        r = run(*argv, "--repo", str(git_repo))
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, argv
    shown = run("events", "--repo", str(git_repo)).stdout
    assert "\\x1b]0;pwned" in shown  # shown escaped, so the reader sees what was written


TOLERANT_PROGRESS = """
import os, time
prog = os.environ["SWARM_PROGRESS_FILE"]
while True:
    try:
        with open(prog, "a") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " - still here\\n")
    except OSError:
        pass  # the disk is full: try again later
    time.sleep(0.2)
"""


def test_disk_full_is_an_event_and_the_supervisor_goes_on(tmp_path: Path, fleets: list[Fleet],
                                                          tmux_socket: str) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    try:
        repo = mnt / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        (repo / "README.md").write_text("x\n")
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm",
                        "init"], cwd=repo, check=True)
        # A quiet agent raises a health event, the first write after the disk fills up.
        cfg = fast_config({"p": py_agent(TOLERANT_PROGRESS), "ok": fake("success")},
                          heartbeat={"progress_interval": "500ms", "quiet_after": 2,
                                     "stuck_after": 200},
                          slots={"max_agents": 1, "pools": {"worker": 1}})
        f = start(fleets, repo, cfg, [task("p", "p"), task("ok", "ok")],
                  exit_when_done=False)
        f.wait_kind("progress", "p")
        filler = mnt / "filler"
        with open(filler, "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * (1 << 20))
                    fh.flush()
            except OSError:
                pass
        full = f.wait_kind("disk_full", timeout=30)
        assert "full" in full.data["error"]
        ticks = len(f.sup.loop.tick_seconds)
        def ticked() -> bool:
            assert f.thread is not None and f.thread.is_alive()
            return len(f.sup.loop.tick_seconds) > ticks

        wait_until(ticked, 10, "the loop to tick on with the disk full")
        filler.unlink()
        f.wait_kind("disk_ok", timeout=30)
        f.command("kill", task="p")
        f.wait_kind("verify_passed", "ok", timeout=60)
    finally:
        for fl in fleets:
            fl.close()
        fleets.clear()
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_nested_toml_gives_a_clear_error(git_repo: Path, tmp_path: Path) -> None:
    deep = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    cfg = tmp_path / "deep.toml"
    cfg.write_text(deep)
    ok_tasks = tmp_path / "ok.toml"
    ok_tasks.write_text('[[task]]\nid = "a"\nprompt = "a"\n')
    r = run("validate", str(ok_tasks), "--repo", str(git_repo), "--config", str(cfg))
    assert r.returncode == 2 and "nested too deeply" in r.stderr and "Traceback" not in r.stderr
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(deep)
    good = tmp_path / "good.toml"
    good.write_text("")
    r = run("validate", str(tasks), "--repo", str(git_repo), "--config", str(good))
    assert r.returncode == 2 and "nested too deeply" in r.stderr and "Traceback" not in r.stderr


def test_a_repository_path_with_dollar_signs_is_taken_literally(tmp_path: Path,
                                                                fleets: list[Fleet]) -> None:
    os.environ.setdefault("x", "EXPANDED")
    repo = tmp_path / "a$x" / "repo$HOME"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("x\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i"],
                   cwd=repo, check=True)
    cfg = fast_config({"ok": fake("success")})
    f = start(fleets, repo, cfg, [task("t", "ok")])
    assert f.wait_done()
    assert (repo / P.SWARM_DIR / P.WORKTREES_DIR / "t-1").is_dir()
