"""Qwen Code (``qwen --output-format stream-json``), read from its own output.

Its stream is Claude Code's format (transcripts recorded from the real CLI 0.24 are in
``tests/data/qwen``), with these differences, which is why this is an adapter of its own
rather than a configuration of the ``claude`` one:

* ``system/init`` carries ``session_id`` and ``model``; the session is resumed with
  ``--resume ID``;
* each ``assistant`` line is one whole answer (no streaming placeholder) with its ``model`` and
  ``usage``, whose ``input_tokens`` *includes* ``cache_read_input_tokens`` (Claude's does not);
  the ``result`` line has only the run's summed ``usage``: no ``modelUsage``, no cost, so the
  tokens per model are summed from the answers and the cost comes from ``[prices]``;
* the ``result`` line's ``usage`` adds up over a resumed session, and a resumed run makes a
  request it prints no answer for (billed all the same): this run's share is the result's total
  less what the session had used before (the supervisor passes that in ``launch.json``, as for
  Codex), and what no answer accounts for is counted under the session's model;
* ``system/retry`` (``data.attempt``, ``maxRetries``, ``delayMs``) is printed when it waits out a
  429 or 503 for another round (the rounds inside one are silent);
* a call its approval mode does not allow is answered at once with a ``tool_result`` that says
  "Qwen Code requires permission to use ..." (one a deny rule refuses: "... was denied by
  permission rules"), and listed in the result line's
  ``permission_denials`` (``tool_name``, ``tool_use_id``, ``tool_input``); the rule that would
  grant it is Gemini CLI's (``run_shell_command(git add)``), the form its ``--allowed-tools``
  takes;
* a failed API call becomes an ``assistant`` answer with no usage whose text is
  ``[API Error: 429 <the provider's message>]``, and the run ends with ``result`` subtype
  ``error_during_execution``, ``error.message`` the same text, exit code 1. The provider's error
  code does not survive, nor any reset time: a usage limit is known by its words only.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from swarmtui.engine.adapters.apierrors import (
    FALLBACK_WAIT,
    ErrorClass,
    count,
    model_usage,
    short,
    status_class,
)
from swarmtui.engine.adapters.base import Adapter, Can, Signal, object_line
from swarmtui.engine.adapters.gemini import denial_rule

ACTIVITY_EVERY = 5.0
MAX_CALLS = 1024  # tool calls remembered (a denial names only the call's id)
MAX_ANSWERS = 4096  # answer ids remembered (each is counted once)
MAX_DENIALS = 20
# What its tool_result says for a call the approval mode did not approve, and for one a deny
# rule (--exclude-tools) refused.
DENIED = ("requires permission to use", "denied by permission rules")
_API_ERROR = re.compile(r"^\[API Error:\s*(?:(\d{3})\b)?\s*(.*)", re.DOTALL)
_PHRASES: tuple[tuple[re.Pattern[str], ErrorClass], ...] = (
    (re.compile(r"usage limit|exceeded your current quota|quota exceeded|quota exhausted|"
                r"insufficient_quota", re.IGNORECASE), ErrorClass.USAGE_LIMIT),
    (re.compile(r"context length|context window|maximum context|too many tokens|"
                r"context_length_exceeded", re.IGNORECASE), ErrorClass.CONTEXT),
    (re.compile(r"incorrect api key|invalid api key|api key not valid", re.IGNORECASE),
     ErrorClass.AUTH),
)


def classify(message: str) -> tuple[ErrorClass, int | None]:
    """The class of an ``[API Error: ...]`` message and the HTTP status it names."""
    m = _API_ERROR.match(message.strip())
    status = int(m.group(1)) if m and m.group(1) else None
    for pattern, cls in _PHRASES:
        if pattern.search(message):
            if cls == ErrorClass.CONTEXT and status not in (None, 400, 413):
                continue
            return cls, status
    return status_class(status) or ErrorClass.OTHER, status


class QwenAdapter(Adapter):
    name = "qwen"
    lines = "json"  # observe() starts with object_line
    # No cost (priced from [prices]), no reset time, no context fill, no hooks.
    capabilities = frozenset({Can.SESSION, Can.RESUME, Can.ACTIVITY, Can.TOKENS,
                              Can.API_RETRY, Can.ERROR_CLASS, Can.DENIALS,
                              Can.APPROVAL_POLICY})
    auth_hint = ("check OPENAI_API_KEY and OPENAI_BASE_URL (or the provider in Qwen Code's "
                 "settings)")

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.model = "qwen"
        self.result: dict[str, Any] | None = None
        self.exit_code: int | None = None
        self.turns = 0
        self.tools = 0
        self.models: dict[str, dict[str, int]] = {}  # this run's tokens per model
        self.baseline: dict[str, int] = {}  # the resumed session's totals before this run
        self.last_error = ""  # the newest [API Error: ...] answer
        self.error_at = 0.0
        self.denials: list[str] = []
        self.allowed: tuple[str, ...] = ()  # the --allowed-tools rules it was started with
        self._answers: OrderedDict[str, None] = OrderedDict()
        self._calls: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._denied: set[str] = set()
        self._last_activity = 0.0

    def configure(self, extra: Mapping[str, Any]) -> None:
        base = extra.get("session_tokens")
        if isinstance(base, Mapping):
            self.baseline = {"input": count(base.get("input_tokens")),
                             "cache_read": count(base.get("cached_input_tokens")),
                             "output": count(base.get("output_tokens"))}
        rules = extra.get("allowed_tools")
        if isinstance(rules, list):
            self.allowed = tuple(short(r, 200) for r in rules[:200] if isinstance(r, str))

    def exited(self, code: int | None) -> None:
        self.exit_code = code

    def observe(self, line: str) -> list[Signal]:
        obj = object_line(line)
        if obj is None:
            return []
        kind = obj.get("type")
        if kind == "system":
            return self._system(obj)
        if kind == "assistant":
            msg = obj.get("message")
            return self._answer(msg) if isinstance(msg, dict) else []
        if kind == "user":
            msg = obj.get("message")
            return self._results(msg.get("content")) if isinstance(msg, dict) else []
        if kind == "result":
            self.result = obj
            if not self.session_id and obj.get("session_id"):
                self.session_id = short(obj.get("session_id"), 100) or None
            out: list[Signal] = []
            denials = obj.get("permission_denials")
            for d in denials[:MAX_DENIALS] if isinstance(denials, list) else []:
                if isinstance(d, dict):
                    out += self._denial(d.get("tool_use_id"), short(d.get("tool_name"), 60),
                                        d.get("tool_input"), "")
            return out
        return []

    def _system(self, obj: dict[str, Any]) -> list[Signal]:
        sub = obj.get("subtype")
        if sub == "init":
            self.session_id = short(obj.get("session_id"), 100) or None
            self.model = short(obj.get("model"), 100) or self.model
            return [{"kind": "session", "session_id": self.session_id, "model": self.model,
                     "permission_mode": short(obj.get("permission_mode"), 40)}]
        data = obj.get("data")
        if sub == "retry" and isinstance(data, dict) and "attempt" in data:
            # The second retry line of a round (no attempt) only says the answer was dropped.
            return [{"kind": "api_retry", "attempt": count(data.get("attempt")),
                     "max_retries": count(data.get("maxRetries")),
                     "delay_ms": count(data.get("delayMs")), "status": None, "error": ""}]
        return []

    def _answer(self, msg: dict[str, Any]) -> list[Signal]:
        content = msg.get("content")
        blocks = [b for b in content[:200] if isinstance(b, dict)] if isinstance(
            content, list) else []
        text = " ".join(short(b.get("text"), 500) for b in blocks if b.get("type") == "text")
        usage = msg.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        if text.startswith("[API Error:") and not count(usage.get("input_tokens")):
            self.last_error, self.error_at = text, time.time()
            cls, status = classify(text)
            return [{"kind": "api_error", "error": str(cls), "status": status,
                     "api_error": text[:60]}]
        signals: list[Signal] = []
        mid = short(msg.get("id"), 100)
        if mid and mid not in self._answers:
            self._answers[mid] = None
            if len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)
            signals += self._usage(mid, short(msg.get("model"), 100) or self.model, usage)
        self.turns += 1
        tool = ""
        for b in blocks:
            if b.get("type") == "tool_use":
                self.tools += 1
                tool = short(b.get("name"), 60)
                self._calls[short(b.get("id"), 100)] = (tool, b.get("input"))
                if len(self._calls) > MAX_CALLS:
                    self._calls.popitem(last=False)
        return signals + self._activity(tool=tool)

    def _usage(self, mid: str, model: str, usage: dict[str, Any]) -> list[Signal]:
        inp, cached, out = (count(usage.get("input_tokens")),
                            count(usage.get("cache_read_input_tokens")),
                            count(usage.get("output_tokens")))
        cached = min(cached, inp)  # its input includes the cached part
        step = {"input": inp - cached, "output": out, "cache_read": cached, "cache_write": 0}
        if not any(step.values()):
            return []
        if model not in self.models and len(self.models) >= 20:
            model = self.model
        acc = self.models.setdefault(model, dict.fromkeys(step, 0))
        for k, v in step.items():
            acc[k] = min(acc[k] + v, 10**12)
        return [{"kind": "usage", "message": mid, "model": model, **step}]

    def _activity(self, *, tool: str = "") -> list[Signal]:
        now = time.monotonic()
        if not tool and now - self._last_activity < ACTIVITY_EVERY:
            return []
        self._last_activity = now
        return [{"kind": "activity", "turn": self.turns, "tools": self.tools, "tool": tool}]

    def _results(self, content: Any) -> list[Signal]:
        out: list[Signal] = []
        for b in content[:200] if isinstance(content, list) else []:
            if not isinstance(b, dict) or b.get("type") != "tool_result" or not b.get(
                    "is_error"):
                continue
            said = short(b.get("content"), 300)
            if any(d in said for d in DENIED):
                call = self._calls.get(short(b.get("tool_use_id"), 100))
                out += self._denial(b.get("tool_use_id"), call[0] if call else "",
                                    call[1] if call else None, said)
        return out

    def _denial(self, call_id: Any, tool: str, params: Any, message: str) -> list[Signal]:
        cid = short(call_id, 100)
        if cid and cid in self._denied:
            return []  # its tool_result said it already
        if cid and len(self._denied) < MAX_CALLS:
            self._denied.add(cid)
        rule = denial_rule(tool, params, self.allowed) if tool else "a tool"
        if rule not in self.denials and len(self.denials) < MAX_DENIALS:
            self.denials.append(rule)
        return [{"kind": "permission_denied", "tool": tool or "a tool", "rule": rule,
                 "message": message}]

    def _unseen(self) -> None:
        """Add what the result line's total holds beyond the answers printed (a resumed run's
        unprinted request) to the session's model."""
        u = self.result.get("usage") if isinstance(self.result, dict) else None
        if not isinstance(u, dict):
            return
        inp = count(u.get("input_tokens"))
        total = {"cache_read": min(count(u.get("cache_read_input_tokens")), inp),
                 "output": count(u.get("output_tokens"))}
        total["input"] = inp - total["cache_read"]
        base = self.baseline
        run = {k: max(0, v - base.get(k, 0) + (base.get("cache_read", 0) if k == "input"
                                                 else 0)) for k, v in total.items()}
        seen = {k: sum(m[k] for m in self.models.values()) for k in run}
        more = {k: max(0, run[k] - seen[k]) for k in run}
        if any(more.values()):
            acc = self.models.setdefault(self.model, dict.fromkeys(
                ("input", "output", "cache_read", "cache_write"), 0))
            for k, v in more.items():
                acc[k] += v

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.session_id:
            out["session_id"] = self.session_id
            # What a resume must subtract: the session's total so far (read by the supervisor).
            u = self.result.get("usage") if isinstance(self.result, dict) else None
            if isinstance(u, dict):
                out["session_tokens"] = {
                    "input_tokens": count(u.get("input_tokens")),
                    "cached_input_tokens": count(u.get("cache_read_input_tokens")),
                    "cache_write_input_tokens": 0, "output_tokens": count(u.get("output_tokens"))}
        self._unseen()
        if self.models:
            out["models"] = {name: model_usage(u["input"], u["cache_read"], 0, u["output"])
                             for name, u in self.models.items()}
            out["tokens"] = sum(u["input"] + u["cache_read"] + u["output"]
                                for u in self.models.values())
        r = self.result
        err = r.get("error") if isinstance(r, dict) else None
        message = short(err.get("message"), 500) if isinstance(err, dict) else ""
        failed = bool(r.get("is_error")) if isinstance(r, dict) else bool(
            self.last_error and self.exit_code)
        if failed:
            message = message or self.last_error or f"exit code {self.exit_code}"
            cls, status = classify(message)
            out["outcome"] = {"is_error": True,
                              "subtype": short(r.get("subtype"), 60) if r else "error",
                              "api_status": status, "api_error": str(cls),
                              "message": message[:300], "denials": list(self.denials)}
            out["agent_error"] = message[:300]
            if cls == ErrorClass.USAGE_LIMIT:
                # Qwen Code passes on the provider's words only: no reset time.
                out["usage_limited_until"] = (self.error_at or time.time()) + FALLBACK_WAIT
                out["limit_type"] = "usage_limit_no_reset"
        elif self.denials:
            out["outcome"] = {"is_error": False, "subtype": "success",
                              "denials": list(self.denials)}
        return out
