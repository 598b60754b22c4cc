"""Every JSON an agent writes is bounded before it is parsed: a results.json or a signals line
nested hundreds or a hundred thousand levels deep is refused with its cause, and the supervisor,
`status` and a restarted supervisor all go on (real supervisor, tmux, agents and store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmtui.boundedjson import MAX_DEPTH
from swarmtui.engine.runtime.ingest import RESULTS_CAP
from tests.clirun import py_agent, run
from tests.fleet import Fleet, fast_config, start, task

pytestmark = pytest.mark.e2e

DEEP_RESULTS = """
import json, os, sys
n = int(sys.argv[1])
deep = "[" * n + "]" * n
path = os.environ["SWARM_RESULTS_FILE"]
with open(path + ".tmp", "w") as f:
    f.write('{"status": "done", "summary": "deep", "notes": ' + deep + "}")
os.replace(path + ".tmp", path)
if len(sys.argv) > 2:  # stay: the file is read again by a restarted supervisor
    import time
    while True:
        time.sleep(1)
"""

DEEP_SIGNAL = """
import json, os
n = 100_000
with open(os.path.join(os.environ["SWARM_AGENT_DIR"], "signals.jsonl"), "a") as f:
    f.write('{"kind": "hook", "event": ' + "[" * n + "]" * n + "}\\n")
    f.write(json.dumps({"kind": "hook", "event": "Notification", "message": "after it"}) + "\\n")
path = os.environ["SWARM_RESULTS_FILE"]
with open(path + ".tmp", "w") as f:
    json.dump({"status": "done", "summary": "fine"}, f)
os.replace(path + ".tmp", path)
"""

HUGE_RESULTS = f"""
import json, os
path = os.environ["SWARM_RESULTS_FILE"]
with open(path + ".tmp", "w") as f:
    json.dump({{"status": "done", "summary": "x" * {RESULTS_CAP + 10}}}, f)
os.replace(path + ".tmp", path)
"""


def _deep(n: int, stay: bool = False) -> list[str]:
    return [*py_agent(DEEP_RESULTS), str(n), *(["stay"] if stay else [])]


def test_deep_results_and_signals_are_refused_and_the_run_goes_on(
        git_repo: Path, fleets: list[Fleet]) -> None:
    agents = {"d200": _deep(200), "d300": _deep(300), "d100k": _deep(100_000),
              "stay": _deep(300, stay=True), "sig": py_agent(DEEP_SIGNAL),
              "huge": py_agent(HUGE_RESULTS)}
    cfg = fast_config(agents, retry={"max_attempts": 1},
                      heartbeat={"progress_interval": "30s"},
                      slots={"max_agents": 6, "pools": {"worker": 6}})
    tasks = [task(name, name) for name in agents]
    f = start(fleets, git_repo, cfg, tasks, exit_when_done=False)
    for name in ("d200", "d300", "d100k"):
        failed = f.wait_kind("attempt_failed", name)
        assert failed.data["cause"] == "results_refused"
        assert f"nested deeper than {MAX_DEPTH} levels" in failed.data["reason"]
        refused = f.wait_kind("file_refused", name)
        assert (refused.data["file"], refused.data["refusal"], refused.data["limit"]) == (
            "results.json", "too_deep", MAX_DEPTH)
    # Over the size cap: refused for its size, with the cap, not "wrote no results".
    failed = f.wait_kind("attempt_failed", "huge")
    assert failed.data["cause"] == "results_refused"
    assert f"over the {RESULTS_CAP}-byte cap" in failed.data["reason"]
    assert f.wait_kind("file_refused", "huge").data["refusal"] == "too_large"
    # The deep signals line is skipped; the next line and the results count.
    f.wait_kind("agent_hook", "sig", message="after it")
    f.wait_kind("results", "sig")
    f.wait_kind("file_refused", "stay")
    status = run("status", "--repo", str(git_repo))
    assert status.returncode == 0, status.stderr
    shown = run("status", "--json", "--repo", str(git_repo))
    assert shown.returncode == 0, shown.stderr
    assert f"nested deeper than {MAX_DEPTH} levels" in shown.stdout
    assert f"over the {RESULTS_CAP}-byte cap" in shown.stdout
    f.stop()
    f.assert_replay_equals_live()

    # A restarted supervisor reads the staying agent's deep file again, and goes on.
    f2 = start(fleets, git_repo, cfg, [], exit_when_done=False)
    f2.wait_kind("attempt_adopted", "stay")
    f2.wait_kind("file_refused", "stay")
    f2.command("kill", task="stay")
    assert f2.wait_kind("command_applied", command="kill").data["status"] == "done"
    f2.wait_kind("agent_exited", "stay")
    assert run("status", "--repo", str(git_repo)).returncode == 0
