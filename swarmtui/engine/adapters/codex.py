"""Codex CLI (``codex exec --json``), read from its own output.

Facts from Codex CLI 0.171 (transcripts recorded from the real CLI are in ``tests/data/codex``):

* ``thread.started`` carries ``thread_id``: the session, resumed with ``codex exec resume``;
* ``turn.started``, then ``item.started`` / ``item.completed`` for each command, file change,
  tool call and message (``command_execution``, ``file_change``, ``mcp_tool_call``,
  ``agent_message``, ...): signs of life;
* ``turn.completed.usage`` (``input_tokens`` with ``cached_input_tokens`` inside,
  ``cache_write_input_tokens``, ``output_tokens`` with ``reasoning_output_tokens`` inside) is
  a running total of the whole thread: a resumed session's first total includes the earlier
  runs, so this run's share is the total less what the session had used before (the supervisor
  passes that in ``launch.json``);
* ``error`` lines say only words: ``Reconnecting... n/m (...)`` while it retries,
  ``unexpected status 401 Unauthorized: ...``, ``exceeded retry limit, last status: 429 ...``,
  ``You've hit your usage limit ... try again at 10:43 AM.`` (a local clock time),
  ``Quota exceeded. Check your plan and billing details.``, ``We're currently experiencing high
  demand`` (a 500), ``Codex ran out of room in the model's context window``;
* ``turn.failed.error.message`` is how the run ended when it failed; the model is never named
  in the stream (the launcher passes the one it set);
* what the stream leaves out (the context each request carried, the model's window, the
  rate-limit windows with their exact reset times) is in Codex's own session file, read by
  ``codex_session.py`` when the launcher passes ``CODEX_HOME``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from swarmtui.engine.adapters.apierrors import (
    FALLBACK_WAIT,
    ErrorClass,
    count,
    model_usage,
    reset_from_text,
    short,
    status_class,
)
from swarmtui.engine.adapters.base import Adapter, Can, Signal, object_line
from swarmtui.engine.adapters.codex_session import SessionFile

ACTIVITY_EVERY = 5.0  # seconds between two activity signals (the first of a turn always goes)
DEFAULT_MODEL = "codex"  # the model's name when neither its command line nor its session file
# says it
# Lines after which Codex has written a request's token_count to its session file.
SESSION_FILE_NEWS = frozenset({"item.started", "item.completed", "turn.completed",
                               "turn.failed", "error"})
TOOL_ITEMS = frozenset({"command_execution", "file_change", "mcp_tool_call", "web_search",
                        "collab_tool_call"})

_RETRY = re.compile(r"^Reconnecting\.\.\.\s*(\d+)/(\d+)\s*\((.*)\)\s*$", re.DOTALL)
_STATUS = re.compile(r"(?:unexpected status|last status:)\s*(\d{3})\b")
_PHRASES: tuple[tuple[re.Pattern[str], ErrorClass], ...] = (
    (re.compile(r"hit your usage limit", re.IGNORECASE), ErrorClass.USAGE_LIMIT),
    (re.compile(r"quota exceeded", re.IGNORECASE), ErrorClass.USAGE_LIMIT),
    (re.compile(r"context window", re.IGNORECASE), ErrorClass.CONTEXT),
    (re.compile(r"high demand", re.IGNORECASE), ErrorClass.SERVER),
)
_PHRASE_STATUS = {ErrorClass.USAGE_LIMIT: 429, ErrorClass.SERVER: 500}


def classify(message: str) -> tuple[ErrorClass, int | None]:
    """The class of a Codex error message and the HTTP status it names (if any)."""
    m = _STATUS.search(message)
    status = int(m.group(1)) if m else None
    for pattern, cls in _PHRASES:
        if pattern.search(message):
            return cls, status if status is not None else _PHRASE_STATUS.get(cls)
    return status_class(status) or ErrorClass.OTHER, status


class CodexAdapter(Adapter):
    name = "codex"
    lines = "json"  # observe() starts with object_line
    # Context fill and exact reset times come from its session file (codex_session.py).
    capabilities = frozenset({Can.SESSION, Can.RESUME, Can.ACTIVITY, Can.TOKENS,
                              Can.API_RETRY, Can.ERROR_CLASS, Can.LIMIT_RESET,
                              Can.CONTEXT_FILL, Can.APPROVAL_POLICY})
    auth_hint = ("check the key Codex reads (OPENAI_API_KEY, or the provider's env_key; "
                 "`codex login` for a ChatGPT plan) and the provider's base_url")

    def __init__(self) -> None:
        self.model = DEFAULT_MODEL
        self.baseline: dict[str, int] = {}
        self.session_id: str | None = None
        self.total: dict[str, int] | None = None  # the thread's newest running total
        self.turns = 0
        self.tools = 0
        self.failed: str | None = None  # turn.failed's message
        self.last_error: str | None = None
        self._last_activity = 0.0
        self.session: SessionFile | None = None  # Codex's own session file, when its home is known

    def configure(self, extra: Mapping[str, Any]) -> None:
        model = extra.get("model")
        if isinstance(model, str) and model.strip():
            self.model = short(model, 100)
        home = extra.get("codex_home")
        if isinstance(home, str) and home.startswith("/"):
            self.session = SessionFile(Path(home), self.model)
        base = extra.get("session_tokens")
        if isinstance(base, Mapping):
            self.baseline = {k: count(base.get(k)) for k in (
                "input_tokens", "cached_input_tokens", "cache_write_input_tokens",
                "output_tokens")}

    def observe(self, line: str) -> list[Signal]:
        obj = object_line(line)
        if obj is None:
            return []
        signals = self._event(obj)
        if self.session is not None and obj.get("type") in SESSION_FILE_NEWS:
            signals += self.session.read()  # a request has ended: its token_count is written
        return signals

    def _event(self, obj: dict[str, Any]) -> list[Signal]:
        kind = obj.get("type")
        if kind == "thread.started":
            self.session_id = short(obj.get("thread_id"), 100) or None
            if self.session_id and self.session is not None:
                self.session.attach(self.session_id)
            if self.session_id:
                return [{"kind": "session", "session_id": self.session_id, "model": self.model}]
        elif kind == "turn.started":
            self.turns += 1
            return self._activity(force=True)
        elif kind == "item.started":
            item = obj.get("item")
            if isinstance(item, dict) and item.get("type") in TOOL_ITEMS:
                self.tools += 1
                return self._activity(tool=short(item.get("type"), 40))
        elif kind == "turn.completed":
            usage = obj.get("usage")
            if isinstance(usage, dict):
                self.total = {k: count(usage.get(k)) for k in (
                    "input_tokens", "cached_input_tokens", "cache_write_input_tokens",
                    "output_tokens")}
        elif kind == "turn.failed":
            err = obj.get("error")
            self.failed = short(err.get("message") if isinstance(err, dict) else err, 500)
        elif kind == "error":
            return self._error(short(obj.get("message"), 500))
        return []

    def _activity(self, *, force: bool = False, tool: str = "") -> list[Signal]:
        now = time.monotonic()
        if not force and now - self._last_activity < ACTIVITY_EVERY:
            return []
        self._last_activity = now
        return [{"kind": "activity", "turn": self.turns, "tools": self.tools, "tool": tool}]

    def _error(self, message: str) -> list[Signal]:
        m = _RETRY.match(message)
        if m:
            cls, status = classify(m.group(3))
            return [{"kind": "api_retry", "attempt": int(m.group(1)),
                     "max_retries": int(m.group(2)), "status": status, "error": str(cls)}]
        self.last_error = message
        cls, status = classify(message)
        return [{"kind": "api_error", "error": str(cls), "status": status,
                 "api_error": message[:60]}]

    def _model(self) -> str:
        """The model its command line set, else the one its session file names."""
        if self.model == DEFAULT_MODEL and self.session is not None and self.session.model_seen:
            return self.session.model_seen
        return self.model

    def _this_run(self) -> dict[str, int] | None:
        if self.total is None:
            return None
        return {k: max(0, v - self.baseline.get(k, 0)) for k, v in self.total.items()}

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.session_id:
            out["session_id"] = self.session_id
            # What a resume must subtract: the thread's total so far (read by the supervisor).
            if self.total is not None:
                out["session_tokens"] = dict(self.total)
        run = self._this_run()
        if run is not None:
            cached = min(run["cached_input_tokens"], run["input_tokens"])
            out["models"] = {self._model(): model_usage(
                run["input_tokens"] - cached, cached, run["cache_write_input_tokens"],
                run["output_tokens"])}
            out["tokens"] = run["input_tokens"] + run["output_tokens"] + run[
                "cache_write_input_tokens"]
        message = self.failed or (self.last_error if self.total is None else None)
        if message:
            cls, status = classify(message)
            out["outcome"] = {"is_error": True, "subtype": "turn_failed",
                              "api_status": status, "api_error": str(cls),
                              "message": message[:300]}
            out["agent_error"] = message[:300]
            if cls == ErrorClass.USAGE_LIMIT:
                if self.session is not None:
                    self.session.read()
                said = (self.session.reset_at() if self.session is not None else None) or (
                    reset_from_text(message))
                out["usage_limited_until"] = said if said is not None else (
                    time.time() + FALLBACK_WAIT)
                out["limit_type"] = "usage_limit" if said is not None else "usage_limit_no_reset"
        return out
