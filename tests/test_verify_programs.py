"""A verify command whose program cannot run: named by validate, plan and doctor before a run,
and during a run a task fails at once (exit 126/127) with the shell's own message instead of
spending every attempt on it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet import Fleet, fake, fast_config, start, task

MISSING = "pytsetq"  # short: the status table shows the message whole


@pytest.mark.parametrize(("command", "programs"), [
    ("pytest -q", ["pytest"]),
    ("FOO=1 nosuch --x 2>/dev/null | wc -l", ["nosuch", "wc"]),
    ("! grep -rqF FAKE fake/ && test -f x", ["grep", "test"]),
    ("f() { inner; }; f", ["inner"]),
    ("exec runner --fast", ["exec", "runner"]),
    ("if true; then check; fi\nlast", ["true", "check", "last"]),
    ("python -m pytest > out.txt 2>&1", ["python"]),
    ("cat <<EOF\nnot a command\nEOF", ["cat"]),
    ("make &>log; (cd x && after)", ["make", "cd", "after"]),
    ("for x in a b; do nosuch; done", []),
    ("'unbalanced", []),
])
def test_programs_of_a_shell_command(command: str, programs: list[str]) -> None:
    from swarmtui.tasks.programs import shell_programs

    assert shell_programs(command) == programs


def test_only_what_can_be_known_is_reported(tmp_path: Path) -> None:
    from swarmtui.tasks.programs import missing_programs

    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    assert missing_programs(f"{MISSING} -q && grep x y") == [
        f"program '{MISSING}' not found on PATH"]
    assert missing_programs(f"{tmp_path}/gone arg") == [
        f"program '{tmp_path}/gone' does not exist"]
    assert missing_programs(f"{script}") == [f"program '{script}' is not executable"]
    # Expansions, relative paths (the worktree's), builtins and functions are left alone.
    assert missing_programs("$HOME/bin/x; ./run-tests; cd x && source env; g() { :; }; g") == []


def test_the_shells_message_for_a_program_it_cannot_run(tmp_path: Path) -> None:
    """126 (found, not executable) and 127 (not found) give the shell's message; any other
    failure, and a timeout, give none (those are the work's failures)."""
    from swarmtui.engine.runtime.shell import run_verify, unrunnable_message

    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    out = run_verify(f"echo working; {script}", tmp_path, timeout=30, tail_bytes=4000)
    assert out.code == 126 and "Permission denied" in unrunnable_message(out)
    assert not unrunnable_message(out).startswith("/bin/sh")
    out = run_verify(f"{MISSING}", tmp_path, timeout=30, tail_bytes=4000)
    assert out.code == 127 and unrunnable_message(out).startswith(f"{MISSING}: ")
    assert unrunnable_message(run_verify("exit 1", tmp_path, timeout=30, tail_bytes=99)) == ""


def _files(tmp_path: Path, verify: str) -> tuple[Path, Path]:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(f'[[task]]\nid = "good"\nprompt = "x"\nverify = "test -d ."\n\n'
                     f'[[task]]\nid = "typo"\nprompt = "y"\nverify = {json.dumps(verify)}\n')
    config = tmp_path / "config.toml"
    config.write_text(f'[run]\ndefault_agent = "a"\n[agents.a]\ncommand = '
                      f'{json.dumps([sys.executable, "-c", "pass"])}\n')
    return tasks, config


@pytest.mark.parametrize("command", ["validate", "plan", "doctor", "up"])
def test_validate_plan_and_doctor_name_the_task_and_the_program(
        git_repo: Path, tmp_path: Path, command: str) -> None:
    tasks, config = _files(tmp_path, f"{MISSING} -q tests/")
    extra = ["--headless"] if command == "up" else []  # `up` refuses before it starts anything
    out = subprocess.run([sys.executable, "-m", "swarmtui", command, str(tasks), *extra,
                          "--repo", str(git_repo), "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    lines = [ln for ln in text.splitlines() if MISSING in ln]
    assert lines, text
    assert all("task typo" in ln and str(tasks) in ln for ln in lines), lines
    assert "task good" not in text
    if command == "up":
        assert not (git_repo / ".swarm" / "state.db").exists(), "a run was started"


def test_a_clean_task_file_passes_validate(git_repo: Path, tmp_path: Path) -> None:
    tasks, config = _files(tmp_path, "grep -q x README.md || true")
    out = subprocess.run([sys.executable, "-m", "swarmtui", "validate", str(tasks), "--repo",
                          str(git_repo), "--config", str(config)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.e2e
def test_run_fails_the_task_once_with_the_shells_message(git_repo: Path,
                                                          fleets: list[Fleet]) -> None:
    cfg = fast_config({"ok": fake("success")})
    f = start(fleets, git_repo, cfg, [task("t", "ok", verify=f"test -d . && {MISSING} -q")],
              exit_when_done=False)
    f.wait_kind("attempt_failed", "t")
    # The loop applies a command only after the failure's step is over: anything that
    # failure decided (a requeue) is in the log by the time the command is answered.
    f.command("pause")
    f.wait_kind("command_applied", command="pause")
    spawned = f.of("attempt_spawned", "t")
    failed = f.of("attempt_failed", "t")
    assert len(spawned) == 1 and len(failed) == 1, f.summary()
    assert failed[0].data["cause"] == "verify_unrunnable", failed[0].data
    reason = failed[0].data["reason"]
    # dash says "pytsetq: not found", bash "pytsetq: command not found"
    assert re.fullmatch(f"verify cannot run: {MISSING}: (command )?not found \\(exit 127\\)",
                        reason), reason
    assert not f.of("task_requeued", "t")
    st = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--json", "--repo",
                         str(git_repo)], capture_output=True, text=True, timeout=60)
    row = json.loads(st.stdout)["tasks"][0]
    assert row["state"] == "failed" and MISSING in row["reason"] and "not found" in row["reason"]
    table = subprocess.run([sys.executable, "-m", "swarmtui", "status", "--repo",
                            str(git_repo)], capture_output=True, text=True, timeout=60)
    assert f"{MISSING}: " in table.stdout and "not found" in table.stdout, table.stdout
