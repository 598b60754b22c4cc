"""The interactive mode's parts, in process: the config and task keys with their errors, the
command line and the CLI's first-run answers, the transcript follower, the hooks' reading
(waiting for you), and the watchdog on a fake clock never calling a waiting session stuck."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.adapters.claude_interactive import (
    first_run,
    interactive_argv,
    prompt_argument,
    settings,
)
from swarmtui.engine.adapters.claude_launch import Permissions
from swarmtui.engine.attempts.modes import interactive, mode_of, mode_problems
from swarmtui.engine.wrapper.firstrun import prepare
from swarmtui.engine.wrapper.sessionfile import SessionFile, as_stream, turn_ended
from swarmtui.errors import ConfigError, TaskFileError
from swarmtui.model import Health, NoteKind, TaskSpec, TaskState
from swarmtui.tasks import load_tasks
from tests.standins import Engine, FakeClock

T0 = 5_000.0
HEADLESS = ["claude", "-p", "--output-format", "stream-json", "--verbose",
            "--include-partial-messages", "--model", "opus"]


def spec(**kw: object) -> TaskSpec:
    return TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude", **kw)  # type: ignore[arg-type]


def cfg(**data: object) -> Config:
    base: dict[str, object] = {"slots": {"min_free_memory": "0", "reserve": 0}}
    return config_from_dict({**base, **data}, "test")


# --- config and task files ----------------------------------------------------------------


def test_a_task_or_its_role_sets_the_mode_and_the_task_wins() -> None:
    c = cfg(roles={"worker": {"mode": "interactive"}})
    assert mode_of(c, spec()) == "interactive"
    assert mode_of(c, spec(mode="stream")) == "stream"
    assert mode_of(cfg(), spec()) == "stream"
    assert interactive(c, spec(), "claude")


def test_a_role_mode_that_is_not_a_mode_names_the_key_and_the_values() -> None:
    with pytest.raises(ConfigError) as info:
        cfg(roles={"worker": {"mode": "screen"}})
    assert "roles.worker.mode" in str(info.value)
    assert "'stream' or 'interactive'" in str(info.value) and "'screen'" in str(info.value)


def test_a_task_mode_that_is_not_a_mode_names_the_key_and_the_values(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text('[[task]]\nid = "a"\nprompt = "x"\nmode = "screen"\n')
    with pytest.raises(TaskFileError) as info:
        load_tasks(path, roles={"worker"}, agents={"claude"}, default_role="worker",
                   default_agent="claude")
    assert 'task "a": key "mode": expected one of "stream", "interactive", got "screen"' in str(
        info.value)
    path.write_text('[[task]]\nid = "a"\nprompt = "x"\nmode = "interactive"\n')
    [t] = load_tasks(path, roles={"worker"}, agents={"claude"}, default_role="worker",
                     default_agent="claude")
    assert t.mode == "interactive"


def test_an_adapter_without_a_screen_is_refused_naming_the_key() -> None:
    c = cfg(agents={"codex": {"command": ["codex", "exec", "--json", "-"], "adapter": "codex"}},
            roles={"worker": {"mode": "interactive"}}, run={"default_agent": "codex"})
    [why] = mode_problems(c, [TaskSpec(id="a", title="a", prompt="p", role="worker",
                                       agent="codex")])
    assert why.startswith("task 'a': key `roles.worker.mode` (its role's): \"interactive\"")
    assert "only the claude adapter can; agent 'codex' runs the codex adapter" in why
    [why] = mode_problems(c, [TaskSpec(id="b", title="b", prompt="p", role="worker",
                                       agent="codex", mode="interactive")])
    assert "key `mode`" in why
    assert mode_problems(c, [TaskSpec(id="c", title="c", prompt="p", role="worker",
                                      agent="claude")]) == []
    assert not interactive(c, TaskSpec(id="a", title="a", prompt="p", role="worker",
                                       agent="codex"), "codex")


# --- the command line and the first run ---------------------------------------------------


def test_the_screen_runs_the_command_without_what_makes_it_headless() -> None:
    assert interactive_argv(HEADLESS) == ["claude", "--model", "opus"]
    assert interactive_argv(["claude", "--print", "--output-format=json", "--input-format",
                             "stream-json", "--permission-prompt-tool", "stdio"]) == ["claude"]
    assert prompt_argument("do it", "/p.md") == "do it"
    assert "/p.md" in prompt_argument("x" * 200_000, "/p.md")
    assert settings({}, Permissions(mode="bypassPermissions"))[
        "skipDangerousModePermissionPrompt"] is True


def test_first_run_answers_only_what_is_missing() -> None:
    mine = {"theme": "light", "customApiKeyResponses": {"approved": [], "rejected": [
        "k" * 20]}, "projects": {"/w": {"allowedTools": ["Read"]}}, "numStartups": 7}
    out = first_run(mine, folders=["/w", "/a"], api_key="sk-ant-" + "k" * 20,
                    mode="acceptEdits")
    assert out["hasCompletedOnboarding"] is True and out["theme"] == "light"
    assert out["projects"]["/w"] == {"allowedTools": ["Read"], "hasTrustDialogAccepted": True}
    assert out["projects"]["/a"] == {"hasTrustDialogAccepted": True}
    assert out["customApiKeyResponses"] == {"approved": [], "rejected": ["k" * 20]}
    assert out["numStartups"] == 7 and "bypassPermissionsModeAccepted" not in out
    fresh = first_run({}, folders=["/w"], api_key="sk-ant-api03-0123456789abcdefghij",
                      mode="bypassPermissions")
    assert fresh["customApiKeyResponses"]["approved"] == ["0123456789abcdefghij"]
    assert fresh["theme"] == "dark" and fresh["bypassPermissionsModeAccepted"] is True


def test_the_config_file_is_written_in_place_and_one_not_json_is_left_alone(
        tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    env = {"CLAUDE_CONFIG_DIR": str(conf), "ANTHROPIC_API_KEY": "sk-" + "z" * 30}
    wt = tmp_path / "wt"
    wt.mkdir()
    assert prepare(env, ["claude", "--add-dir", str(tmp_path)], str(wt), "acceptEdits") is None
    data = json.loads((conf / ".claude.json").read_text())
    assert data["projects"][str(wt)]["hasTrustDialogAccepted"] is True
    assert data["projects"][str(tmp_path)]["hasTrustDialogAccepted"] is True
    assert oct((conf / ".claude.json").stat().st_mode & 0o777) == "0o600"
    (conf / ".claude.json").write_text("{not json")
    why = prepare(env, ["claude"], str(wt), "acceptEdits")
    assert why is not None and "not JSON" in why
    assert (conf / ".claude.json").read_text() == "{not json"
    assert prepare({"HOME": str(tmp_path / "h")}, ["claude"], str(wt), "default") is None
    assert (tmp_path / "h" / ".claude.json").is_file()


# --- the transcript -------------------------------------------------------------------------


def test_the_transcript_is_found_by_its_session_and_read_in_whole_lines(tmp_path: Path) -> None:
    folder = tmp_path / ".claude" / "projects" / "-w"
    folder.mkdir(parents=True)
    f = SessionFile({"HOME": str(tmp_path)}, "s1")
    assert f.new_lines() == []
    path = folder / "s1.jsonl"
    answer = {"type": "assistant", "message": {"id": "m1", "stop_reason": "end_turn"}}
    path.write_text(json.dumps({"type": "user"}) + "\n" + "[" * 100 + "]" * 100 + "\n"
                    + json.dumps(answer)[:10])
    assert [o["type"] for _, o in f.new_lines()] == ["user"]  # too deep: skipped; half: later
    with open(path, "a") as out:
        out.write(json.dumps(answer)[10:] + "\n")
    [(_, obj)] = f.new_lines()
    assert turn_ended(obj) and not turn_ended({"type": "assistant", "isSidechain": True,
                                               "message": {"stop_reason": "end_turn"}})
    resumed = SessionFile({"HOME": str(tmp_path)}, "s1")
    resumed.skip_written()  # a resumed session appends: the earlier runs are not read again
    assert resumed.new_lines() == []
    os.symlink(path, folder / "s2.jsonl")
    assert SessionFile({"HOME": str(tmp_path)}, "s2").new_lines() == []  # never a link


def test_a_usage_limit_in_the_transcript_reads_as_the_stream_says_it() -> None:
    line = {"type": "assistant", "error": "rate_limit", "apiError": "usage_limit_reached",
            "apiErrorParams": {"rate_limit_info": {"status": "rejected", "resetsAt": 99}}}
    obj = json.loads(as_stream(json.dumps(line), line))
    assert obj["api_error"] == "usage_limit_reached"
    assert obj["api_error_params"]["rate_limit_info"]["resetsAt"] == 99
    plain = json.dumps({"type": "user"})
    assert as_stream(plain, {"type": "user"}) is plain


# --- waiting for you ---------------------------------------------------------------------------


def running(tmp: Path, mode: str) -> Engine:
    c = cfg(heartbeat={"progress_interval": "10s", "quiet_after": 2, "stuck_after": 3},
            roles={"worker": {"mode": mode}})
    e = Engine(tmp, c, clock=FakeClock(T0))
    e.add(TaskSpec(id="t", title="t", prompt="p", role="worker", agent="claude"))
    e.tick()
    assert e.events("attempt_spawned")[0].data["interactive"] is (mode == "interactive")
    return e


def hook(e: Engine, event: str, at: float = 0.0) -> None:
    with open(e.runner.agent_dir("t", 1) / P.SIGNALS_FILE, "a") as f:
        f.write(json.dumps({"kind": "hook", "event": event, "at": at, "t": 0}) + "\n")
    e.at(e.clock.now + 5.0)  # the sweep reads it


def test_an_interactive_session_waiting_for_you_is_never_stuck(tmp_path: Path) -> None:
    e = running(tmp_path, "interactive")
    hook(e, "Stop", at=T0 + 2)
    t = e.task("t")
    assert (t.note_kind, t.note) == (NoteKind.WAITING_INPUT, "waiting for you")
    # The last tool's hook, fired before the Stop, whose reader wrote its line after it.
    hook(e, "PostToolUse", at=T0 + 1)
    assert e.task("t").note == "waiting for you"
    e.at(T0 + 3600)  # an hour of silence at its prompt
    t = e.task("t")
    assert t.state == TaskState.RUNNING and t.health == Health.OK
    assert e.runner.ended() == [] and not e.events("attempt_failed")
    # The operator answers on its screen: it works again, and silence counts again.
    hook(e, "UserPromptSubmit", at=T0 + 3600)
    assert e.task("t").note_kind is None
    e.at(e.clock.now + 30)
    assert e.task("t").health == Health.STUCK and e.events("attempt_failed")
    assert e.replays()


def test_a_headless_session_that_stopped_is_stuck_as_before(tmp_path: Path) -> None:
    e = running(tmp_path, "stream")
    hook(e, "Stop")
    assert e.task("t").note == "stopped"
    e.at(e.clock.now + 30)
    assert e.task("t").health == Health.STUCK


def test_an_interactive_session_ended_on_its_screen_without_results_waits_for_you() -> None:
    from swarmtui.engine.attempts.outcomes import exit_verdict
    from swarmtui.model import Cause, ExitHow
    from swarmtui.model import payloads as pl

    clean = pl.AgentExited(how=ExitHow.EXITED, code=0)
    assert exit_verdict(clean, interactive=True).cause == Cause.KILLED
    assert exit_verdict(clean).cause == Cause.CRASHED  # headless: as before
    assert exit_verdict(pl.AgentExited(how=ExitHow.EXITED, code=1),
                        interactive=True).cause == Cause.CRASHED
