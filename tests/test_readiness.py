"""The readiness check (a task's ``check`` command while its agent works) and scope drift:
the runner's bounds, the task key, the health they raise, end to end with real agents."""

from __future__ import annotations

import functools
from pathlib import Path

from swarmtui.cli.inspect import status_obj
from swarmtui.engine.health.classify import Verdict
from swarmtui.engine.health.drift import drifted
from swarmtui.engine.health.readiness import last_line
from swarmtui.engine.health.vitals import ContextLimits, overlay
from swarmtui.engine.runtime.shell import OUTPUT_CAP, run_check
from swarmtui.fake_agent import output_path
from swarmtui.model import Health, TaskSpec, TaskView
from swarmtui.model.readings import check_text, drift_text, health_text
from swarmtui.tasks import load_tasks
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.waiting import wait_until

LIMITS = ContextLimits(warn=0.6, act=0.8)


# -- running the command ------------------------------------------------------------------------


def test_a_passing_and_a_failing_check(tmp_path: Path) -> None:
    ok = run_check("echo building; echo built", tmp_path, timeout=30)
    assert ok.ok and ok.code == 0 and last_line(ok.output) == "built" and not ok.timed_out
    bad = run_check("echo '2 tests failed' >&2; echo; exit 3", tmp_path, timeout=30)
    assert not bad.ok and bad.code == 3 and last_line(bad.output) == "2 tests failed"


def test_it_runs_in_the_worktree(tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("here\n")
    assert run_check("cat marker", tmp_path, timeout=30).output == "here\n"


def test_a_check_that_runs_too_long_is_killed_with_everything_it_started(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    out = run_check(f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; echo waiting; wait",
                    tmp_path, timeout=1.0)
    assert out.timed_out and not out.ok and out.code is None
    assert last_line(out.output) == "waiting"
    for pid in (int(x) for x in pids.read_text().split()):
        # SIGKILLed; the kernel tears a process down a moment later on a busy machine.
        wait_until(functools.partial(gone, pid), 5, f"process {pid} to be gone")


def gone(pid: int) -> bool:
    return not running(pid)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for a reaper that may never come)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_its_output_is_bounded(tmp_path: Path) -> None:
    out = run_check("head -c 5000000 /dev/zero | tr '\\0' x; echo; echo the end", tmp_path,
                    timeout=60)
    assert out.ok and len(out.output.encode()) <= OUTPUT_CAP
    assert last_line(out.output) == "the end"


def test_a_command_that_cannot_start(tmp_path: Path) -> None:
    out = run_check("true", tmp_path / "missing", timeout=5)
    assert not out.ok and out.error.startswith("could not start")


# -- the task key, the health ---------------------------------------------------------------------


def test_check_is_a_task_key(tmp_path: Path) -> None:
    f = tmp_path / "tasks.toml"
    f.write_text('[[task]]\nid = "a"\nprompt = "do a"\ncheck = "make -q lint"\n')
    (spec,) = load_tasks(f, roles={"worker"}, agents={"claude"}, default_role="worker",
                         default_agent="claude")
    assert spec.check == "make -q lint"
    assert TaskSpec.from_dict(spec.to_dict()) == spec


def view(check: dict[str, object] | None = None, drift: list[str] | None = None) -> TaskView:
    t = TaskView(spec=TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    t.check, t.drift = check, drift or []
    return t


def test_a_failing_check_comes_before_context_and_says_its_last_line() -> None:
    t = view({"ok": False, "line": "FAILED tests/test_x.py::test_y - assert 1 == 2",
              "code": 1})
    t.context_pct, t.context_tokens, t.context_window = 90.0, 180_000, 200_000
    v = overlay(Verdict(Health.UNPRODUCTIVE, {}), t, LIMITS)
    assert v.health == Health.CHECK_FAILING
    assert v.evidence["note"] == "check failing: FAILED tests/test_x.py::test_y - assert 1 == 2"
    t.health = Health.CHECK_FAILING
    assert health_text(t).startswith("check failing: FAILED")
    stuck = Verdict(Health.STUCK, {})
    assert overlay(stuck, t, LIMITS) is stuck
    assert check_text(view({"ok": True, "line": "fine"})) == ""
    assert check_text(view({"ok": False, "line": "", "timed_out": True})) == (
        "check failing: timed out")
    assert len(check_text(view({"ok": False, "line": "x" * 500}))) < 100


# -- drift -----------------------------------------------------------------------------------------


def test_drift_reads_globs_as_the_merge_does() -> None:
    changed = ["src/a.py", "src/deep/b.py", "docs/x.md", "README.md", "tests/t.py"]
    assert drifted(changed, ("src/*", "tests/")) == ["README.md", "docs/x.md"]
    assert drifted(changed, ()) == []  # no declared scope: nothing drifts
    assert drifted(changed, (".",)) == []


def test_the_drift_note_names_the_files() -> None:
    assert drift_text(view(drift=["a.py"])) == "outside its scope: a.py"
    t = view(drift=["a", "b", "c", "d", "e"])
    assert drift_text(t) == "outside its scope: a, b, c (+2)"
    assert health_text(t) == "ok; outside its scope: a, b, c (+2)"


# -- end to end ------------------------------------------------------------------------------------


def test_a_failing_check_marks_the_attempt_until_it_passes(git_repo: Path,
                                                          fleets: list[Fleet]) -> None:
    check = 'test -f ready.txt || { echo "collecting"; echo "ready.txt is missing"; exit 1; }'
    cfg = fast_config({"loop": fake("loop", "--max-loops", "0")},
                      heartbeat={"check_every": 1, "check_timeout": "20s",
                                 "progress_interval": "2s", "quiet_after": 3,
                                 "stuck_after": 10, "unproductive_after": 1000})
    f = start(fleets, git_repo, cfg, [task("c", "loop", check=check)], exit_when_done=False)
    health = f.wait_kind("health", "c", health="check_failing")
    assert health.data["evidence"]["note"] == "check failing: ready.txt is missing"
    assert health.data["evidence"]["check"] == "ready.txt is missing"
    ran = [e for e in f.of("check_ran", "c") if e.attempt == health.attempt]
    assert ran and not ran[0].data["ok"] and ran[0].data["code"] == 1
    row = next(r for r in status_obj(git_repo, cfg, f.store, f.sup.state)["tasks"])
    assert row["check"]["ok"] is False and row["health_text"] == (
        "check failing: ready.txt is missing")
    wt = Path(f.sup.state.attempts[f"c-{health.attempt}"].worktree)
    (wt / "ready.txt").write_text("yes\n")
    f.wait_kind("check_ran", "c", ok=True)
    back = f.wait_event(lambda e: e.kind == "health" and e.task == "c"
                        and e.data["health"] != "check_failing" and e.seq > health.seq)
    assert back.data["health"] == "ok"
    assert f.sup.state.tasks["c"].check is not None


def test_drift_from_the_declared_scope_is_a_note_naming_the_files(git_repo: Path,
                                                                 fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success")})
    f = start(fleets, git_repo, cfg, [task("d", "ok", files=("src/*",)),
                                      task("in", "ok", files=("fake/**",))])
    assert f.wait_done(), f.summary()
    drift = f.of("scope_drift", "d")
    assert drift and drift[-1].data["files"] == [output_path("d")]
    assert drift[-1].data["count"] == 1
    assert f.sup.state.tasks["d"].drift == [output_path("d")]
    assert not f.of("scope_drift", "in")  # within its scope: nothing to say
    row = next(r for r in status_obj(git_repo, cfg, f.store, f.sup.state)["tasks"]
               if r["id"] == "d")
    assert row["drift"] == [output_path("d")]
    assert row["health_text"].endswith(f"outside its scope: {output_path('d')}")
