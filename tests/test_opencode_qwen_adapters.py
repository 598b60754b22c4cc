"""Reading opencode's own output (engine.adapters.opencode) and the causes decided from it
(engine.outcomes), on transcripts recorded from the real CLI (tests/data/opencode; regenerate
with tests/agent_record.py), and how it is launched (engine.adapters.opencode_launch)."""

from __future__ import annotations

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

DATA = Path(__file__).parent / "data"
OPENCODE_MODEL = "gpt-5.5"
# The prices tests/agent_record.py gave the model in opencode's config (per million tokens).
PRICES = {"input": 1.25, "output": 10.0, "cache_read": 0.125}


def meta(cli: str, name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / cli / f"{name}.meta.json").read_text()))


def replay(cli: str, name: str, extra: dict[str, Any] | None = None,
           ) -> tuple[Adapter, list[dict[str, Any]]]:
    path = DATA / cli / f"{name}.jsonl"
    if not path.exists():
        pytest.fail(f"transcript {cli}/{name} not recorded (tests/agent_record.py)")
    a = adapter_for(cli, {"model": f"stub/{OPENCODE_MODEL}", **(extra or {})})
    signals: list[dict[str, Any]] = []
    for line in path.read_text().splitlines():
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


def billed(cli: str, name: str) -> dict[str, int]:
    (u,) = meta(cli, name)["billed"].values()
    return dict(u)


def cost(b: dict[str, int]) -> float:
    return ((b["input"] - b["cached"]) * PRICES["input"] + b["output"] * PRICES["output"]
            + b["cached"] * PRICES["cache_read"]) / 1e6


# -- opencode: tokens, cost, signals -----------------------------------------------------------

def test_opencode_tokens_and_its_own_cost_are_what_the_server_billed() -> None:
    a, signals = replay("opencode", "success")
    pl = exited(a, 0)
    b = billed("opencode", "success")
    u = pl.models[OPENCODE_MODEL]  # the model of its -m, without the provider
    # input excludes the cached part; output includes the reasoning opencode counts apart.
    assert (u.input, u.cache_read, u.output) == (b["input"] - b["cached"], b["cached"],
                                                 b["output"])
    assert pl.tokens == b["input"] + b["output"]
    # The cost is opencode's own (from the prices in its config), kept as said.
    assert pl.cost_usd == pytest.approx(cost(b), abs=1e-9)
    assert pl.outcome is None and pl.usage_limited_until is None
    # Each step's tokens went out as they came: a killed run still counts what it used.
    turns = [signal_payload(s, 0) for s in signals if s["kind"] == "usage"]
    assert all(isinstance(t, p.TurnUsage) for t in turns)
    assert sum(t.tokens for t in turns if isinstance(t, p.TurnUsage)) == pl.tokens


def test_opencode_session_and_activity_become_typed_signals() -> None:
    _, signals = replay("opencode", "success")
    payloads = [signal_payload(s, 10) for s in signals]
    assert all(pl is not None for pl in payloads), signals
    assert isinstance(payloads[0], p.AgentSession) and payloads[0].session_id.startswith("ses_")
    assert any(isinstance(pl, p.AgentActivity) for pl in payloads)


def test_a_resumed_opencode_session_reports_only_its_own_run() -> None:
    first, _ = replay("opencode", "resume")
    second, signals = replay("opencode", "resume.resumed")
    b1, both = billed("opencode", "resume"), billed("opencode", "resume.resumed")
    assert exited(first, 0).tokens == b1["input"] + b1["output"]
    # Its steps are per request: the resumed run's lines hold only that run's requests.
    assert exited(second, 0).tokens == (both["input"] + both["output"]) - (
        b1["input"] + b1["output"])
    assert signals[0]["session_id"] == first.usage()["session_id"]


def test_an_opencode_permission_refused_headless_is_a_denial_naming_its_rule() -> None:
    a, signals = replay("opencode", "permission_refused", {"allowed": ["bash(echo *)"]})
    denied = [s for s in signals if s["kind"] == "permission_denied"]
    # The chained command (printf ... && git add ... && git commit ...) is named by its first
    # part no allowed pattern covers.
    assert [(s["tool"], s["rule"]) for s in denied] == [("bash", "bash(printf *)")]
    pl = exited(a, meta("opencode", "permission_refused")["exit_code"])
    v = exit_verdict(pl, adapter="opencode")
    assert v.cause == Cause.NEEDS_PERMISSION and "bash(printf *)" in v.reason
    from swarmtui.engine.adapters.opencode import denial_rule
    cmd = {"command": "printf '%s' x > f && git add f && git commit -m x"}
    assert denial_rule("bash", cmd, ("bash(echo *)", "bash(printf *)")) == "bash(git add *)"
    assert denial_rule("bash", cmd, ("bash(printf *)", "bash(git *)")) == "bash(printf *)"


# -- opencode: error classes -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "cause", "status"), [
    ("auth_401", Cause.API_AUTH, 401),
    ("rate_429_forever", Cause.API_RATE_LIMITED, 429),
    ("quota_429", Cause.USAGE_LIMITED, 429),
    ("usage_limit", Cause.USAGE_LIMITED, 429),
    ("server_500", Cause.API_SERVER, 500),
    ("context_too_long", Cause.API_CONTEXT_TOO_LONG, None),
])
def test_each_opencode_api_error_is_named_by_its_class(name: str, cause: Cause,
                                                       status: int | None) -> None:
    pl, v = verdict("opencode", name)
    assert v.cause == cause, (v, pl.outcome)
    assert pl.outcome is not None and pl.outcome.api_status == status
    if cause == Cause.API_AUTH:
        assert v.hold_agent and "opencode" in v.reason


def test_an_opencode_rate_limit_waits_what_the_provider_said() -> None:
    pl, _ = verdict("opencode", "rate_429_forever")
    assert pl.retry_delay_s == 1.0  # its retry-after


def test_an_opencode_usage_limit_takes_its_reset_from_the_provider() -> None:
    pl, _ = verdict("opencode", "usage_limit")
    body = json.loads(next(line for line in (DATA / "opencode" / "usage_limit.jsonl").read_text(
        ).splitlines() if '"error"' in line))["error"]["data"]["responseBody"]
    assert pl.limit_type == "usage_limit"
    assert pl.usage_limited_until == json.loads(body)["error"]["resets_at"]


def test_an_opencode_quota_without_a_reset_gets_the_fallback_wait() -> None:
    t0 = time.time()
    pl, _ = verdict("opencode", "quota_429")
    assert pl.limit_type == "usage_limit_no_reset" and pl.usage_limited_until is not None
    # The fallback counts from the error's arrival (here: the replay's).
    assert t0 + 29 * 60 <= pl.usage_limited_until <= time.time() + 31 * 60


def test_reset_times_in_the_providers_headers() -> None:
    from swarmtui.engine.adapters.opencode import duration, wait_from_headers
    assert duration("6m0s") == 360 and duration("1.5s") == 1.5 and duration("250ms") == 0.25
    assert duration("soon") is None and duration("5x") is None
    assert wait_from_headers({"Retry-After": "20"}, 0) == 20
    assert wait_from_headers({"retry-after-ms": "1500"}, 0) == 1.5
    assert wait_from_headers({"x-ratelimit-reset-requests": "2s",
                              "x-ratelimit-reset-tokens": "1m30s"}, 0) == 90
    assert wait_from_headers({"retry-after": "Thu, 01 Jan 1970 00:01:00 GMT"}, 0) == 60
    assert wait_from_headers({"retry-after": "garbage"}, 0) is None


def test_opencode_hostile_lines_never_raise() -> None:
    a = adapter_for("opencode")
    for line in ['{"type": "step_finish", "sessionID": ["x"], "part": {"tokens": {"input": NaN,'
                 ' "cache": 3}, "cost": Infinity}}',
                 '{"type": "step_finish", "part": {"tokens": {"output": -5}, "cost": -1}}',
                 '{"type": "error", "error": {"name": 3, "data": {"statusCode": true, '
                 '"responseBody": "{\\"error\\": 5}", "responseHeaders": {"retry-after": 1}}}}',
                 '{"type": "tool_use", "part": {"tool": "bash", "state": {"status": "error", '
                 '"error": "The user rejected permission to use this specific tool call.", '
                 '"input": {"command": 7}}}}',
                 '{"type": "error", "error": "x"}', "[1]", "{bad", "{" + "x" * (5 << 20)]:
        a.observe(line)
    pl = exited(a, 1)
    assert pl.cost_usd is None or pl.cost_usd >= 0


def test_opencode_capabilities_say_what_it_cannot_do() -> None:
    can = capabilities("opencode")
    assert {Can.COST, Can.TOKENS, Can.RESUME, Can.DENIALS, Can.LIMIT_RESET} <= can
    assert not {Can.API_RETRY, Can.CONTEXT_FILL, Can.HOOKS} & can


# -- opencode: launch --------------------------------------------------------------------------

def test_opencode_launch_sets_the_policy_title_and_resume() -> None:
    from swarmtui.engine.adapters.launch import launch, with_env
    from swarmtui.engine.adapters.opencode_launch import PERMISSION_ENV
    cmd = ["opencode", "run", "--format", "json", "-m", "stub/gpt-5.5"]
    boxed, extra = launch("opencode", cmd, mode="acceptEdits", sandbox=True, directories=(),
                          agent_dir="/r/.swarm/agents/t1-1", resume_session="ses_1")
    assert boxed == [*cmd, "--auto", "--title", "t1-1", "--session", "ses_1"]
    assert extra["model"] == "stub/gpt-5.5" and with_env({"A": "1"}, extra) == {"A": "1"}
    plan, _ = launch("opencode", cmd, mode="plan", sandbox=False, directories=(),
                     agent_dir="/a", resume_session=None)
    assert plan[plan.index("--agent") + 1] == "plan"
    ruled, extra = launch("opencode", cmd, mode="acceptEdits", sandbox=False,
                          directories=("/data",), agent_dir="/a", resume_session=None,
                          allow=("Bash(git commit:*)", "bash(make test *)", "Read", "webfetch"),
                          deny=("Bash(rm:*)",))
    assert "--auto" not in ruled and "--agent" not in ruled
    env = with_env({"A": "1"}, extra)
    assert "env" not in extra and env["A"] == "1"
    perm = json.loads(env[PERMISSION_ENV])
    assert perm["bash"] == {"*": "ask", "git commit *": "allow", "make test *": "allow",
                            "rm *": "deny"}
    assert perm["edit"] == "allow" and perm["webfetch"] == "allow"
    assert perm["external_directory"] == {"/a/*": "allow", "/data/*": "allow"}
    assert extra["allowed"] == ["bash(git commit *)", "bash(make test *)"]


def test_validate_names_what_an_opencode_command_lacks() -> None:
    from swarmtui.engine.adapters.launch import unattended_problems
    assert unattended_problems("opencode", ["opencode", "run", "--format", "json"],
                               where="agents.oc") == []
    assert unattended_problems("opencode", ["opencode", "-m", "x"], where="agents.oc") == [
        'agents.oc.command: opencode runs unattended only as `opencode run`; add "run"',
        'agents.oc.command: add "--format", "json" (swarmtui reads opencode\'s JSON events)']


def test_opencode_version_verdicts() -> None:
    from swarmtui.engine.adapters.versions import verdict as version
    assert version("opencode", "1.18.33") == ("ok", "1.18.33 (tested with 1.18.33)")
    assert version("opencode", "1.2.0")[0] == "warn"
