"""Reading Qwen Code's own output (engine.adapters.qwen) and the causes decided from it
(engine.outcomes), on transcripts recorded from the real CLI (tests/data/qwen; regenerate with
tests/qwen_record.py), and how it is launched (engine.adapters.qwen_launch)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from swarmtui.engine.adapters import adapter_for, capabilities
from swarmtui.engine.adapters.base import Adapter, Can
from swarmtui.engine.attempts.liveness import exit_payload
from swarmtui.engine.attempts.outcomes import exit_verdict
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import Cause
from swarmtui.model import payloads as p

DATA = Path(__file__).parent / "data" / "qwen"
MODEL = "qwen3-coder-plus"


def meta(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"{name}.meta.json").read_text()))


def replay(name: str, extra: dict[str, Any] | None = None,
           ) -> tuple[Adapter, list[dict[str, Any]]]:
    path = DATA / f"{name}.jsonl"
    if not path.exists():
        pytest.fail(f"transcript qwen/{name} not recorded (tests/qwen_record.py)")
    a = adapter_for("qwen", extra or {})
    signals: list[dict[str, Any]] = []
    for line in path.read_text().splitlines():
        signals += a.observe(line)
    return a, signals


def exited(a: Adapter, code: int | None) -> p.AgentExited:
    a.exited(code)
    return exit_payload(ExitRecord(how="exited", code=code, signal=None,
                                   data={"how": "exited", "code": code, **a.usage()}))


def verdict(name: str, extra: dict[str, Any] | None = None) -> tuple[p.AgentExited, Any]:
    a, _ = replay(name, extra)
    pl = exited(a, meta(name)["exit_code"])
    return pl, exit_verdict(pl, adapter="qwen")


def billed(name: str) -> dict[str, int]:
    (u,) = meta(name)["billed"].values()
    return dict(u)


# -- tokens, cost, signals ---------------------------------------------------------------------

def test_qwen_tokens_per_model_are_what_the_server_billed() -> None:
    a, signals = replay("success")
    pl = exited(a, 0)
    b = billed("success")
    u = pl.models[MODEL]
    # Its input_tokens include the cached ones: the exit record keeps them apart.
    assert (u.input, u.cache_read, u.output) == (b["input"] - b["cached"], b["cached"],
                                                 b["output"])
    assert pl.tokens == b["input"] + b["output"]
    assert pl.cost_usd is None and pl.outcome is None  # it says no cost
    turns = [signal_payload(s, 0) for s in signals if s["kind"] == "usage"]
    assert all(isinstance(t, p.TurnUsage) for t in turns)
    assert sum(t.tokens for t in turns if isinstance(t, p.TurnUsage)) == pl.tokens


def test_qwen_cost_comes_from_the_price_table() -> None:
    from swarmtui.config.agentcfg import ModelPrice
    from swarmtui.engine.attempts.outcomes import priced

    a, _ = replay("success")
    price = ModelPrice(input=0.4, output=1.2, cache_read=0.08, cache_write=0.0)
    pl = priced(exited(a, 0), {MODEL: price})
    b = billed("success")
    want = ((b["input"] - b["cached"]) * 0.4 + b["output"] * 1.2 + b["cached"] * 0.08) / 1e6
    assert pl.cost_usd == pytest.approx(want) and pl.cost_estimated


def test_qwen_session_activity_and_retries_become_typed_signals() -> None:
    _, signals = replay("success")
    payloads = [signal_payload(s, 10) for s in signals]
    assert all(pl is not None for pl in payloads), signals
    first = payloads[0]
    assert isinstance(first, p.AgentSession) and first.model == MODEL
    assert sum(isinstance(pl, p.AgentActivity) for pl in payloads) >= 3  # one per tool call
    _, signals = replay("rate_429_forever")
    retries = [s for s in signals if s["kind"] == "api_retry"]
    assert [(s["attempt"], s["max_retries"]) for s in retries] == [(1, 1)]
    assert all(signal_payload(s, 10) is not None for s in retries)


def test_a_resumed_qwen_session_reports_only_its_own_run() -> None:
    from swarmtui.engine.adapters.launch import session_tokens

    first, _ = replay("resume")
    b1, both = billed("resume"), billed("resume.resumed")
    earlier = exited(first, 0)
    # The supervisor passes the session's earlier totals; its result line adds up over the
    # session, and the resumed run makes one request it prints no answer for.
    second, signals = replay("resume.resumed", {"session_tokens": session_tokens([earlier])})
    assert earlier.tokens == b1["input"] + b1["output"]
    assert exited(second, 0).tokens == (both["input"] + both["output"]) - (
        b1["input"] + b1["output"])
    assert signals[0]["session_id"] == first.usage()["session_id"]


# -- permissions -------------------------------------------------------------------------------

def test_a_shell_command_outside_the_allow_list_is_a_denial_naming_its_rule() -> None:
    a, signals = replay("auto_edit_git_denied", {"allowed_tools": ["run_shell_command(echo)"]})
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    # Said by its tool_result first; the result line's list repeats it (not reported twice).
    assert [(s["tool"], s["rule"]) for s in denied] == [
        ("run_shell_command", "run_shell_command(git add)")]
    assert "requires permission" in denied[0]["message"]
    pl = exited(a, meta("auto_edit_git_denied")["exit_code"])
    v = exit_verdict(pl, adapter="qwen")
    assert v.cause == Cause.NEEDS_PERMISSION and "run_shell_command(git add)" in v.reason


def test_the_allow_list_the_launcher_makes_lets_the_commit_through() -> None:
    a, signals = replay("auto_edit_allowed")
    assert not [s for s in signals if s["kind"] == "permission_denied"]
    assert "Add hello" in meta("auto_edit_allowed")["log"]
    assert exited(a, 0).outcome is None


def test_a_deny_rule_and_plan_mode_refusals_are_denials() -> None:
    _, signals = replay("deny_rule")
    assert [s["rule"] for s in signals if s["kind"] == "permission_denied"] == [
        "run_shell_command(git add)"]
    assert "Add hello" not in meta("deny_rule")["log"]
    _, signals = replay("plan_mode")
    assert {s["tool"] for s in signals if s["kind"] == "permission_denied"} == {
        "run_shell_command", "write_file"}


# -- error classes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "cause", "status"), [
    ("auth_401", Cause.API_AUTH, 401),
    ("rate_429_forever", Cause.API_RATE_LIMITED, 429),
    ("quota_429", Cause.USAGE_LIMITED, 429),
    ("usage_limit", Cause.USAGE_LIMITED, 429),
    ("server_500", Cause.API_SERVER, 500),
    ("overloaded_503", Cause.API_OVERLOADED, 503),
    ("context_too_long", Cause.API_CONTEXT_TOO_LONG, 400),
])
def test_each_qwen_api_error_is_named_by_its_class(name: str, cause: Cause,
                                                   status: int | None) -> None:
    pl, v = verdict(name)
    assert v.cause == cause, (v, pl.outcome)
    assert pl.outcome is not None and pl.outcome.api_status == status
    assert not pl.tokens  # a failed call's placeholder answer is not counted
    if cause == Cause.API_AUTH:
        assert v.hold_agent and "OPENAI_API_KEY" in v.reason


def test_a_qwen_usage_limit_gets_the_fallback_wait() -> None:
    t0 = time.time()
    pl, _ = verdict("usage_limit")
    assert pl.limit_type == "usage_limit_no_reset" and pl.usage_limited_until is not None
    assert t0 + 29 * 60 <= pl.usage_limited_until <= time.time() + 31 * 60


def test_qwen_hostile_lines_never_raise() -> None:
    a = adapter_for("qwen")
    for line in ['{"type": "system", "subtype": "init", "session_id": ["x"], "model": 5}',
                 '{"type": "system", "subtype": "retry", "data": {"attempt": NaN, '
                 '"maxRetries": -3, "delayMs": Infinity}}',
                 '{"type": "assistant", "message": {"id": 1, "model": null, "content": '
                 '[{"type": "tool_use", "id": {}, "name": 3}], "usage": {"input_tokens": '
                 '-5, "cache_read_input_tokens": 1e300, "output_tokens": "9"}}}',
                 '{"type": "assistant", "message": {"content": [{"type": "text", "text": '
                 '"[API Error: 999999 x"}]}}',
                 '{"type": "user", "message": {"content": [{"type": "tool_result", '
                 '"is_error": true, "tool_use_id": [], "content": {"a": "requires '
                 'permission to use"}}]}}',
                 '{"type": "result", "is_error": true, "error": "x", "permission_denials": '
                 '[{"tool_name": 1, "tool_input": "rm"}, 5]}',
                 "[1]", "{bad", "{" + "x" * (5 << 20)]:
        a.observe(line)
    pl = exited(a, 1)
    assert (pl.tokens or 0) >= 0


def test_qwen_capabilities_say_what_it_cannot_do() -> None:
    can = capabilities("qwen")
    assert {Can.SESSION, Can.RESUME, Can.TOKENS, Can.API_RETRY, Can.DENIALS,
            Can.APPROVAL_POLICY} <= can
    assert not {Can.COST, Can.LIMIT_RESET, Can.CONTEXT_FILL, Can.HOOKS} & can


# -- launch ------------------------------------------------------------------------------------

def test_qwen_launch_sets_the_policy_directories_and_resume() -> None:
    from swarmtui.engine.adapters.launch import launch

    cmd = ["qwen", "--output-format", "stream-json"]
    boxed, extra = launch("qwen", cmd, mode="acceptEdits", sandbox=True, directories=(),
                          agent_dir="/r/.swarm/agents/t1-1", resume_session="s-1")
    assert boxed == [*cmd, "--approval-mode", "yolo", "--include-directories",
                     "/r/.swarm/agents/t1-1", "--resume", "s-1"]
    assert extra == {"allowed_tools": [], "session_tokens": {
        "input_tokens": 0, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
        "output_tokens": 0}}
    plan, _ = launch("qwen", cmd, mode="plan", sandbox=False, directories=("/d",),
                     agent_dir="/a", resume_session=None)
    assert plan[plan.index("--approval-mode") + 1] == "plan" and "/d" in plan
    ruled, extra = launch("qwen", cmd, mode="acceptEdits", sandbox=False, directories=(),
                          agent_dir="/a", resume_session=None,
                          allow=("Bash(git commit:*)", "run_shell_command(make)", "Read"),
                          deny=("Bash(rm:*)",))
    assert ruled[ruled.index("--approval-mode") + 1] == "auto-edit"
    pairs = list(itertools.pairwise(ruled))
    assert ("--allowed-tools", "run_shell_command(git commit)") in pairs
    assert ("--allowed-tools", "run_shell_command(make)") in pairs
    assert ("--exclude-tools", "run_shell_command(rm)") in pairs
    assert extra["allowed_tools"] == ["run_shell_command(git commit)",
                                      "run_shell_command(make)"]
    own, _ = launch("qwen", [*cmd, "--yolo"], mode="acceptEdits", sandbox=False,
                    directories=(), agent_dir="/a", resume_session=None)
    assert "--approval-mode" not in own  # the command's own choice stands


def test_validate_names_what_a_qwen_command_lacks() -> None:
    from swarmtui.engine.adapters.launch import unattended_problems

    assert unattended_problems("qwen", ["qwen", "-o", "stream-json"], where="agents.q") == []
    assert unattended_problems("qwen", ["qwen", "-m", "x"], where="agents.q") == [
        'agents.q.command: add "--output-format", "stream-json" (swarmtui reads Qwen Code\'s '
        'JSON events)']


def test_qwen_version_verdicts_and_credentials() -> None:
    from swarmtui.engine.adapters.credentials import competing, key_variables
    from swarmtui.engine.adapters.versions import verdict as version

    assert version("qwen", "0.24.4") == ("ok", "0.24.4 (tested with 0.24.4)")
    assert version("qwen", "0.19.0")[0] == "warn"
    assert key_variables("qwen", ["qwen"], "sk-x") == ("OPENAI_API_KEY",)
    assert competing("qwen", ["qwen"]) == ("OPENAI_API_KEY",)
