"""End-to-end supervision: real tmux (private socket), real git worktrees, the fake agent.

One test per fake-agent scenario, then the cross-cutting guarantees: the slot cap, scope locks,
dependencies, spawn budgets, kill, the breaker, orphan self-termination, recovery after the
supervisor is SIGKILLed, and the tmux server dying under a run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.fake_agent import INJECTION_TEXT, verify_command_for
from swarmtui.model import payloads as p
from swarmtui.store import Store
from tests.clirun import wait_state
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def spawned_attempts(f: Fleet, tid: str) -> list[int]:
    return [e.attempt for e in f.of("attempt_spawned", tid)]


# -- one test per scenario -----------------------------------------------------------------------


def test_success_passes_first_time_with_commit(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success")})
    f = start(fleets, git_repo, cfg, [task("t1", "ok", verify=verify_command_for("success", "t1"))])
    assert f.wait_done()
    assert spawned_attempts(f, "t1") == [1]
    assert f.state_of("t1") == "passed"
    wt = P.worktree_dir(git_repo, "t1", 1)
    log = subprocess.run(["git", "log", "--oneline", "main..HEAD"], cwd=wt, capture_output=True,
                         text=True).stdout
    assert log.strip(), "the agent's work is committed on its branch"
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=wt, capture_output=True,
                            text=True).stdout.strip()
    assert branch == "swarm/t1-1"
    # The user's own working tree and branch are untouched.
    assert subprocess.run(["git", "status", "--porcelain"], cwd=git_repo, capture_output=True,
                          text=True).stdout == ""
    assert (git_repo / ".git" / "info" / "exclude").read_text().count("/.swarm/") == 1
    progress = f.of("progress", "t1")
    assert progress and all(e.data["n"] == i + 1 for i, e in enumerate(progress))
    exit_info = json.loads((P.agent_dir(git_repo, "t1", 1) / P.EXIT_FILE).read_text())
    assert exit_info["code"] == 0


def test_slow_passes(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"slow": fake("slow", pace=0.02)})
    f = start(fleets, git_repo, cfg, [task("s", "slow", verify=verify_command_for("slow", "s"))])
    assert f.wait_done()
    assert len(f.of("progress", "s")) > 10


def test_stall_is_stuck_killed_and_retried(git_repo: Path, fleets: list[Fleet]) -> None:
    # Quiet after two silent intervals, stuck after three; intervals of 2 s leave a slow start
    # (a loaded machine) 4 s before the first line, so the first health change is the stall's.
    cfg = fast_config({"stall": fake("stall", "--until-attempt", "1")},
                      heartbeat={"progress_interval": "2s", "quiet_after": 2, "stuck_after": 3})
    f = start(fleets, git_repo, cfg,
              [task("st", "stall", verify=verify_command_for("stall", "st"))])
    assert f.wait_done()
    healths = [e.data["health"] for e in f.of("health", "st")]
    assert healths[:2] == ["quiet", "stuck"]
    failed = f.of("attempt_failed", "st")
    assert failed[0].data["cause"] == "stuck" and failed[0].attempt == 1
    assert spawned_attempts(f, "st") == [1, 2]
    exit1 = json.loads((P.agent_dir(git_repo, "st", 1) / P.EXIT_FILE).read_text())
    assert exit1["signal"] in ("SIGTERM", "SIGKILL")
    # Kill before spawn: attempt 2 was spawned only after attempt 1 failed.
    seqs = {e.kind: e.seq for e in f.events if e.task == "st" and e.attempt == 1}
    assert f.of("attempt_spawned", "st")[1].seq > seqs["attempt_failed"]


def test_crash_retry_carries_handoff(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"crash": fake("crash", "--until-attempt", "1")})
    f = start(fleets, git_repo, cfg, [task("c", "crash", verify=verify_command_for("crash", "c"))])
    assert f.wait_done()
    first = f.of("attempt_failed", "c")[0]
    assert first.data["cause"] == "crashed" and "exit code 3" in first.data["reason"]
    prompt2 = (P.agent_dir(git_repo, "c", 2) / P.PROMPT_FILE).read_text()
    assert P.HANDOFF_HEADING in prompt2
    assert "exit code 3" in prompt2 and "swarm/c-1" in prompt2
    assert P.HANDOFF_HEADING not in (P.agent_dir(git_repo, "c", 1) / P.PROMPT_FILE).read_text()


def test_crash_every_time_goes_dead(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"crash": fake("crash")})
    f = start(fleets, git_repo, cfg, [task("c", "crash", max_attempts=2)])
    assert not f.wait_done()
    assert spawned_attempts(f, "c") == [1, 2]
    dead = f.of("task_dead", "c")
    assert dead and "2 failed attempts" in dead[0].data["reason"]


def test_loop_is_flagged_unproductive(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"loop": fake("loop", "--until-attempt", "1", "--max-loops", "120")},
                      heartbeat={"unproductive_after": 2})
    f = start(fleets, git_repo, cfg, [task("l", "loop", verify=verify_command_for("loop", "l"))])
    ev = f.wait_kind("health", "l", health="unproductive")
    assert ev.attempt == 1
    assert f.wait_done()
    assert "made no progress" in f.of("attempt_failed", "l")[0].data["reason"]


def test_fail_verify_once_then_fixed(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"fv": fake("fail-verify-once")})
    f = start(fleets, git_repo, cfg,
              [task("fv", "fv", verify=verify_command_for("fail-verify-once", "fv"))])
    assert f.wait_done()
    vf = f.of("verify_failed", "fv")
    assert len(vf) == 1 and vf[0].attempt == 1
    prompt2 = (P.agent_dir(git_repo, "fv", 2) / P.PROMPT_FILE).read_text()
    assert "verify failed" in prompt2
    assert (P.agent_dir(git_repo, "fv", 1) / P.VERIFY_LOG).exists()


def test_conflicting_scopes_never_run_together(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"cf": fake("conflict")})
    tasks = [task(t, "cf", files=("shared.txt",), verify=verify_command_for("conflict", t))
             for t in ("a", "b")]
    f = start(fleets, git_repo, cfg, tasks)
    assert f.wait_done()
    blocked = f.of("task_blocked", "b")
    assert blocked and blocked[0].data["reason"] == "scope overlaps a"
    a_done = f.of("verify_passed", "a")[0].seq
    assert f.of("attempt_spawned", "b")[0].seq > a_done


def test_inject_summary_is_recorded(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"inj": fake("inject")})
    f = start(fleets, git_repo, cfg, [task("i", "inj", verify=verify_command_for("inject", "i"))])
    assert f.wait_done()
    assert INJECTION_TEXT in f.of("results", "i")[0].data["summary"]
    flagged = f.of("text_quarantined", "i")  # the summary is the agent's claim; it is held
    assert len(flagged) == 1 and "override" in flagged[0].data["reasons"]  # from other prompts


def test_spawner_gets_two_and_is_refused_a_third(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"sp": fake("spawner", "--child-agent", "ok"), "ok": fake("success")},
                      slots={"subtree_budget": 2, "max_depth": 2})
    f = start(fleets, git_repo, cfg, [task("boss", "sp", role="orchestrator")])
    assert f.wait_done()
    children = [e.task for e in f.of("task_added") if e.data["spec"].get("parent") == "boss"]
    assert len(children) == 2
    refused = f.of("spawn_refused", "boss")
    assert len(refused) == 1 and "subtree budget" in refused[0].data["reason"]
    st = f.store.replay()
    assert all(str(st.tasks[c].state) == "passed" for c in children)
    assert all(st.tasks[c].spec.depth == 1 and st.tasks[c].spec.manual for c in children)
    results = json.loads((P.agent_dir(git_repo, "boss", 1) / P.RESULTS_FILE).read_text())
    assert "subtree budget" in results["summary"]


def test_spawn_refused_past_depth(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"sp": fake("spawner", "--child-agent", "ok"), "ok": fake("success")},
                      slots={"max_depth": 0})
    f = start(fleets, git_repo, cfg, [task("boss", "sp", role="orchestrator")])
    f.wait_done()
    refused = f.of("spawn_refused", "boss")
    assert len(refused) == 3 and all("max_depth" in e.data["reason"] for e in refused)
    st = f.store.replay()
    assert len(st.tasks) == 1 and str(st.tasks["boss"].state) == "dead"
    assert "needs an operator" in st.tasks["boss"].reason


# -- cross-cutting guarantees --------------------------------------------------------------------


def test_slot_cap_never_exceeded(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success", pace=0.1)},
                      slots={"max_agents": 2, "reserve": 0, "pools": {"worker": 5}})
    tasks = [task(f"t{i}", "ok") for i in range(6)]
    f = Fleet(git_repo, cfg, tasks)
    fleets.append(f)
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                panes = f.tmux.list_panes()
            except Exception:
                panes = {}
            samples.append(sum(1 for name in panes if name != "swarmtui" and
                               not panes[name].dead and name.startswith("t")))
            stop.wait(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    f.start()
    try:
        assert f.wait_done()
    finally:
        stop.set()
        th.join()
    assert max(samples) == 2, f"peak {max(samples)} over {len(samples)} samples"
    running = 0
    peak = 0
    for e in f.events:  # the log agrees: never more than two attempts hold slots
        if e.kind == "attempt_spawned":
            running += 1
        elif e.kind in ("verify_passed", "attempt_failed"):
            running -= 1
        peak = max(peak, running)
    assert peak <= 2


def test_dependencies_wait_for_pass(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success")})
    f = start(fleets, git_repo, cfg, [task("b", "ok", depends_on=("a",)), task("a", "ok")])
    assert f.wait_done()
    assert f.of("task_blocked", "b")[0].data["reason"].startswith("waiting for a")
    assert f.of("attempt_spawned", "b")[0].seq > f.of("verify_passed", "a")[0].seq


def test_dependency_death_kills_dependents(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"crash": fake("crash"), "ok": fake("success")})
    f = start(fleets, git_repo, cfg, [task("a", "crash", max_attempts=1),
                                      task("b", "ok", depends_on=("a",))])
    assert not f.wait_done()
    assert f.of("task_dead", "b")[0].data["reason"] == "dependency a is dead"
    assert not f.of("attempt_spawned", "b")


def test_kill_frees_slot_keeps_worktree(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"stall": fake("stall"), "ok": fake("success")},
                      heartbeat={"progress_interval": "30s"},
                      slots={"max_agents": 1, "pools": {"worker": 1}})
    f = start(fleets, git_repo, cfg, [task("s", "stall"), task("next", "ok")],
              exit_when_done=False)
    f.wait_kind("progress", "s")
    f.command("kill", task="s")
    f.wait_kind("command_applied", status="done", command="kill")
    failed = f.of("attempt_failed", "s")[0]
    assert failed.data["cause"] == "killed" and not failed.data["counts_attempt"]
    f.wait_kind("verify_passed", "next")  # the freed slot went to the next task
    f.wait_kind("agent_exited", "s")
    assert P.worktree_dir(git_repo, "s", 1).exists()
    assert f.state_of("s") == "failed" and not f.of("task_requeued", "s")
    # Nothing of the killed agent's process group survives.
    pid = json.loads((P.agent_dir(git_repo, "s", 1) / P.EXIT_FILE).read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    # Then the operator retries it with a note that reaches the next attempt's prompt.
    f.command("retry", task="s", note="look at the cache first")
    f.wait_event(lambda e: e.kind == "attempt_started" and e.task == "s" and e.attempt == 2,
                 timeout=20)
    assert "look at the cache first" in (P.agent_dir(git_repo, "s", 2) /
                                         P.PROMPT_FILE).read_text()


def test_breaker_opens_and_resume_closes(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"crash": fake("crash")}, breaker={"max_failures": 1, "period": "1m"},
                      retry={"max_attempts": 5},
                      slots={"max_agents": 1, "pools": {"worker": 1}})
    f = start(fleets, git_repo, cfg, [task("c1", "crash"), task("c2", "crash")],
              exit_when_done=False)
    opened = f.wait_kind("breaker_opened")
    assert "2 failures" in opened.data["reason"]
    spawned_before = len(f.of("attempt_spawned"))
    # While open, nothing spawns even though retries are due (watch it for several ticks).
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert len(f.of("attempt_spawned")) == spawned_before
        time.sleep(0.1)
    assert f.store.replay().breaker_open
    f.command("resume")
    f.wait_kind("dispatch_resumed")
    f.wait_event(lambda e: e.kind == "attempt_spawned" and e.seq > opened.seq)


def test_pause_stops_dispatch_without_touching_agents(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success", pace=0.3)},
                      slots={"max_agents": 1, "pools": {"worker": 1}})
    f = start(fleets, git_repo, cfg, [task("a", "ok"), task("b", "ok")], exit_when_done=False)
    f.wait_kind("attempt_spawned", "a")
    f.command("pause")
    f.wait_kind("dispatch_paused")
    f.wait_kind("verify_passed", "a")  # the running agent carried on
    assert not f.of("attempt_spawned", "b")
    f.command("resume")
    f.wait_kind("verify_passed", "b")


def test_orphan_agent_ends_itself(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"stall": fake("stall", "--until-attempt", "1")},
                      heartbeat={"orphan_timeout": "1500ms", "progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("o", "stall", verify=verify_command_for("stall", "o"))],
              exit_when_done=False)
    f.wait_kind("progress", "o")
    f.stop()  # the supervisor goes silent; the agent's wrapper must notice
    exit_file = P.agent_dir(git_repo, "o", 1) / P.EXIT_FILE
    wait_until(exit_file.exists, 20, "the orphaned agent to end itself")
    assert json.loads(exit_file.read_text())["how"] == "orphaned"
    # A new supervisor settles the attempt from exit.json and retries it.
    f2 = Fleet(git_repo, cfg, [])
    fleets.append(f2)
    f2.start()
    assert f2.wait_done()
    failed = f2.of("attempt_failed", "o")
    assert failed and failed[0].data["cause"] == "orphaned"


def _headless(repo: Path, tasks: Path, config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "swarmtui", "up", str(tasks), "--headless", "--repo", str(repo),
         "--config", str(config)], stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)


def _write_files(tmp: Path, agents: dict[str, list[str]], tasks_toml: str,
                 extra: str = "") -> tuple[Path, Path]:
    lines = ['[slots]\nmax_agents = 3\nreserve = 0\nmin_free_memory = "0"\n'
             '[slots.pools]\nworker = 3\n',
             '[heartbeat]\ntick = "100ms"\nprogress_interval = "2s"\norphan_timeout = "1m"\n',
             '[retry]\nbackoff = "200ms"\nbackoff_max = "1s"\n',
             f'[run]\ndefault_agent = "{next(iter(agents))}"\nkill_grace = "1s"\n', extra]
    for name, argv in agents.items():
        lines.append(f"[agents.{name}]\ncommand = {json.dumps(argv)}\n")
    cfg = tmp / "config.toml"
    cfg.write_text("\n".join(lines))
    tf = tmp / "tasks.toml"
    tf.write_text(tasks_toml)
    return cfg, tf


def test_supervisor_sigkill_recovery(git_repo: Path, tmux_socket: str, tmp_path: Path) -> None:
    agents = {"slow": fake("slow", pace=0.15)}
    toml = "".join(f'[[task]]\nid = "t{i}"\nprompt = "p{i}"\n' for i in range(3))
    cfg, tf = _write_files(tmp_path, agents, toml)
    p1 = _headless(git_repo, tf, cfg, tmp_path / "run1.log")
    try:
        # Every agent is alive in its pane (it has reported progress). A kill in the instant
        # between recording an attempt and opening its window is settled as crashed and
        # retried, by design; this test is about adopting live agents.
        wait_state(git_repo, lambda st: sum(str(t.state) == "running" and t.progress_lines > 0
                                            for t in st.tasks.values()) == 3, 30,
                   "three agents running with progress")
        os.killpg(p1.pid, signal.SIGKILL)
        p1.wait(10)
        p2 = _headless(git_repo, tf, cfg, tmp_path / "run2.log")
        assert p2.wait(120) == 0, (tmp_path / "run2.log").read_text()
    finally:
        for p in (p1,):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    store = Store(git_repo / P.SWARM_DIR / P.STATE_DB)
    events = store.events()
    assert len({e.seq for e in events}) == len(events)
    assert [e.kind for e in events].count("run_started") == 1
    assert any(e.kind == "attempt_adopted" for e in events)
    spawned = [(e.task, e.attempt) for e in events if e.kind == "attempt_spawned"]
    assert len(spawned) == len(set(spawned)), f"an attempt was spawned twice: {spawned}"
    st = store.replay()
    assert all(str(t.state) == "passed" for t in st.tasks.values())
    # Adopted agents ran to completion in their first attempt: nothing ran twice at once.
    reasons = [(e.task, e.attempt, e.data.get("reason")) for e in events
               if e.kind in ("attempt_failed", "attempt_adopted", "agent_exited")]
    assert all(t.attempt == 1 for t in st.tasks.values()), (spawned, reasons)


def test_tmux_server_killed_requeues(git_repo: Path, fleets: list[Fleet],
                                     tmux_socket: str) -> None:
    cfg = fast_config({"slow": fake("slow", pace=0.2)})
    f = start(fleets, git_repo, cfg, [task("a", "slow"), task("b", "slow")])
    f.wait_kind("progress", "a")
    f.wait_kind("progress", "b")
    subprocess.run(["tmux", "-S", tmux_socket, "kill-server"], check=True)
    # Who notices first varies: the next look at tmux (tmux_server_gone), or the wrappers'
    # exit records (they got SIGHUP). Either way both attempts are lost, not counted.
    for tid in ("a", "b"):
        f.wait_event(lambda e, tid=tid: e.kind == "attempt_failed" and e.task == tid)
    lost = [e for e in f.of("attempt_failed") if e.data["cause"] == "lost"]
    seen = [(e.task, e.attempt, e.data["cause"], e.data["reason"])
            for e in f.of("attempt_failed")]
    assert {e.task for e in lost} == {"a", "b"} and not any(e.data["counts_attempt"]
                                                          for e in lost), seen
    assert f.wait_done()
    assert spawned_attempts(f, "a") == [1, 2] and spawned_attempts(f, "b") == [1, 2]


def test_alerts_reach_notify_command_and_tmux_status(git_repo: Path, fleets: list[Fleet],
                                                     tmp_path: Path, tmux_socket: str) -> None:
    log = tmp_path / "alerts.log"
    script = tmp_path / "notify.sh"
    script.write_text(f'#!/bin/sh\necho "$SWARM_ALERT_KIND|$SWARM_ALERT_TASK|$SWARM_ALERT_TEXT" '
                      f'>> {log}\n')
    script.chmod(0o755)
    cfg = fast_config({"crash": fake("crash", "--until-attempt", "1")},
                      notify={"command": [str(script)]})
    f = start(fleets, git_repo, cfg, [task("c", "crash")], exit_when_done=False)
    f.wait_kind("verify_passed", "c")
    wait_until(lambda: "attempt_failed|c|" in (log.read_text() if log.exists() else ""), 10,
               "notify.command to see the failure")
    assert "crashed" in log.read_text()
    shown = [""]

    def status_line() -> str:
        shown[0] = subprocess.run(["tmux", "-S", tmux_socket, "show-options", "-t",
                                   f"={f.tmux.session}:", "@swarm_status"],
                                  capture_output=True, text=True).stdout
        return shown[0] if "slots" in shown[0] and "alert" in shown[0] else ""

    out = wait_until(status_line, 10, "@swarm_status to show the slots and the alert",
                     seen=lambda: shown[0])
    assert "/4" in out


def test_budget_stops_dispatch(git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    # A stand-in for Claude Code's stream-json: the claude adapter reads the cost from it.
    agent = tmp_path / "costly.py"
    agent.write_text(
        "import json, os\n"
        "open(os.environ['SWARM_PROGRESS_FILE'], 'a').write('2026-01-01T00:00:00 - working\\n')\n"
        "print(json.dumps({'type': 'result', 'subtype': 'success', 'total_cost_usd': 0.75,"
        " 'usage': {'input_tokens': 10, 'output_tokens': 5}}))\n"
        "json.dump({'status': 'done', 'summary': 'ok', 'files_modified': [],"
        " 'do_not_revert': False}, open(os.environ['SWARM_RESULTS_FILE'], 'w'))\n")
    cfg = fast_config({"c": [sys.executable, str(agent)]}, budget={"max_cost_usd": 1.0},
                      slots={"max_agents": 1, "pools": {"worker": 1}})
    cfg.agents["c"] = cfg.agents["c"].model_copy(update={"adapter": "claude"})
    f = start(fleets, git_repo, cfg, [task(f"t{i}", "c") for i in range(3)],
              exit_when_done=False)
    ev = f.wait_kind("budget_exhausted")
    assert ev.data["spent_usd"] >= 1.0
    assert len(f.of("attempt_spawned")) == 2  # the third never started
    st = f.store.replay()
    assert round(sum(t.cost_usd for t in st.tasks.values()), 2) == 1.5


LIMITED_AGENT = """
import json, os, re, sys, time
att = int(os.environ["SWARM_ATTEMPT"])
if att == 1:
    # What the real Claude Code printed when it hit a usage limit (recorded transcript), with
    # the reset time moved to two seconds from now.
    reset = int(time.time()) + 2
    for line in open(sys.argv[1]):
        print(re.sub(r'"resetsAt": ?\\d+', f'"resetsAt":{reset}', line.rstrip("\\n")),
              flush=True)
    sys.exit(1)
with open(os.environ["SWARM_AGENT_DIR"] + "/argv.json", "w") as f:
    json.dump(sys.argv[2:], f)
open(os.environ["SWARM_PROGRESS_FILE"], "a").write("2026-01-01T00:00:00 - resumed\\n")
tmp = os.environ["SWARM_RESULTS_FILE"] + ".tmp"
json.dump({"status": "done", "summary": "carried on"}, open(tmp, "w"))
os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
"""


def test_usage_limit_holds_dispatch_until_reset_and_resumes_the_session(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    transcript = Path(__file__).parent / "data" / "claude" / "usage_limit.jsonl"
    agent = tmp_path / "limited.py"
    agent.write_text(LIMITED_AGENT)
    cfg = fast_config({"c": [sys.executable, str(agent), str(transcript)]})
    cfg.agents["c"] = cfg.agents["c"].model_copy(update={"adapter": "claude"})
    f = start(fleets, git_repo, cfg, [task("t", "c")])
    limited = f.wait_kind("usage_limited", "t")
    assert limited.data["account"] == "c" and limited.data["limit_type"] == "five_hour"
    assert f.wait_done()
    failed = f.of("attempt_failed", "t")[0]
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]
    lifted = f.wait_kind("usage_limit_lifted")
    second = f.of("attempt_spawned", "t")[1]
    assert second.seq > lifted.seq and second.time >= limited.data["until"]
    # It continued its own session, in the same worktree, told to carry on.
    session = f.of("agent_session", "t")[0].data["session_id"]
    assert second.data["resumes"] == session
    assert second.data["worktree"] == f.of("attempt_spawned", "t")[0].data["worktree"]
    argv = json.loads((P.agent_dir(git_repo, "t", 2) / "argv.json").read_text())
    assert argv[-2:] == ["--resume", session] and "--settings" in argv
    assert "usage limit has lifted" in (P.agent_dir(git_repo, "t", 2) /
                                        P.PROMPT_FILE).read_text()
    print(f"reset to resumed attempt: {second.time - limited.data['until']:.2f} s")


def test_cancel_ends_agent_and_lets_the_run_finish(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"stall": fake("stall"), "ok": fake("success")},
                      heartbeat={"progress_interval": "30s"})
    f = start(fleets, git_repo, cfg, [task("s", "stall"), task("after", "ok", depends_on=("s",)),
                                      task("other", "ok")])
    f.wait_kind("progress", "s")
    f.command("cancel", task="s")
    assert not f.wait_done()  # finished (not all passed) instead of waiting on the operator
    st = f.store.replay()
    assert str(st.tasks["s"].state) == "cancelled"
    assert str(st.tasks["after"].state) == "dead" and "cancelled" in st.tasks["after"].reason
    assert str(st.tasks["other"].state) == "passed"
    assert f.of("attempt_failed", "s")[0].data["cause"] == "cancelled"
    f.wait_kind("agent_exited", "s")  # its process is gone, not left behind


def test_attempt_recorded_without_window_is_settled_as_lost(
        git_repo: Path, fleets: list[Fleet]) -> None:
    """The supervisor records an attempt before opening its window; if it dies in between,
    the next supervisor finds it never started, settles it as lost (not the task's fault, not
    counted) and retries it, so nothing is lost and nothing runs twice."""
    cfg = fast_config({"ok": fake("success")})
    f = Fleet(git_repo, cfg, [task("t", "ok")])
    fleets.append(f)
    assert f.lock.acquire()
    f.sup.open_run(f.tasks, "test")
    # Simulate the crash window: the session is up and the attempt is in the log, but its
    # window never opened.
    f.sup.runner.ensure_session()
    assert f.sup.ports is not None
    f.sup.ports.emit(p.AttemptSpawned(window="t-1", agent="ok", branch="swarm/t-1",
                                    worktree=str(P.worktree_dir(git_repo, "t", 1))), "t", 1)
    f.lock.release()
    f2 = Fleet(git_repo, cfg, [])
    fleets.append(f2)
    f2.start()
    assert f2.wait_done()
    failed = f2.of("attempt_failed", "t")
    assert failed and failed[0].attempt == 1 and failed[0].data["cause"] == "lost"
    assert not failed[0].data["counts_attempt"]
    assert [e.attempt for e in f2.of("attempt_spawned", "t")] == [2]
