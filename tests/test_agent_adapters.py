"""Reading Codex CLI's and Gemini CLI's own output (engine.adapters.codex, .gemini) and the
causes decided from it (engine.outcomes), on transcripts recorded from the real CLIs
(tests/data/codex, tests/data/gemini; regenerate with tests/agent_record.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from swarmtui.engine.adapters import adapter_for, capabilities
from swarmtui.engine.adapters.apierrors import reset_from_text
from swarmtui.engine.adapters.base import Adapter, Can
from swarmtui.engine.adapters.launch import session_tokens
from swarmtui.engine.attempts.liveness import exit_payload
from swarmtui.engine.attempts.outcomes import exit_verdict
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import Cause
from swarmtui.model import payloads as p

DATA = Path(__file__).parent / "data"


def meta(cli: str, name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / cli / f"{name}.meta.json").read_text()))


def replay(cli: str, name: str, extra: dict[str, Any] | None = None,
           ) -> tuple[Adapter, list[dict[str, Any]]]:
    a = adapter_for(cli, {"model": "gpt-5.5", **(extra or {})} if cli == "codex" else extra)
    signals: list[dict[str, Any]] = []
    for line in (DATA / cli / f"{name}.jsonl").read_text().splitlines():
        signals += a.observe(line)
    return a, signals


def exited(a: Adapter, code: int | None) -> p.AgentExited:
    a.exited(code)
    return exit_payload(ExitRecord(how="exited", code=code, signal=None,
                                   data={"how": "exited", "code": code, **a.usage()}))


def verdict(cli: str, name: str) -> tuple[p.AgentExited, Any]:
    a, _ = replay(cli, name)
    pl = exited(a, meta(cli, name)["exit_code"])
    return pl, exit_verdict(pl, adapter=cli)


def billed(cli: str, name: str) -> dict[str, dict[str, int]]:
    return {m: dict(u) for m, u in meta(cli, name)["billed"].items()}


# -- tokens ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cli", ["codex", "gemini"])
def test_tokens_per_model_are_what_the_server_billed(cli: str) -> None:
    a, _ = replay(cli, "success")
    pl = exited(a, 0)
    (model, b), = billed(cli, "success").items()
    u = pl.models[model]
    # input excludes the cached part (priced apart); output includes reasoning / thinking.
    assert (u.input, u.cache_read, u.output) == (b["input"] - b["cached"], b["cached"],
                                                 b["output"])
    assert pl.tokens == b["input"] + b["output"]
    assert pl.outcome is None and pl.usage_limited_until is None


def test_a_resumed_codex_thread_counts_only_its_own_run() -> None:
    first, _ = replay("codex", "resume")
    before = exited(first, 0)
    # Codex's totals cover the whole thread: the second run is told what the first used.
    second, signals = replay("codex", "resume.resumed",
                             {"session_tokens": session_tokens([before])})
    after = exited(second, 0)
    b1, b2 = billed("codex", "resume")["gpt-5.5"], billed("codex", "resume.resumed")["gpt-5.5"]
    assert before.tokens == b1["input"] + b1["output"]
    assert after.tokens == (b2["input"] + b2["output"]) - (b1["input"] + b1["output"])
    assert after.session_id == before.session_id
    assert signals[0]["session_id"] == before.session_id


def test_a_resumed_codex_thread_without_its_baseline_counts_the_earlier_run_twice() -> None:
    """What the baseline prevents (and why spawn passes it)."""
    second, _ = replay("codex", "resume.resumed")
    b2 = billed("codex", "resume.resumed")["gpt-5.5"]
    assert exited(second, 0).tokens == b2["input"] + b2["output"]


# -- signals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cli", ["codex", "gemini"])
def test_session_and_activity_become_typed_signals(cli: str) -> None:
    _, signals = replay(cli, "success")
    payloads = [signal_payload(s, 10) for s in signals]
    assert all(pl is not None for pl in payloads), signals
    kinds = [type(pl) for pl in payloads]
    assert kinds[0] is p.AgentSession and p.AgentActivity in kinds
    assert payloads[0].session_id  # type: ignore[union-attr]


def test_codex_retries_are_signs_of_life_with_their_status() -> None:
    _, signals = replay("codex", "rate_429_then_ok")
    retries = [s for s in signals if s["kind"] == "api_retry"]
    assert [(s["attempt"], s["max_retries"], s["status"]) for s in retries] == [(1, 1, 429)]
    assert isinstance(signal_payload(retries[0], 0), p.ApiRetry)
    a, _ = replay("codex", "rate_429_then_ok")
    assert exited(a, 0).outcome is None  # it recovered: nothing failed


def test_a_gemini_tool_left_out_by_the_approval_mode_is_a_denial() -> None:
    a, signals = replay("gemini", "auto_edit")
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    assert {s["tool"] for s in denied} == {"run_shell_command"}
    pl = exited(a, 0)
    # Each denial names the --allowed-tools rule that would have let it run.
    assert pl.outcome is not None and pl.outcome.denials == [
        "run_shell_command(echo)", "run_shell_command(git add)"]
    assert exit_verdict(pl, adapter="gemini").cause == Cause.NEEDS_PERMISSION


def test_a_gemini_shell_command_no_rule_covers_is_a_denial_naming_its_rule() -> None:
    a, signals = replay("gemini", "auto_edit_git_denied")
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    assert [(s["tool"], s["rule"]) for s in denied] == [
        ("run_shell_command", "run_shell_command(git add)")]
    v = exit_verdict(exited(a, 0), adapter="gemini")
    assert v.cause == Cause.NEEDS_PERMISSION and "run_shell_command(git add)" in v.reason
    # The rules swarmtui would pass let the same calls run (recorded with them).
    _, ok = replay("gemini", "auto_edit_allowed_git")
    assert not [s for s in ok if s["kind"] == "permission_denied"]


# -- error classes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("cli", "name", "cause", "status"), [
    ("codex", "auth_401", Cause.API_AUTH, 401),
    ("codex", "rate_429_forever", Cause.API_RATE_LIMITED, 429),
    ("codex", "server_500", Cause.API_SERVER, 500),
    ("codex", "overloaded_503", Cause.API_OVERLOADED, 503),
    ("codex", "context_too_long", Cause.API_CONTEXT_TOO_LONG, None),
    ("codex", "quota_429", Cause.USAGE_LIMITED, 429),
    ("codex", "usage_limit", Cause.USAGE_LIMITED, 429),
    ("gemini", "auth_400_bad_key", Cause.API_AUTH, 400),
    ("gemini", "auth_401", Cause.API_AUTH, 401),
    ("gemini", "quota_daily", Cause.USAGE_LIMITED, 429),
    ("gemini", "rate_429_forever", Cause.API_RATE_LIMITED, 429),
    ("gemini", "server_500", Cause.API_SERVER, 500),
    ("gemini", "overloaded_503", Cause.API_OVERLOADED, 503),
    ("gemini", "context_too_long", Cause.API_CONTEXT_TOO_LONG, 400),
])
def test_each_api_error_is_named_by_its_class(cli: str, name: str, cause: Cause,
                                              status: int | None) -> None:
    if not (DATA / cli / f"{name}.jsonl").exists():
        pytest.fail(f"transcript {cli}/{name} not recorded (tests/agent_record.py)")
    pl, v = verdict(cli, name)
    assert v.cause == cause, (v, pl.outcome)
    assert pl.outcome is not None and pl.outcome.api_status == status
    if cause == Cause.API_AUTH:
        assert v.hold_agent
        assert ("OPENAI_API_KEY" if cli == "codex" else "GEMINI_API_KEY") in v.reason


def test_a_codex_usage_limit_waits_for_the_clock_time_it_names() -> None:
    pl, _ = verdict("codex", "usage_limit")
    assert pl.limit_type == "usage_limit"
    assert pl.outcome is not None
    said = reset_from_text(pl.outcome.message)
    assert said is not None and pl.usage_limited_until == said
    assert time.time() < said <= time.time() + 86400


@pytest.mark.parametrize(("cli", "name"), [("codex", "quota_429"), ("gemini", "quota_daily")])
def test_a_limit_that_names_no_reset_gets_the_fallback_wait(cli: str, name: str) -> None:
    t0 = time.time()
    pl, _ = verdict(cli, name)
    assert pl.limit_type.endswith("no_reset")
    assert pl.usage_limited_until is not None
    assert t0 + 29 * 60 <= pl.usage_limited_until <= time.time() + 31 * 60


def test_clock_times_are_read_as_their_next_local_occurrence() -> None:
    morning = datetime(2026, 12, 7, 9, 0).timestamp()
    assert reset_from_text("try again at 10:43 AM.", morning) == datetime(
        2026, 12, 7, 10, 43).timestamp()
    evening = datetime(2026, 12, 7, 23, 0).timestamp()
    assert reset_from_text("try again at 7:37 AM", evening) == datetime(
        2026, 12, 8, 7, 37).timestamp()
    assert reset_from_text("try again at 12:05 PM", morning) == datetime(
        2026, 12, 7, 12, 5).timestamp()
    # A time in the minute now running is due at that minute's end, not tomorrow.
    assert reset_from_text("try again at 9:00 AM", morning + 20) == morning + 60
    assert reset_from_text("try again in 20 minutes", morning) == morning + 1200
    assert reset_from_text("try again at 25:99", morning) is None
    assert reset_from_text("try again later", morning) is None


# -- hostile lines and capabilities ------------------------------------------------------------

@pytest.mark.parametrize("cli", ["codex", "gemini"])
def test_hostile_lines_never_raise(cli: str) -> None:
    a = adapter_for(cli)
    for line in ['{"type": "turn.completed", "usage": {"input_tokens": NaN}}',
                 '{"type": "result", "status": "error", "error": "x", "stats": {"models": '
                 '{"m": {"input_tokens": Infinity, "output_tokens": -5}}}}',
                 '{"type": "thread.started", "thread_id": ["x"]}', "[1, 2]", "{not json",
                 '{"type": "tool_result", "status": "error", "error": {"type": 3}}',
                 '{"type": "error", "message": "Reconnecting... 99999999999999999999/1 (x)"}',
                 "{" + "x" * (5 * 1024 * 1024)]:
        a.observe(line)
    a.exited(300)
    exited(a, 300)


def test_capabilities_say_what_each_cli_cannot_do() -> None:
    assert Can.COST not in capabilities("codex") and Can.COST not in capabilities("gemini")
    assert Can.CONTEXT_FILL in capabilities("codex")  # from its session file
    assert Can.CONTEXT_FILL not in capabilities("gemini")
    assert Can.RESUME in capabilities("codex") & capabilities("gemini")
    assert Can.LIMIT_RESET not in capabilities("gemini")
    assert capabilities("generic") == frozenset()
    assert capabilities("claude") == frozenset(Can)


def test_a_resumed_gemini_session_reports_only_its_own_run() -> None:
    first, _ = replay("gemini", "resume")
    second, signals = replay("gemini", "resume.resumed")
    b1, both = billed("gemini", "resume")[GEMINI], billed("gemini", "resume.resumed")[GEMINI]
    assert exited(first, 0).tokens == b1["input"] + b1["output"]
    # The stand-in billed both runs; Gemini's stats are per process: no baseline needed.
    assert exited(second, 0).tokens == (both["input"] + both["output"]) - (
        b1["input"] + b1["output"])
    assert signals[0]["session_id"] == first.usage()["session_id"]


GEMINI = "gemini-2.5-pro"


# -- launch ------------------------------------------------------------------------------------

def test_codex_launch_sets_the_policy_and_resumes_with_exec_resume() -> None:
    from swarmtui.engine.adapters.codex_launch import BYPASS, CodexPolicy, argv_for, model_of
    cmd = ["codex", "exec", "--json", "--sandbox", "workspace-write", "--add-dir", "/x",
           "-m", "gpt-5.5", "-"]
    assert model_of(cmd) == "gpt-5.5"
    assert model_of(["codex", "exec", "-c", 'model="o9"']) == "o9"
    boxed = argv_for(cmd, CodexPolicy(sandbox=True), agent_dir="/a", resume_session=None)
    assert boxed[:3] == ["codex", "exec", BYPASS]
    own = argv_for(["codex", "exec", "--json"], CodexPolicy(), agent_dir="/a",
                   resume_session=None)
    assert 'sandbox_workspace_write.writable_roots=["/a"]' in own
    # `exec resume` refuses --sandbox and --add-dir: they go, the -c overrides carry the policy.
    resumed = argv_for(cmd, CodexPolicy(), agent_dir="/a", resume_session="t-1")
    assert resumed[:4] == ["codex", "exec", "resume", "t-1"]
    assert "--sandbox" not in resumed and "--add-dir" not in resumed and "/x" not in resumed
    assert resumed[-3:] == ["-m", "gpt-5.5", "-"]


def test_gemini_launch_sets_the_approval_mode_trust_folders_and_resume() -> None:
    from swarmtui.engine.adapters.gemini_launch import GeminiPolicy, argv_for
    cmd = ["gemini", "--output-format", "stream-json"]
    out = argv_for(cmd, GeminiPolicy(), agent_dir="/a", resume_session="s-1")
    assert out[out.index("--approval-mode") + 1] == "auto_edit"
    assert "--skip-trust" in out and out[out.index("--include-directories") + 1] == "/a"
    assert out[-2:] == ["--resume", "s-1"]
    from swarmtui.engine.adapters.gemini_launch import allowed_tools
    assert allowed_tools(("Read", "Edit", "Bash(git commit:*)", "Bash(ls:*)",
                          "run_shell_command(make test)", "write_file", "Bash(rm -rf /)")) == [
        "run_shell_command(git commit)", "run_shell_command(ls)",
        "run_shell_command(make test)", "write_file", "run_shell_command(rm -rf /)"]
    ruled = argv_for(cmd, GeminiPolicy(allow=("Bash(git add:*)",)), agent_dir="/a",
                     resume_session=None)
    assert ruled[ruled.index("--allowed-tools") + 1] == "run_shell_command(git add)"
    yolo = argv_for(cmd, GeminiPolicy(mode="bypassPermissions"), agent_dir="/a",
                    resume_session=None)
    assert yolo[yolo.index("--approval-mode") + 1] == "yolo" and "--resume" not in yolo


def test_validate_names_what_a_codex_or_gemini_command_lacks() -> None:
    from swarmtui.cli.inspect import unattended_problems
    from tests.fleet import fast_config
    cfg = fast_config({"cx": ["codex", "--json"], "gm": ["gemini", "-m", "x"],
                       "ok": ["codex", "exec", "--json", "-"]})
    for name, adapter in (("cx", "codex"), ("gm", "gemini"), ("ok", "codex")):
        cfg.agents[name] = cfg.agents[name].model_copy(update={"adapter": adapter})
    problems = unattended_problems(cfg, {"cx", "gm", "ok"})
    assert problems == [
        'agents.cx.command: Codex runs unattended only as `codex exec`; add "exec"',
        'agents.gm.command: add "--output-format", "stream-json" (swarmtui reads Gemini '
        "CLI's JSON events)"]


def test_version_verdicts_against_the_tested_cli() -> None:
    from swarmtui.engine.adapters.versions import verdict
    assert verdict("codex", "codex-cli 0.171.0") == ("ok", "codex-cli 0.171.0 (tested with "
                                                      "0.171.0)")
    assert verdict("gemini", "0.58.2")[0] == "warn" and "older than 0.61.0" in verdict(
        "gemini", "0.58.2")[1]
    assert verdict("claude", "2.2.0 (Claude Code)")[0] == "ok"
    assert verdict("codex", "codex-cli dev")[0] == "warn"


def test_status_says_what_each_agents_cli_cannot_tell() -> None:
    from swarmtui.cli.inspect import agents_obj
    from tests.fleet import fast_config
    cfg = fast_config({"gm": ["gemini", "--output-format", "stream-json"], "sh": ["sh"]})
    cfg.agents["gm"] = cfg.agents["gm"].model_copy(update={"adapter": "gemini"})
    agents = agents_obj(cfg)
    assert agents["gm"]["adapter"] == "gemini"
    assert {"cost", "context_fill", "limit_reset", "hooks", "api_retry"} <= set(
        agents["gm"]["cannot"])
    assert "tokens" in agents["gm"]["can"]
    assert agents["sh"]["can"] == [] and len(agents["sh"]["cannot"]) == len(Can)


def test_yolo_with_an_allow_list_refuses_the_rest_so_the_launcher_passes_none() -> None:
    """Why the launcher gives --allowed-tools only with auto_edit (recorded, Gemini CLI 0.61)."""
    from swarmtui.engine.adapters.gemini_launch import GeminiPolicy, argv_for
    _, signals = replay("gemini", "yolo_allowed_git")
    assert [s["rule"] for s in signals if s["kind"] == "permission_denied"] == [
        "run_shell_command(echo)", "run_shell_command(git add)"]
    out = argv_for(["gemini"], GeminiPolicy(sandbox=True, allow=("Bash(git add:*)",)),
                   agent_dir="/a", resume_session=None)
    assert "--allowed-tools" not in out



# -- Codex's own session file ------------------------------------------------------------------

def codex_with_session(name: str, home: Path) -> tuple[Adapter, list[dict[str, Any]]]:
    """Replay a Codex run with its recorded session file growing as it did: the first line
    (the thread's metadata) is there when the thread starts, the rest comes after."""
    lines = (DATA / "codex" / f"{name}.jsonl").read_text().splitlines()
    thread = json.loads(lines[0])["thread_id"]
    rollout = (DATA / "codex" / f"{name}.rollout.jsonl").read_text().splitlines(keepends=True)
    day = home / "sessions" / "2026" / "12" / "07"
    day.mkdir(parents=True)
    target = day / f"rollout-2026-12-07T10-00-00-{thread}.jsonl"
    target.write_text(rollout[0])
    a = adapter_for("codex", {"model": "gpt-5.5", "codex_home": str(home)})
    signals = a.observe(lines[0])
    with open(target, "a") as f:
        f.writelines(rollout[1:])
    for line in lines[1:]:
        signals += a.observe(line)
    return a, signals


def test_codex_context_fill_comes_from_its_session_file(tmp_path: Path) -> None:
    _, signals = codex_with_session("success", tmp_path)
    readings = [s for s in signals if s["kind"] == "context"]
    rollout = [json.loads(x) for x in (DATA / "codex" / "success.rollout.jsonl").read_text(
        ).splitlines()]
    want = [r["payload"]["info"] for r in rollout if r.get("type") == "event_msg"
            and r["payload"].get("type") == "token_count" and r["payload"].get("info")]
    assert want  # the recording holds token counts
    assert readings[-1]["tokens"] == want[-1]["last_token_usage"]["input_tokens"]
    assert readings[-1]["window"] == want[-1]["model_context_window"]
    assert readings[-1]["model"] == "gpt-5.5"


def test_a_codex_usage_limit_takes_its_reset_from_the_session_file(tmp_path: Path) -> None:
    a, _ = codex_with_session("usage_limit", tmp_path)
    pl = exited(a, 1)
    counts = [json.loads(x)["payload"] for x in (
        DATA / "codex" / "usage_limit.rollout.jsonl").read_text().splitlines()
        if '"token_count"' in x]
    resets = counts[-1]["rate_limits"]["primary"]["resets_at"]
    assert pl.usage_limited_until == resets  # to the second, not the minute of the message
    assert exit_verdict(pl, adapter="codex").cause == Cause.USAGE_LIMITED


def test_a_linked_session_file_or_folder_is_never_read(tmp_path: Path) -> None:
    from swarmtui.engine.adapters.codex_session import find_session_file
    lines = (DATA / "codex" / "success.jsonl").read_text().splitlines()
    thread = json.loads(lines[0])["thread_id"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secret = elsewhere / f"rollout-x-{thread}.jsonl"
    secret.write_text((DATA / "codex" / "success.rollout.jsonl").read_text())
    home = tmp_path / "home"
    (home / "sessions" / "2026" / "12").mkdir(parents=True)
    (home / "sessions" / "2026" / "12" / "07").symlink_to(elsewhere)  # a linked folder
    assert find_session_file(home, thread) is None
    (home / "sessions" / "2026" / "12" / "07").unlink()
    day = home / "sessions" / "2026" / "12" / "07"
    day.mkdir()
    (day / secret.name).symlink_to(secret)  # a linked file
    assert find_session_file(home, thread) is None
    a = adapter_for("codex", {"codex_home": str(home)})
    signals = [s for line in lines for s in a.observe(line)]
    assert not [s for s in signals if s["kind"] == "context"]
    assert find_session_file(home, "../../etc") is None


def test_codex_without_a_model_on_its_command_line_takes_it_from_the_session_file(
        tmp_path: Path) -> None:
    lines = (DATA / "codex" / "success.jsonl").read_text().splitlines()
    thread = json.loads(lines[0])["thread_id"]
    rollout = (DATA / "codex" / "success.rollout.jsonl").read_text().splitlines(keepends=True)
    day = tmp_path / "sessions" / "2026" / "12" / "07"
    day.mkdir(parents=True)
    target = day / f"rollout-2026-12-07T10-00-00-{thread}.jsonl"
    target.write_text(rollout[0])
    a = adapter_for("codex", {"model": "", "codex_home": str(tmp_path)})
    a.observe(lines[0])
    with open(target, "a") as f:
        f.writelines(rollout[1:])
    for line in lines[1:]:
        a.observe(line)
    assert set(exited(a, 0).models) == {"gpt-5.5"}
    assert set(exited(adapter_for("codex"), 0).models) == set()
