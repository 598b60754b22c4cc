"""Gemini CLI (``gemini --output-format stream-json``), read from its own output.

Facts from Gemini CLI 0.61 (transcripts recorded from the real CLI are in
``tests/data/gemini``):

* ``init`` carries ``session_id`` and ``model``; the session is resumed with ``--resume ID``;
* ``message`` (``role`` user or assistant, text in ``content``), ``tool_use`` (``tool_name``,
  ``tool_id``, ``parameters``) and ``tool_result`` (``status`` success or error, with
  ``error.type``): signs of life. A tool the approval mode leaves out (``--approval-mode
  auto_edit`` has no shell in a headless run) is answered ``tool_not_registered``: a denial;
* ``result`` ends the run: ``status`` success or error, ``error.message`` (the API's JSON error
  inside ``[API Error: ...]``, or a sentence such as "You have exhausted your daily quota"),
  and ``stats.models.<model>`` with ``input_tokens`` (``cached`` inside), ``output_tokens``
  and ``total_tokens`` (thinking tokens are in the total only);
* the exit code of a run ended by an API error is its HTTP status modulo 256 (401 exits 145);
* a quota error never says when the quota resets.
"""

from __future__ import annotations

import json
import re
import time
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

ACTIVITY_EVERY = 5.0
# tool_not_registered: the approval mode left the tool out; policy_violation: an allowed
# tool's call was refused by the policy (a shell command no --allowed-tools rule covers).
DENIED_TYPES = frozenset({"tool_not_registered", "policy_violation", "permission_denied",
                          "policy_denied", "execution_denied", "tool_disabled"})
MAX_OPEN_CALLS = 256

_API_JSON = re.compile(r"\[API Error:\s*(\{.*\})\s*\]", re.DOTALL)
_PHRASES: tuple[tuple[re.Pattern[str], ErrorClass], ...] = (
    # A spent daily (or other terminal) quota; the API's own "Resource has been exhausted
    # (e.g. check quota)" is a plain 429 that Gemini CLI retried ten times: a rate limit.
    (re.compile(r"exhausted your \w+ quota|quota on this model", re.IGNORECASE),
     ErrorClass.USAGE_LIMIT),
    (re.compile(r"input token count .{0,40}exceeds|context window|too long",
                re.IGNORECASE), ErrorClass.CONTEXT),
    (re.compile(r"API key not valid|API_KEY_INVALID|UNAUTHENTICATED", re.IGNORECASE),
     ErrorClass.AUTH),
)


def _segment_rule(segment: str) -> str | None:
    """``run_shell_command(git add)`` for one simple command: the program, and its second word
    when that is a subcommand, not an argument (a quoted string, an option, a path)."""
    words = segment.split()[:2]
    if not words or not re.fullmatch(r"[\w.-]+", words[0]):
        return None
    if len(words) == 2 and re.fullmatch(r"[a-z][\w-]*", words[1]):
        return f"run_shell_command({words[0]} {words[1]})"
    return f"run_shell_command({words[0]})"


def _covered(rule: str, allowed: tuple[str, ...]) -> bool:
    inner = rule[len("run_shell_command("):-1]
    for a in allowed:
        if a == "run_shell_command":
            return True
        if a.startswith("run_shell_command(") and a.endswith(")"):
            prefix = a[len("run_shell_command("):-1].split()
            if inner.split()[:len(prefix)] == prefix:
                return True
    return False


def denial_rule(tool: str, params: Any, allowed: tuple[str, ...] = ()) -> str:
    """The ``--allowed-tools`` rule that would have allowed a refused call: for a shell
    command, that of its first simple command no rule in ``allowed`` covers (Gemini refuses a
    chained command when any part is not allowed); the tool's name for anything else."""
    if tool == "run_shell_command" and isinstance(params, dict):
        cmd = str(params.get("command", ""))[:4000]
        rules = [r for r in (_segment_rule(s) for s in re.split(r"&&|\|\||;|\|", cmd))
                 if r is not None][:50]
        for rule in rules:
            if not _covered(rule, allowed):
                return rule
        if rules:
            return rules[0]
    return tool


def status_from_exit(code: int | None) -> int | None:
    """Gemini CLI exits with the HTTP status modulo 256: 144-255 stand for 400-511."""
    return code + 256 if code is not None and 144 <= code <= 255 else None


def classify(message: str, status: int | None) -> tuple[ErrorClass, int | None]:
    m = _API_JSON.search(message)
    if m:
        try:
            err = json.loads(m.group(1)).get("error")
        except (ValueError, AttributeError):
            err = None
        if isinstance(err, dict) and isinstance(err.get("code"), int):
            status = err["code"]
    for pattern, cls in _PHRASES:
        if pattern.search(message):
            if cls == ErrorClass.CONTEXT and status not in (None, 400):
                continue
            return cls, status
    return status_class(status) or ErrorClass.OTHER, status


class GeminiAdapter(Adapter):
    name = "gemini"
    lines = "json"  # observe() starts with object_line
    capabilities = frozenset({Can.SESSION, Can.RESUME, Can.ACTIVITY, Can.TOKENS,
                              Can.ERROR_CLASS, Can.DENIALS, Can.APPROVAL_POLICY})
    auth_hint = ("check GEMINI_API_KEY, GOOGLE_GEMINI_BASE_URL and security.auth.selectedType "
                 "in the Gemini settings")

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.model = ""
        self.result: dict[str, Any] | None = None
        self.exit_code: int | None = None
        self.turns = 0
        self.tools = 0
        self.denials: list[str] = []
        self._calls: dict[str, tuple[str, Any]] = {}  # tool_id -> (tool, parameters)
        self.allowed: tuple[str, ...] = ()  # the --allowed-tools rules it was started with
        self._last_activity = 0.0

    def configure(self, extra: Mapping[str, Any]) -> None:
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
        if kind == "init":
            self.session_id = short(obj.get("session_id"), 100) or None
            self.model = short(obj.get("model"), 100)
            if self.session_id:
                return [{"kind": "session", "session_id": self.session_id,
                         "model": self.model}]
        elif kind == "message" and obj.get("role") == "assistant":
            return self._activity()
        elif kind == "message" and obj.get("role") == "user":
            self.turns += 1
            return self._activity(force=True)
        elif kind == "tool_use":
            self.tools += 1
            if len(self._calls) < MAX_OPEN_CALLS:
                self._calls[short(obj.get("tool_id"), 200)] = (
                    short(obj.get("tool_name"), 60), obj.get("parameters"))
            return self._activity(tool=short(obj.get("tool_name"), 60))
        elif kind == "tool_result":
            return self._tool_result(obj)
        elif kind == "result":
            self.result = obj
        return []

    def _activity(self, *, force: bool = False, tool: str = "") -> list[Signal]:
        now = time.monotonic()
        if not force and now - self._last_activity < ACTIVITY_EVERY:
            return []
        self._last_activity = now
        return [{"kind": "activity", "turn": self.turns, "tools": self.tools, "tool": tool}]

    def _tool_result(self, obj: dict[str, Any]) -> list[Signal]:
        call = self._calls.pop(short(obj.get("tool_id"), 200), None)
        err = obj.get("error")
        if obj.get("status") != "error" or not isinstance(err, dict):
            return []
        etype = short(err.get("type"), 60)
        if etype not in DENIED_TYPES:
            return []
        tool = call[0] if call else short(str(obj.get("tool_id", "")).split("__", 1)[0], 60)
        rule = denial_rule(tool, call[1] if call else None, self.allowed) if tool else "a tool"
        if rule not in self.denials and len(self.denials) < 20:
            self.denials.append(rule)
        return [{"kind": "permission_denied", "tool": tool or "a tool", "rule": rule,
                 "message": short(err.get("message"), 300)}]

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.session_id:
            out["session_id"] = self.session_id
        r = self.result
        stats = r.get("stats") if isinstance(r, dict) else None
        models: dict[str, Any] = {}
        tokens = 0
        raw = stats.get("models") if isinstance(stats, dict) else None
        for name, m in list(raw.items())[:20] if isinstance(raw, dict) else []:
            if not isinstance(m, dict):
                continue
            inp, cached, outp = (count(m.get("input_tokens")), count(m.get("cached")),
                                 count(m.get("output_tokens")))
            total = max(count(m.get("total_tokens")), inp + outp)
            if not total:
                continue  # a model named in the stats that answered nothing
            cached = min(cached, inp)
            # Thinking tokens are in the total only; they are billed as output.
            models[short(name, 100)] = model_usage(inp - cached, cached, 0, total - inp)
            tokens += total
        if models:
            out["models"] = models
            out["tokens"] = tokens
        failed = isinstance(r, dict) and r.get("status") == "error"
        status = status_from_exit(self.exit_code)
        if failed or status is not None:
            err = r.get("error") if isinstance(r, dict) else None
            message = short(err.get("message") if isinstance(err, dict) else "", 500)
            cls, status = classify(message, status)
            out["outcome"] = {"is_error": True, "subtype": "error", "api_status": status,
                              "api_error": str(cls), "message": message[:300],
                              "denials": list(self.denials)}
            out["agent_error"] = message[:300] or f"exit code {self.exit_code}"
            if cls == ErrorClass.USAGE_LIMIT:
                # Gemini never says when a quota resets.
                out["usage_limited_until"] = time.time() + FALLBACK_WAIT
                out["limit_type"] = "quota_no_reset"
        elif self.denials:
            out["outcome"] = {"is_error": False, "subtype": "success",
                              "denials": list(self.denials)}
        return out
