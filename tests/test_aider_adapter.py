"""Reading Aider's own output (engine.adapters.aider) and the causes decided from it
(engine.outcomes), on output recorded from the real CLI (tests/data/aider; regenerate with
tests/aider_record.py), and how it is launched (engine.adapters.aider_launch)."""

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

DATA = Path(__file__).parent / "data" / "aider"
MODEL = "gpt-5.5"
PRICES = {"input": 1.25, "output": 10.0}  # what tests/aider_record.py gave Aider


def meta(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"{name}.meta.json").read_text()))


def replay(name: str, *, log: bool = True) -> tuple[Adapter, list[dict[str, Any]]]:
    path = DATA / f"{name}.txt"
    if not path.exists():
        pytest.fail(f"output aider/{name} not recorded (tests/aider_record.py)")
    extra: dict[str, Any] = {"model": f"openai/{MODEL}"}
    if log:
        extra["analytics_log"] = str(DATA / f"{name}.analytics.jsonl")
    a = adapter_for("aider", extra)
    signals: list[dict[str, Any]] = []
    for line in path.read_text().splitlines():
        signals += a.observe(line)
    return a, signals


def exited(a: Adapter, code: int | None) -> p.AgentExited:
    a.exited(code)
    return exit_payload(ExitRecord(how="exited", code=code, signal=None,
                                   data={"how": "exited", "code": code, **a.usage()}))


def verdict(name: str) -> tuple[p.AgentExited, Any]:
    a, _ = replay(name)
    pl = exited(a, meta(name)["exit_code"])
    return pl, exit_verdict(pl, adapter="aider")


def test_aider_tokens_and_cost_are_its_exact_figures() -> None:
    a, signals = replay("success")
    pl = exited(a, 0)
    (billed,) = meta("success")["billed"].values()
    # Its analytics log has the edit request's exact figures; the commit message request
    # (to its weak model) is reported nowhere.
    edit = {"input": 1400, "output": 60}
    assert billed["input"] + billed["output"] == 1400 + 60 + 300 + 12
    u = pl.models[MODEL]
    assert (u.input, u.output, u.cache_read) == (edit["input"], edit["output"], 0)
    assert pl.tokens == 1460
    want = (1400 * PRICES["input"] + 60 * PRICES["output"]) / 1e6
    assert pl.cost_usd == pytest.approx(want) and not pl.cost_estimated
    assert pl.outcome is None
    tools = [s["tool"] for s in signals if s["kind"] == "activity"]
    assert "edit" in tools and any(t.startswith("commit ") for t in tools)
    assert all(signal_payload(s, 0) is not None for s in signals)


def test_without_its_analytics_log_the_printed_rounded_figures_count() -> None:
    a, signals = replay("success", log=False)
    pl = exited(a, 0)
    assert (pl.models[MODEL].input, pl.models[MODEL].output) == (1400, 60)  # "1.4k sent"
    assert pl.cost_usd == pytest.approx(0.0024)  # "$0.0024 session"
    turns = [signal_payload(s, 0) for s in signals if s["kind"] == "usage"]
    assert sum(t.tokens for t in turns if isinstance(t, p.TurnUsage)) == pl.tokens


def test_an_unpriced_model_is_priced_from_the_table() -> None:
    from swarmtui.config.agentcfg import ModelPrice
    from swarmtui.engine.attempts.outcomes import priced

    a, _ = replay("success_unpriced")
    pl = exited(a, 0)
    assert pl.cost_usd is None and pl.tokens == 1460
    pl = priced(pl, {MODEL: ModelPrice(input=2.0, output=8.0, cache_read=0.0,
                                       cache_write=0.0)})
    assert pl.cost_usd == pytest.approx((1400 * 2.0 + 60 * 8.0) / 1e6)


def test_plan_mode_asks_and_edits_nothing() -> None:
    a, signals = replay("plan_ask")
    assert "--chat-mode" in meta("plan_ask")["argv"]
    assert not [s for s in signals if s["kind"] == "activity" and s["tool"]]
    assert meta("plan_ask")["log"].count("\n") == 1  # the initial commit only
    assert exited(a, 0).tokens


@pytest.mark.parametrize(("name", "cause", "status"), [
    ("auth_401", Cause.API_AUTH, 401),
    ("rate_429_forever", Cause.API_RATE_LIMITED, 429),
    ("quota_429", Cause.USAGE_LIMITED, 429),
    ("server_500", Cause.API_SERVER, 500),
    ("context_too_long", Cause.API_CONTEXT_TOO_LONG, 400),
])
def test_each_aider_api_error_is_named_by_its_class(name: str, cause: Cause,
                                                    status: int | None) -> None:
    pl, v = verdict(name)
    assert meta(name)["exit_code"] == 0  # Aider exits 0 after an API error
    assert v.cause == cause, (v, pl.outcome)
    assert pl.outcome is not None and pl.outcome.api_status == status
    if cause == Cause.API_AUTH:
        assert v.hold_agent and "OPENAI_API_KEY" in v.reason


def test_aider_retries_are_signs_of_life_and_its_quota_waits_the_fallback() -> None:
    _, signals = replay("rate_429_forever")
    retries = [s for s in signals if s["kind"] == "api_retry"]
    assert len(retries) >= 5 and retries[0]["delay_ms"] == 200
    assert all(signal_payload(s, 0) is not None for s in retries)
    t0 = time.time()
    pl, _ = verdict("quota_429")
    assert pl.limit_type == "usage_limit_no_reset" and pl.usage_limited_until is not None
    assert t0 + 29 * 60 <= pl.usage_limited_until <= time.time() + 31 * 60
    assert pl.outcome is not None and "exceeded your current quota" in pl.outcome.message


def test_aider_hostile_lines_never_raise() -> None:
    a = adapter_for("aider", {"model": 5, "analytics_log": str(DATA / "missing.jsonl")})
    for line in ["Tokens: 1e309k sent, NaNk received.", "Tokens: 9999999999999k sent, "
                 "1k received. Cost: $1e400 message, $99999999 session.",
                 "litellm.X: " + "y" * 100_000, "Retrying in 1e999 seconds...",
                 "Commit zz", "x" * (5 << 20), "", "\x00\x1b[31m"]:
        a.observe(line)
    pl = exited(a, 0)
    assert (pl.tokens or 0) >= 0 and (pl.cost_usd or 0) >= 0


def test_aider_capabilities_say_what_it_cannot_do() -> None:
    can = capabilities("aider")
    assert {Can.ACTIVITY, Can.TOKENS, Can.COST, Can.API_RETRY, Can.ERROR_CLASS} <= can
    assert not {Can.SESSION, Can.RESUME, Can.DENIALS, Can.LIMIT_RESET, Can.CONTEXT_FILL,
                Can.HOOKS, Can.APPROVAL_POLICY} & can


def test_aider_launch_adds_what_an_unattended_run_needs() -> None:
    from swarmtui.engine.adapters.launch import launch, unattended_problems

    cmd = ["aider", "--model", "openai/gpt-5.5"]
    out, extra = launch("aider", cmd, mode="acceptEdits", sandbox=False, directories=(),
                        agent_dir="/r/.swarm/agents/t1-1", resume_session="ignored")
    assert out[:3] == cmd and "--yes-always" in out and "--no-stream" in out
    assert out[out.index("--message-file") + 1] == "/r/.swarm/agents/t1-1/prompt.md"
    assert out[out.index("--analytics-log") + 1] == extra["analytics_log"] == (
        "/r/.swarm/agents/t1-1/aider-analytics.jsonl")
    assert out[out.index("--chat-history-file") + 1].startswith("/r/.swarm/agents/t1-1/")
    assert "--no-gitignore" in out and "--chat-mode" not in out
    assert extra["model"] == "openai/gpt-5.5"
    plan, _ = launch("aider", [*cmd, "--stream", "-m", "hi"], mode="plan", sandbox=False,
                     directories=(), agent_dir="/a", resume_session=None)
    assert plan[plan.index("--chat-mode") + 1] == "ask"
    assert "--no-stream" not in plan and "--message-file" not in plan
    assert unattended_problems("aider", cmd, where="agents.a") == []
    assert unattended_problems("aider", [*cmd, "--stream"], where="agents.a") == [
        'agents.a.command: drop "--stream": streamed, Aider counts tokens itself instead of '
        "reporting the provider's"]


def test_aider_version_verdicts_and_credentials() -> None:
    from swarmtui.engine.adapters.credentials import key_variables
    from swarmtui.engine.adapters.versions import verdict as version

    assert version("aider", "aider 0.86.2") == ("ok", "aider 0.86.2 (tested with 0.86.2)")
    assert version("aider", "aider 0.80.0")[0] == "warn"
    assert key_variables("aider", ["aider", "--model", "openai/x"], "k") == ("OPENAI_API_KEY",)
    assert key_variables("aider", ["aider", "--model", "anthropic/claude"], "k") == (
        "ANTHROPIC_API_KEY",)
    assert key_variables("aider", ["aider", "--model", "gpt-4o"], "k") == ("OPENAI_API_KEY",)
