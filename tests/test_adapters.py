"""What adapters learn from an agent CLI's own output (pure parsing)."""

from __future__ import annotations

import json

from swarmtui.engine.adapters import adapter_for
from swarmtui.engine.adapters.claude import FALLBACK_WAIT, usage_limit_until


def _result(**kw: object) -> str:
    return json.dumps({"type": "result", "subtype": "success", "is_error": False,
                       "usage": {"input_tokens": 3, "output_tokens": 4}, **kw})


def test_claude_usage_and_cost_from_the_result_line() -> None:
    a = adapter_for("claude")
    a.observe('{"type": "system", "subtype": "init"}')
    a.observe("not json at all")
    a.observe(_result(total_cost_usd=0.5))
    assert a.usage() == {"tokens": 7, "cost_usd": 0.5}


def test_claude_usage_limit_with_reset_time() -> None:
    a = adapter_for("claude")
    a.observe(_result(is_error=True, subtype="error_during_execution",
                      result="Claude AI usage limit reached|1795400000"))
    u = a.usage()
    assert u["usage_limited_until"] == 1795400000.0 and u["agent_error"]


def test_usage_limit_text_without_time_waits_the_fallback() -> None:
    assert usage_limit_until("5-hour limit reached - resets 3pm", now=100.0) == (
        100.0 + FALLBACK_WAIT)
    assert usage_limit_until("all tests pass") is None


def test_generic_adapter_learns_nothing() -> None:
    a = adapter_for("generic")
    a.observe(_result(total_cost_usd=1.0))
    assert a.usage() == {}
