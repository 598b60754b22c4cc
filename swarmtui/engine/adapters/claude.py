"""Claude Code (``claude -p --output-format stream-json --verbose``), read from its own output.

Facts taken from Claude Code 2.1.x (transcripts recorded from the real CLI are in
``tests/data/claude``):

* ``system/init`` carries ``session_id`` and ``model``;
* ``system/api_retry`` (``attempt``, ``max_retries``, ``retry_delay_ms``, ``error_status``,
  ``error``) is printed while the CLI retries the API: the agent is alive, not stuck;
* ``system/permission_denied`` (``tool_name``, ``tool_use_id``, ``message``) when a tool use
  was refused; not always: 2.1.197 lists a Bash command missing from the allow list only in the
  result line's ``permission_denials`` (``tool_name``, ``tool_use_id``, ``tool_input``). Both
  are read, one signal per ``tool_use_id``, and the rule is taken from the call's input (the
  ``tool_use`` block of the answer that made it) so that it is the rule a grant needs;
* ``rate_limit_event`` (subscribers only) with ``rate_limit_info.status`` (``allowed``,
  ``allowed_warning``, ``rejected``), ``resetsAt`` (epoch seconds; milliseconds accepted too),
  ``rateLimitType`` (``five_hour``, ``seven_day``, ...) and ``utilization``;
* an ``assistant`` line with ``error`` (``rate_limit``, ``authentication_failed``,
  ``server_error``, ...) and ``api_error_status`` when a call failed;
* the ``result`` line, whose ``subtype`` stays ``"success"`` on most failures: ``is_error``,
  ``api_error_status``, ``api_error`` (``usage_limit_reached``), ``terminal_reason``,
  ``permission_denials`` and ``errors`` say what happened; ``error_max_turns`` and
  ``error_max_budget_usd`` are the exceptions. ``modelUsage`` and ``total_cost_usd`` add up over
  a resumed session; ``model_usage_since_last_result`` is this run's part.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Any

from swarmtui.engine.adapters.base import Adapter, Can, Signal, object_line
from swarmtui.engine.adapters.claude_context import ContextTracker
from swarmtui.engine.adapters.claude_usage import TurnMeter

_BANNER = re.compile(r"hit your .{0,40}limit|usage limit reached", re.IGNORECASE)
FALLBACK_WAIT = 30 * 60.0  # a usage limit whose reset time nobody said
MAX_CALLS = 1024  # tool calls whose rule is remembered (for a denial that names only the id)


def epoch_seconds(value: Any) -> float | None:
    """A reset time as unix seconds; Claude Code sends seconds, milliseconds are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v / 1000.0 if v > 1e11 else v


def _short(value: Any, n: int = 200) -> str:
    return "" if value is None else " ".join(str(value).split())[:n]


def denial_rule(tool: str, tool_input: Any) -> str:
    """The permission rule that would have allowed a denied call: ``Bash(git commit:*)`` for a
    shell command (its first two words), the tool's name for anything else."""
    if tool == "Bash" and isinstance(tool_input, dict):
        cmd = str(tool_input.get("command", "")).strip()
        words = [w for w in re.split(r"\s+", cmd.split("&&")[0].split(";")[0]) if w][:2]
        if words and all(re.fullmatch(r"[\w./-]+", w) for w in words):
            return f"Bash({' '.join(words)}:*)"
    return tool


def _models(usage: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(usage, dict):
        return out
    for model, u in usage.items():
        if not isinstance(u, dict):
            continue

        def n(key: str, u: dict[str, Any] = u) -> int:
            return _int(u.get(key))

        out[str(model)[:100]] = {
            "input": n("inputTokens"), "output": n("outputTokens"),
            "cache_read": n("cacheReadInputTokens"), "cache_write": n("cacheCreationInputTokens"),
            "cost_usd": _cost(u.get("costUSD")) or 0.0,  # NaN: not said (priced instead)
            "context_window": n("contextWindow") or None,
        }
    return out


class ClaudeAdapter(Adapter):
    name = "claude"
    lines = "json"  # observe() starts with object_line
    capabilities = frozenset(Can)  # everything swarmtui reads, Claude Code says
    auth_hint = ("check the API key (ANTHROPIC_API_KEY, or `claude login` for a subscription) "
                 "and ANTHROPIC_BASE_URL")

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.model: str | None = None
        self.result: dict[str, Any] | None = None
        self.limit_until: float | None = None
        self.limit_type: str = ""
        self.denials: list[str] = []
        self.retry_delay_ms = 0
        # This run's usage: the sum of each result line's part (a background subagent makes
        # a second result line; a resumed session's totals include the earlier runs).
        self.run_models: dict[str, dict[str, Any]] = {}
        self.saw_since_last = False
        self.context = ContextTracker()  # the context fill at each turn boundary
        self.turns = TurnMeter()  # tokens of every answer printed, for a run without a result
        self._calls: OrderedDict[str, str] = OrderedDict()  # tool_use id -> its rule
        self._denied: set[str] = set()  # tool_use ids already reported as denied

    def observe(self, line: str) -> list[Signal]:
        obj = object_line(line)
        if obj is None:
            return []
        return self._line(obj) + self.context.observe(obj) + self.turns.observe(obj)

    def _line(self, obj: dict[str, Any]) -> list[Signal]:
        kind = obj.get("type")
        if kind == "system":
            return self._system(obj)
        if kind == "rate_limit_event":
            return self._rate_limit(obj.get("rate_limit_info"))
        if kind == "assistant" and obj.get("error"):
            return self._api_error(obj)
        if kind == "assistant":
            self._remember_calls(obj.get("message"))
            return []
        if kind == "result":
            self.result = obj
            since = obj.get("model_usage_since_last_result")
            if isinstance(since, dict):
                self.saw_since_last = True
                for model, u in _models(since).items():
                    acc = self.run_models.setdefault(model, {**u, "input": 0, "output": 0,
                                                             "cache_read": 0, "cache_write": 0,
                                                             "cost_usd": 0.0})
                    for key in ("input", "output", "cache_read", "cache_write", "cost_usd"):
                        acc[key] += u[key]
            if obj.get("session_id") and not self.session_id:
                self.session_id = str(obj["session_id"])[:100]
            return self._result_denials(obj.get("permission_denials"))
        return []

    def _remember_calls(self, msg: Any) -> None:
        content = msg.get("content") if isinstance(msg, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                self._calls[str(block.get("id"))[:100]] = denial_rule(
                    _short(block.get("name"), 60), block.get("input"))
                if len(self._calls) > MAX_CALLS:
                    self._calls.popitem(last=False)

    def _denial(self, call_id: Any, tool: str, rule: str, message: str) -> list[Signal]:
        cid = str(call_id)[:100] if call_id else ""
        if cid and cid in self._denied:
            return []  # the system line said it already
        if cid and len(self._denied) < MAX_CALLS:
            self._denied.add(cid)
        return [{"kind": "permission_denied", "tool": tool, "rule": rule, "message": message,
                 "tool_use": cid}]

    def _result_denials(self, denials: Any) -> list[Signal]:
        out: list[Signal] = []
        for d in _list(denials)[:20]:
            if isinstance(d, dict):
                tool = _short(d.get("tool_name"), 60) or "a tool"
                out += self._denial(d.get("tool_use_id"), tool,
                                    denial_rule(tool, d.get("tool_input")), "")
        return out

    def _system(self, obj: dict[str, Any]) -> list[Signal]:
        sub = obj.get("subtype")
        if sub == "init":
            self.session_id = _short(obj.get("session_id"), 100) or None
            self.model = _short(obj.get("model"), 100) or None
            return [{"kind": "session", "session_id": self.session_id, "model": self.model,
                     "permission_mode": _short(obj.get("permissionMode"), 40)}]
        if sub == "api_retry":
            status = obj.get("error_status")
            self.retry_delay_ms = _int(obj.get("retry_delay_ms"))
            return [{"kind": "api_retry", "attempt": _int(obj.get("attempt")),
                     "max_retries": _int(obj.get("max_retries")),
                     "delay_ms": _int(obj.get("retry_delay_ms")),
                     "status": status if isinstance(status, int) else None,
                     "error": _short(obj.get("error"), 60)}]
        if sub == "permission_denied":
            tool = _short(obj.get("tool_name"), 60) or "a tool"
            cid = obj.get("tool_use_id")
            rule = self._calls.get(str(cid)[:100], tool) if cid else tool
            return self._denial(cid, tool, rule, _short(obj.get("message"), 300))
        return []

    def _rate_limit(self, info: Any) -> list[Signal]:
        if not isinstance(info, dict):
            return []
        status = _short(info.get("status"), 40)
        resets = epoch_seconds(info.get("resetsAt"))
        kind = _short(info.get("rateLimitType"), 40)
        if status == "rejected" and resets is not None:
            self.limit_until, self.limit_type = resets, kind
        util = info.get("utilization")
        return [{"kind": "rate_limit", "status": status, "resets_at": resets, "limit_type": kind,
                 "utilization": float(util) if isinstance(util, (int, float)) else None}]

    def _api_error(self, obj: dict[str, Any]) -> list[Signal]:
        params = obj.get("api_error_params")
        info = params.get("rate_limit_info") if isinstance(params, dict) else None
        signals: list[Signal] = []
        if isinstance(info, dict) and info.get("status") == "rejected":
            signals += self._rate_limit(info)
        status = obj.get("api_error_status")
        signals.append({"kind": "api_error", "error": _short(obj.get("error"), 60),
                        "status": status if isinstance(status, int) else None,
                        "api_error": _short(obj.get("api_error"), 60)})
        return signals

    def outcome(self) -> dict[str, Any] | None:
        r = self.result
        if r is None:
            return None
        denials = []
        for d in _list(r.get("permission_denials")):
            if isinstance(d, dict):
                denials.append(denial_rule(_short(d.get("tool_name"), 60) or "a tool",
                                           d.get("tool_input")))
        status = r.get("api_error_status")
        errors = [_short(e, 300) for e in _list(r.get("errors")) if e][:5]
        return {"is_error": bool(r.get("is_error")), "subtype": _short(r.get("subtype"), 60),
                "terminal_reason": _short(r.get("terminal_reason"), 60),
                "api_status": status if isinstance(status, int) else None,
                "api_error": _short(r.get("api_error"), 60),
                "message": _short(r.get("result"), 300),
                "denials": sorted(set(denials))[:20], "errors": errors}

    def usage(self) -> dict[str, Any]:
        r = self.result
        out: dict[str, Any] = {}
        if self.session_id:
            out["session_id"] = self.session_id
        if self.retry_delay_ms:
            out["retry_delay_s"] = self.retry_delay_ms / 1000.0
        if r is not None:
            # This run's share: modelUsage and total_cost_usd add up over a resumed session.
            models = self.run_models if self.saw_since_last else _models(r.get("modelUsage"))
            if models:
                out["models"] = models
                out["tokens"] = sum(m["input"] + m["output"] + m["cache_read"] +
                                    m["cache_write"] for m in models.values())
                out["cost_usd"] = round(sum(m["cost_usd"] for m in models.values()), 6)
            else:
                u = r.get("usage")
                u = u if isinstance(u, dict) else {}
                out["tokens"] = sum(_int(u.get(k)) for k in (
                    "input_tokens", "output_tokens", "cache_creation_input_tokens",
                    "cache_read_input_tokens"))
                if (total := _cost(r.get("total_cost_usd"))) is not None:
                    out["cost_usd"] = total
            oc = self.outcome()
            if oc is not None:
                out["outcome"] = oc
                if oc["is_error"]:
                    out["agent_error"] = oc["message"] or oc["subtype"]
        else:
            out.update(self.turns.usage())  # no result line: what every turn printed
        until = self.limit_until
        if until is None and r is not None and r.get("is_error") and (
                r.get("api_error") == "usage_limit_reached" or _BANNER.search(
                    str(r.get("result") or ""))):
            import time

            until = time.time() + FALLBACK_WAIT  # limited, but nobody said until when
        if until is not None:
            out["usage_limited_until"] = until
            out["limit_type"] = self.limit_type
        return out


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _cost(v: Any) -> float | None:
    """A cost figure, or None when it is not a finite, non-negative number."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    return float(v) if ok else None


def _int(v: Any) -> int:
    # json.loads reads NaN and Infinity: neither may reach int() (the wrapper would stop).
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return int(v) if ok else 0
