"""A verify never outlives its supervisor: killed with SIGKILL mid-verify, the restarted
supervisor's verify starts only once the old one (and the daemon it started) is gone, and `down`
leaves no process of it (real CLI processes, tmux, git, agents and verify commands)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tests.clirun import kill_supervisor, run, start, write_config, write_tasks
from tests.fleet import fake
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

VERIFY = textwrap.dedent("""
    import json, os, sys, time
    d = sys.argv[1]

    def running(pid):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return False
        return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")

    runs = sorted(f for f in os.listdir(d) if f.startswith("run-"))
    before = [p for f in runs for p in json.load(open(os.path.join(d, f)))["pids"]]
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()  # a daemon of the verify's, out of its process group and session
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            os.close(w)
            while True:
                time.sleep(1)
        os._exit(0)
    os.close(w)
    daemon = int(os.read(r, 20))
    os.wait()
    out = os.path.join(d, f"run-{len(runs) + 1}.json")
    with open(out + ".tmp", "w") as f:
        json.dump({"pids": [os.getpid(), daemon],
                   "alive_before": [p for p in before if running(p)]}, f)
    os.replace(out + ".tmp", out)
    while True:  # a long verify
        time.sleep(1)
""")


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def test_a_verify_ends_with_its_supervisor_and_with_down(git_repo: Path, tmux_socket: str,
                                                         tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "verify.py"
    script.write_text(VERIFY)
    cfg = write_config(tmp_path / "c.toml", {"ok": fake("success")})
    tf = write_tasks(tmp_path / "t.toml", [{"id": "v", "prompt": "v",
                                            "verify": f"{sys.executable} {script} {marks}"}])
    up = ["up", str(tf), "--headless", "--repo", str(git_repo), "--config", str(cfg)]
    first = start(*up, log=tmp_path / "h1.log")
    run1 = marks / "run-1.json"
    wait_until(run1.exists, timeout=60, what="the first verify to run")
    old = json.loads(run1.read_text())["pids"]
    kill_supervisor(git_repo)
    first.wait(10)
    second = start(*up, log=tmp_path / "h2.log")
    run2 = marks / "run-2.json"
    wait_until(run2.exists, timeout=60, what="the restarted supervisor's verify to run")
    rec = json.loads(run2.read_text())
    assert rec["alive_before"] == []  # the old verify and its daemon ended before it began
    assert not any(running(p) for p in old)
    down = run("down", "--repo", str(git_repo))
    assert down.returncode == 0, down.stdout + down.stderr
    second.wait(30)
    wait_until(lambda: not any(running(p) for p in rec["pids"]), timeout=15,
             what="the verify and its daemon to end with the run")
