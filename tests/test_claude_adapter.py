"""Reading Claude Code's own output (engine.adapters.claude) and deciding causes from it
(engine.outcomes), on transcripts recorded from the real CLI (tests/data/claude)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmtui.engine.adapters.claude import ClaudeAdapter, denial_rule, epoch_seconds
from swarmtui.engine.attempts.liveness import exit_payload
from swarmtui.engine.attempts.outcomes import exit_verdict
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import Cause
from swarmtui.model import payloads as p

DATA = Path(__file__).parent / "data" / "claude"


def replay(name: str) -> tuple[ClaudeAdapter, list[dict[str, Any]]]:
    a = ClaudeAdapter()
    signals: list[dict[str, Any]] = []
    for line in (DATA / f"{name}.jsonl").read_text().splitlines():
        signals += a.observe(line)
    return a, signals


def billed(name: str) -> dict[str, dict[str, int]]:
    meta = json.loads((DATA / f"{name}.meta.json").read_text())
    return {m: dict(u) for m, u in meta["stub_billed"].items()}


def exited(a: ClaudeAdapter, code: int = 0) -> p.AgentExited:
    return exit_payload(ExitRecord(how="exited", code=code, signal=None,
                                   data={"how": "exited", "code": code, **a.usage()}))


@pytest.mark.parametrize("name", ["success", "subagent", "subagent_background",
                                  "overloaded_529"])
def test_tokens_per_model_match_what_the_server_billed(name: str) -> None:
    a, _ = replay(name)
    models = a.usage()["models"]
    assert set(models) == set(billed(name))
    for model, u in billed(name).items():
        got = models[model]
        assert (got["input"], got["output"], got["cache_read"], got["cache_write"]) == (
            u["input_tokens"], u["output_tokens"], u["cache_read_input_tokens"],
            u["cache_creation_input_tokens"]), model


def test_a_subagents_model_is_counted_too() -> None:
    a, _ = replay("subagent")
    u = a.usage()
    assert set(u["models"]) == {"claude-opus-5-5", "claude-haiku-5-5"}
    assert u["tokens"] == sum(sum(v.values()) for v in billed("subagent").values())


def test_a_resumed_session_counts_only_this_runs_part() -> None:
    # The stub served both runs: what it billed for the second is its total minus the first.
    first, _ = replay("resume")
    second, _ = replay("resume.resumed")
    total = billed("resume.resumed")["claude-opus-5-5"]
    one, two = first.usage()["models"]["claude-opus-5-5"], second.usage()["models"][
        "claude-opus-5-5"]
    assert one["input"] + two["input"] == total["input_tokens"]
    assert one["output"] + two["output"] == total["output_tokens"]
    assert second.usage()["session_id"] == first.usage()["session_id"]


def test_the_session_is_a_signal_from_the_init_line() -> None:
    a, signals = replay("success")
    assert signals[0]["kind"] == "session" and signals[0]["session_id"] == a.session_id
    assert signal_payload(signals[0], 100) == p.AgentSession(
        session_id=a.session_id or "", model="claude-opus-5-5",
        permission_mode="bypassPermissions", offset=100)


def test_api_retries_are_signals_of_life() -> None:
    _, signals = replay("overloaded_529")
    retries = [s for s in signals if s["kind"] == "api_retry"]
    assert [(s["attempt"], s["status"]) for s in retries] == [(1, 529), (2, 529), (3, 529)]
    pl = signal_payload(retries[2], 0)
    assert isinstance(pl, p.ApiRetry) and pl.max_retries == 5


def test_a_usage_limit_is_read_from_the_rate_limit_event() -> None:
    a, signals = replay("usage_limit")
    rl = [s for s in signals if s["kind"] == "rate_limit"]
    assert rl and rl[0]["status"] == "rejected" and rl[0]["limit_type"] == "five_hour"
    u = a.usage()
    assert u["usage_limited_until"] == rl[0]["resets_at"]
    v = exit_verdict(exited(a, 1))
    assert v.cause == Cause.USAGE_LIMITED and "five hour" in v.reason


def test_a_warning_is_only_a_warning() -> None:
    a, signals = replay("usage_limit_warning")
    rl = [s for s in signals if s["kind"] == "rate_limit"]
    assert rl[0]["status"] == "allowed_warning" and rl[0]["utilization"] is not None
    assert "usage_limited_until" not in a.usage()


@pytest.mark.parametrize(("name", "cause"), [
    ("auth_401", Cause.API_AUTH), ("auth_401_no_retry", Cause.API_AUTH),
    ("overloaded_529_forever", Cause.API_OVERLOADED), ("server_500", Cause.API_SERVER),
    ("plain_429_forever", Cause.API_RATE_LIMITED), ("max_turns", Cause.MAX_TURNS),
    ("max_budget", Cause.MAX_BUDGET), ("permission_denied", Cause.NEEDS_PERMISSION),
    ("usage_limit_weekly", Cause.USAGE_LIMITED), ("hang_api_timeout", Cause.API_SERVER),
])
def test_every_failure_is_a_named_cause(name: str, cause: Cause) -> None:
    a, _ = replay(name)
    meta = json.loads((DATA / f"{name}.meta.json").read_text())
    assert exit_verdict(exited(a, meta["exit_code"])).cause == cause


def test_an_invalid_key_holds_the_agent_and_says_what_to_check() -> None:
    a, _ = replay("auth_401")
    v = exit_verdict(exited(a, 1))
    assert v.hold_agent and "ANTHROPIC_API_KEY" in v.reason and "ANTHROPIC_BASE_URL" in v.reason


def test_denials_name_the_rule_to_grant() -> None:
    a, signals = replay("permission_denied")
    assert {s["tool"] for s in signals if s["kind"] == "permission_denied"} == {"Bash", "Write"}
    assert "Bash(git add:*)" in a.usage()["outcome"]["denials"]
    assert denial_rule("Bash", {"command": "git commit -m x"}) == "Bash(git commit:*)"
    assert denial_rule("Bash", {"command": "echo $X >> f"}) == "Bash"
    assert denial_rule("Write", {"file_path": "/x"}) == "Write"


def test_a_success_is_no_error() -> None:
    a, _ = replay("success")
    oc = a.usage()["outcome"]
    assert not oc["is_error"] and oc["terminal_reason"] == "completed"


def test_malformed_and_foreign_lines_are_ignored() -> None:
    a = ClaudeAdapter()
    for line in ["not json", "{broken", '{"type": "result"', "[1, 2]", '{"type": 7}',
                 json.dumps({"type": "system", "subtype": "api_retry", "attempt": "x"})]:
        a.observe(line)
    assert a.usage() == {} or "outcome" not in a.usage()
    assert signal_payload({"kind": "api_retry", "attempt": "no"}, 0) is None
    assert signal_payload({"kind": "bogus"}, 0) is None


def test_reset_times_in_seconds_or_milliseconds() -> None:
    assert epoch_seconds(1796183853) == 1796183853.0
    assert epoch_seconds(1796183853000) == 1796183853.0
    assert epoch_seconds("soon") is None and epoch_seconds(True) is None
