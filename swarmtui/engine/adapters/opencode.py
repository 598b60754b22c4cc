"""opencode (``opencode run --format json``), read from its own output.

Facts from opencode 1.18 (transcripts recorded from the real CLI are in ``tests/data/opencode``):

* every line is ``{"type", "timestamp", "sessionID", ...}``: the session is on each line (there
  is no start line); it is continued with ``opencode run --session ID``;
* ``step_start`` opens one model request (a turn), ``tool_use`` is a finished tool call
  (``part.tool``, ``part.state.status`` completed or error, ``part.state.input``), ``text`` the
  model's words: signs of life;
* ``step_finish`` closes a request with its own tokens and cost: ``part.tokens`` (``input``
  without the cached part, ``output`` without ``reasoning``, ``cache.read``, ``cache.write``)
  and ``part.cost`` in dollars (from the model's prices in opencode's config; 0 when none);
  the model is never named (the launcher passes the one ``-m`` sets);
* a permission that asks is refused in a headless run (``--auto`` approves instead): the call
  ends ``status: error`` with "The user rejected permission to use this specific tool call."
  (a rule that denies says "The user has specified a rule which prevents you ..."), and
  opencode stops the run there, exit code 0;
* ``error`` ends a failed run (exit code 1): ``error.name`` (``APIError``,
  ``ContextOverflowError``, ``ProviderAuthError``, ...) and ``error.data`` with the HTTP
  ``statusCode``, the provider's ``responseHeaders`` (``retry-after``, ``x-ratelimit-reset-*``)
  and ``responseBody``; opencode has retried a retryable error (429, 5xx) silently first, with
  backoff (six requests in about 80 s without a ``retry-after``).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from swarmtui.engine.adapters.apierrors import (
    FALLBACK_WAIT,
    ErrorClass,
    count,
    short,
    status_class,
)
from swarmtui.engine.adapters.base import Adapter, Can, Signal, object_line

ACTIVITY_EVERY = 5.0
DEFAULT_MODEL = "opencode"  # when the command line names no model
MAX_DENIALS = 20
REJECTED = ("rejected permission", "specified a rule which prevents")
# Error codes of a spent quota or plan limit (OpenAI's insufficient_quota, a ChatGPT plan's
# usage_limit_reached) as opposed to a short-term rate limit.
_USAGE_CODES = frozenset({"insufficient_quota", "usage_limit_reached", "quota_exceeded"})
_USAGE_WORDS = re.compile(r"exceeded your current quota|usage limit|quota exceeded",
                          re.IGNORECASE)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def model_name(spec: str) -> str:
    """``anthropic/claude-sonnet-4-5`` -> ``claude-sonnet-4-5``: the name the price table
    knows (opencode names a model by its provider and its id)."""
    return short(spec.split("/", 1)[-1], 100)


def duration(text: str) -> float | None:
    """``6m0s``, ``1.5s``, ``250ms`` (OpenAI's ``x-ratelimit-reset-*``) in seconds."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * _SECONDS[u] for n, u in parts)


def wait_from_headers(headers: Mapping[str, Any], now: float) -> float | None:
    """Seconds until the provider says to try again: ``retry-after-ms``, ``retry-after``
    (seconds or an HTTP date), else the later of ``x-ratelimit-reset-requests`` and
    ``-tokens``."""
    h = {str(k).lower(): str(v)[:100] for k, v in list(headers.items())[:100]}
    try:
        if "retry-after-ms" in h:
            return max(0.0, float(h["retry-after-ms"]) / 1000.0)
        if "retry-after" in h:
            v = h["retry-after"].strip()
            if re.fullmatch(r"\d+(\.\d+)?", v):
                return float(v)
            return max(0.0, parsedate_to_datetime(v).timestamp() - now)
    except (ValueError, TypeError, OverflowError):
        pass
    waits = [w for k in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
             if k in h and (w := duration(h[k])) is not None]
    return max(waits) if waits else None


def _body_error(body: Any) -> dict[str, Any]:
    """The provider's ``{"error": {...}}`` from a response body (text), or {}."""
    if not isinstance(body, str) or len(body) > 100_000:
        return {}
    try:
        obj = json.loads(body)
    except ValueError:
        return {}
    err = obj.get("error") if isinstance(obj, dict) else None
    return err if isinstance(err, dict) else {}


def classify(error: Mapping[str, Any]) -> tuple[ErrorClass, int | None]:
    """The class of an ``error`` line's error and the HTTP status it carries."""
    name = short(error.get("name"), 60)
    data = error.get("data")
    data = data if isinstance(data, dict) else {}
    raw = data.get("statusCode")
    status = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    body = _body_error(data.get("responseBody"))
    code = short(body.get("code") or body.get("type"), 60).lower()
    message = short(data.get("message") or body.get("message"), 500)
    if name == "ContextOverflowError" or code == "context_length_exceeded":
        return ErrorClass.CONTEXT, status
    if name == "ProviderAuthError":
        return ErrorClass.AUTH, status
    if code in _USAGE_CODES or (status == 429 and _USAGE_WORDS.search(message)):
        return ErrorClass.USAGE_LIMIT, status
    return status_class(status) or ErrorClass.OTHER, status


def reset_at(error: Mapping[str, Any], now: float) -> float | None:
    """When a usage limit lifts, as the provider said it: the body's ``resets_at`` or
    ``resets_in_seconds``, else its headers; None when it said nothing."""
    data = error.get("data")
    data = data if isinstance(data, dict) else {}
    body = _body_error(data.get("responseBody"))
    at, within = body.get("resets_at"), body.get("resets_in_seconds")
    if count(at) > 1e9:  # epoch seconds (milliseconds accepted)
        return float(count(at)) / (1000.0 if count(at) > 1e11 else 1.0)
    if count(within):
        return now + count(within)
    headers = data.get("responseHeaders")
    wait = wait_from_headers(headers, now) if isinstance(headers, dict) else None
    return now + wait if wait is not None else None


def _segments(command: str) -> list[str]:
    return [s.strip() for s in re.split(r"&&|\|\||;|\|", command[:4000]) if s.strip()][:50]


def _segment_rule(segment: str) -> str | None:
    """``bash(git add *)``: opencode's own permission and pattern for one simple command (the
    program, and its second word when that is a subcommand)."""
    words = segment.split()[:2]
    if not words or not re.fullmatch(r"[\w.-]+", words[0]):
        return None
    if len(words) == 2 and re.fullmatch(r"[a-z][\w-]*", words[1]):
        return f"bash({words[0]} {words[1]} *)"
    return f"bash({words[0]} *)"


def _matches(pattern: str, segment: str) -> bool:
    rx = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(rx, segment, re.DOTALL) is not None or (
        pattern.endswith(" *") and segment == pattern[:-2])


def denial_rule(tool: str, params: Any, allowed: tuple[str, ...] = ()) -> str:
    """The rule that would have let a refused call run: for a shell command, that of its first
    simple command no allowed pattern covers; the tool's name for anything else."""
    if tool == "bash" and isinstance(params, dict):
        patterns = [a[len("bash("):-1] for a in allowed if a.startswith("bash(")]
        rules: list[tuple[str, str]] = [
            (seg, r) for seg in _segments(str(params.get("command", "")))
            if (r := _segment_rule(seg)) is not None]
        for seg, rule in rules:
            if not any(_matches(p, seg) for p in patterns):
                return rule
        if rules:
            return rules[0][1]
    return tool


class OpencodeAdapter(Adapter):
    name = "opencode"
    lines = "json"  # observe() starts with object_line
    # No retries said (it retries silently), no context fill, no hooks.
    capabilities = frozenset({Can.SESSION, Can.RESUME, Can.ACTIVITY, Can.TOKENS, Can.COST,
                              Can.ERROR_CLASS, Can.LIMIT_RESET, Can.DENIALS,
                              Can.APPROVAL_POLICY})
    auth_hint = ("check the provider's key (its apiKey or env in opencode's config, or "
                 "`opencode auth login`) and its baseURL")

    def __init__(self) -> None:
        self.model = DEFAULT_MODEL
        self.session_id: str | None = None
        self.turns = 0
        self.tools = 0
        self.steps = 0
        self.totals = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
        self.cost = 0.0
        self.error: dict[str, Any] | None = None
        self.error_at = 0.0
        self.exit_code: int | None = None
        self.denials: list[str] = []
        self.allowed: tuple[str, ...] = ()  # the bash(...) rules it was started with
        self._last_activity = 0.0

    def configure(self, extra: Mapping[str, Any]) -> None:
        model = extra.get("model")
        if isinstance(model, str) and model.strip():
            self.model = model_name(model)
        rules = extra.get("allowed")
        if isinstance(rules, list):
            self.allowed = tuple(short(r, 200) for r in rules[:200] if isinstance(r, str))

    def exited(self, code: int | None) -> None:
        self.exit_code = code

    def observe(self, line: str) -> list[Signal]:
        obj = object_line(line)
        if obj is None:
            return []
        signals: list[Signal] = []
        sid = short(obj.get("sessionID"), 100)
        if sid and self.session_id is None:
            self.session_id = sid
            signals.append({"kind": "session", "session_id": sid, "model": self.model})
        part = obj.get("part")
        part = part if isinstance(part, dict) else {}
        kind = obj.get("type")
        if kind == "step_start":
            self.turns += 1
            signals += self._activity(force=True)
        elif kind == "tool_use":
            self.tools += 1
            signals += self._activity(tool=short(part.get("tool"), 60))
            signals += self._tool(part)
        elif kind == "text":
            signals += self._activity()
        elif kind == "step_finish":
            signals += self._step(part)
        elif kind == "error" and isinstance(obj.get("error"), dict):
            self.error, self.error_at = obj["error"], time.time()
            cls, status = classify(obj["error"])
            signals.append({"kind": "api_error", "error": str(cls), "status": status,
                            "api_error": short(obj["error"].get("name"), 60)})
        return signals

    def _activity(self, *, force: bool = False, tool: str = "") -> list[Signal]:
        now = time.monotonic()
        if not force and now - self._last_activity < ACTIVITY_EVERY:
            return []
        self._last_activity = now
        return [{"kind": "activity", "turn": self.turns, "tools": self.tools, "tool": tool}]

    def _tool(self, part: dict[str, Any]) -> list[Signal]:
        state = part.get("state")
        if not isinstance(state, dict) or state.get("status") != "error":
            return []
        message = short(state.get("error"), 300)
        if not any(r in message for r in REJECTED):
            return []
        tool = short(part.get("tool"), 60) or "a tool"
        rule = denial_rule(tool, state.get("input"), self.allowed)
        if rule not in self.denials and len(self.denials) < MAX_DENIALS:
            self.denials.append(rule)
        return [{"kind": "permission_denied", "tool": tool, "rule": rule, "message": message}]

    def _step(self, part: dict[str, Any]) -> list[Signal]:
        tokens = part.get("tokens")
        if not isinstance(tokens, dict):
            return []
        cache = tokens.get("cache")
        cache = cache if isinstance(cache, dict) else {}
        # Reasoning tokens are billed as output; opencode counts them apart.
        step = {"input": count(tokens.get("input")),
                "output": count(tokens.get("output")) + count(tokens.get("reasoning")),
                "cache_read": count(cache.get("read")), "cache_write": count(cache.get("write"))}
        for k, v in step.items():
            self.totals[k] += v
        raw = part.get("cost")
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and (
                math.isfinite(raw) and 0 <= raw < 1e6):
            self.cost += float(raw)
        self.steps += 1
        if not any(step.values()):
            return []
        return [{"kind": "usage", "message": short(part.get("id"), 100) or str(self.steps),
                 "model": self.model, **step}]

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.session_id:
            out["session_id"] = self.session_id
        if any(self.totals.values()):
            out["models"] = {self.model: {**self.totals, "cost_usd": round(self.cost, 9),
                                          "context_window": None}}
            out["tokens"] = sum(self.totals.values())
            if self.cost > 0:
                out["cost_usd"] = round(self.cost, 9)
        if self.error is not None:
            cls, status = classify(self.error)
            data = self.error.get("data")
            message = short(data.get("message") if isinstance(data, dict) else "", 500) or (
                short(self.error.get("name"), 100))
            out["outcome"] = {"is_error": True, "subtype": "error", "api_status": status,
                              "api_error": str(cls), "message": message[:300],
                              "denials": list(self.denials)}
            out["agent_error"] = message[:300]
            if cls == ErrorClass.USAGE_LIMIT:
                said = reset_at(self.error, self.error_at)
                out["usage_limited_until"] = said if said is not None else (
                    self.error_at + FALLBACK_WAIT)
                out["limit_type"] = "usage_limit" if said is not None else "usage_limit_no_reset"
            elif cls == ErrorClass.RATE_LIMIT and isinstance(data, dict) and isinstance(
                    data.get("responseHeaders"), dict):
                wait = wait_from_headers(data["responseHeaders"], self.error_at)
                if wait is not None:
                    out["retry_delay_s"] = min(wait, 86400.0)
        elif self.denials:
            # opencode stops at a refused permission and exits 0 without results.
            out["outcome"] = {"is_error": False, "subtype": "success",
                              "denials": list(self.denials)}
        return out
