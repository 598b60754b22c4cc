"""Aider (``aider --message-file FILE --yes-always --no-stream``), read from its own output.

Aider prints no JSON: its output is text for a person. Facts from Aider 0.86 (transcripts
recorded from the real CLI are in ``tests/data/aider``):

* after each model answer, ``Tokens: 1.4k sent, 60 received.`` (``cache write`` and ``cache
  hit`` figures between them when the provider says them) and, when it knows the model's
  prices, ``Cost: $0.0024 message, $0.0024 session.``; the figures are rounded (``1.4k``),
  and with streaming they are its own estimate, not the provider's (the launcher passes
  ``--no-stream``). The exact figures are in its analytics log (``--analytics-log``, written
  locally even with ``--no-analytics``): one ``message_send`` event per answer with
  ``prompt_tokens``, ``completion_tokens``, ``cost`` and ``total_cost``. The request for a
  commit message (one per commit, to its weak model) is reported nowhere;
* ``Applied edit to hello.txt`` and ``Commit eb8caca Add hello.txt`` (its auto-commits) are
  its signs of life; there is no session, and nothing to resume;
* an API error is a litellm exception, ``litellm.AuthenticationError: ...`` (the class names
  it), printed where it happened, then ``Retrying in 0.5 seconds...`` while Aider retries
  (for about a minute), or an explanation, and the run ends with exit code 0 all the same; a
  context overflow is ``Model ... has hit a token limit!``. Long lines are wrapped at the
  terminal's width. No error says when a usage limit lifts.

Aider edits only inside its repository, so it can never write the attempt's ``results.json``
(in the attempt's folder, outside the worktree). When it exits 0 with no API error after
committing its edits, this adapter writes that file for it (``exited``), saying in the summary
and in ``reported_by`` that the words are swarmtui's, read off Aider's exit and commits, not
the agent's own: status ``done`` and the files it edited, for the task's verify command to
judge. A run that committed nothing writes none (the attempt fails as ended without results).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from swarmtui.engine.adapters.apierrors import FALLBACK_WAIT, ErrorClass, count, short
from swarmtui.engine.adapters.base import MAX_LINE, Adapter, Can, Signal

MAX_LOG = 8 * 1024 * 1024  # the analytics log is read up to this size
MAX_NOTED = 50  # commit subjects and edited files kept for the results it writes
REPORTED_BY = "swarmtui's aider adapter, from Aider's exit and commits"
_TOKENS = re.compile(r"^Tokens: ([\d.]+k?) sent(?:, ([\d.]+k?) cache write)?"
                     r"(?:, ([\d.]+k?) cache hit)?, ([\d.]+k?) received\.")
_COST = re.compile(r"Cost: \$(\d+(?:\.\d+)?) message, \$(\d+(?:\.\d+)?) session\.")
_COMMIT = re.compile(r"^Commit ([0-9a-f]{7,40}) (.{0,200})")
_APPLIED = re.compile(r"^Applied edit to (.{1,300})$")
_RETRY = re.compile(r"^Retrying in (\d+(?:\.\d+)?) seconds")
_LITELLM = re.compile(r"^litellm\.(\w{1,60}): ?(.*)")
_TOKEN_LIMIT = re.compile(r"^Model .{0,200} has hit a token limit!")
_USAGE_WORDS = re.compile(r"exceeded your current quota|insufficient_quota|usage limit|"
                          r"quota exceeded", re.IGNORECASE)
# litellm's exception classes: what each says and the HTTP status it stands for.
_CLASSES: dict[str, tuple[ErrorClass, int | None]] = {
    "AuthenticationError": (ErrorClass.AUTH, 401),
    "PermissionDeniedError": (ErrorClass.AUTH, 403),
    "RateLimitError": (ErrorClass.RATE_LIMIT, 429),
    "ContextWindowExceededError": (ErrorClass.CONTEXT, 400),
    "InternalServerError": (ErrorClass.SERVER, 500),
    "APIError": (ErrorClass.SERVER, 500),
    "ServiceUnavailableError": (ErrorClass.OVERLOADED, 503),
    "BadRequestError": (ErrorClass.OTHER, 400),
    "NotFoundError": (ErrorClass.OTHER, 404),
}


def figure(text: str | None) -> int:
    """``1.4k`` -> 1400, ``60`` -> 60 (Aider's rounded token counts)."""
    if not text:
        return 0
    try:
        v = float(text[:-1]) * 1000 if text.endswith("k") else float(text)
    except ValueError:
        return 0
    return count(v) if math.isfinite(v) else 0


def model_name(spec: str) -> str:
    """``openai/gpt-5.5`` -> ``gpt-5.5``: the name the price table knows."""
    return short(spec.rsplit("/", 1)[-1], 100)


class AiderAdapter(Adapter):
    name = "aider"
    capabilities = frozenset({Can.ACTIVITY, Can.TOKENS, Can.COST, Can.API_RETRY,
                              Can.ERROR_CLASS})
    auth_hint = ("check the provider's key Aider reads (OPENAI_API_KEY for openai/ models, "
                 "ANTHROPIC_API_KEY, ...) and --openai-api-base")

    def __init__(self) -> None:
        self.model = "aider"
        self.log: Path | None = None
        self.answers = 0
        self.text = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
        self.session_cost = 0.0
        self.commits = 0
        self.edits = 0
        self.error: tuple[str, str] | None = None  # (litellm class, message) of the last error
        self.error_at = 0.0
        self._reading_error = False
        self.results_file: Path | None = None
        self.subjects: list[str] = []  # of its commits
        self.files: list[str] = []  # it applied edits to

    def configure(self, extra: Mapping[str, Any]) -> None:
        model = extra.get("model")
        if isinstance(model, str) and model.strip():
            self.model = model_name(model)
        log = extra.get("analytics_log")
        if isinstance(log, str) and log.startswith("/"):
            self.log = Path(log)
        results = extra.get("results_file")
        if isinstance(results, str) and results.startswith("/"):
            self.results_file = Path(results)

    def observe(self, line: str) -> list[Signal]:
        if len(line) > MAX_LINE:
            return []
        text = line.strip()
        signals = self._line(text)
        if signals is not None:
            self._reading_error = bool(signals) and signals[0]["kind"] == "api_error" and (
                signals[0]["api_error"] != "token limit")
            return signals
        if self._reading_error and text and self.error is not None and len(
                self.error[1]) < 500:
            # The exception's message goes on over the lines its wrapping made.
            self.error = (self.error[0], short(f"{self.error[1]} {text}", 500))
        else:
            self._reading_error = False
        return []

    def _line(self, text: str) -> list[Signal] | None:
        """The signals of a line Aider prints in a known shape; None for any other line."""
        if m := _TOKENS.match(text):
            return self._answer(m, text)
        if m := _COST.search(text):  # on a line of its own after cache figures
            self._cost(m)
            return []
        if m := _COMMIT.match(text):
            self.commits += 1
            if len(self.subjects) < MAX_NOTED:
                self.subjects.append(m.group(2).strip())
            return [{"kind": "activity", "turn": self.answers, "tools": self.edits,
                     "tool": f"commit {m.group(1)}"}]
        if m := _APPLIED.match(text):
            self.edits += 1
            if len(self.files) < MAX_NOTED and m.group(1).strip() not in self.files:
                self.files.append(m.group(1).strip())
            return [{"kind": "activity", "turn": self.answers, "tools": self.edits,
                     "tool": "edit"}]
        if m := _RETRY.match(text):
            self.error = None
            return [{"kind": "api_retry", "attempt": 0, "max_retries": 0,
                     "delay_ms": count(float(m.group(1)) * 1000), "status": None,
                     "error": ""}]
        if m := _LITELLM.match(text):
            self.error, self.error_at = (m.group(1), short(m.group(2), 500)), time.time()
            cls, status = self._classify()
            return [{"kind": "api_error", "error": str(cls), "status": status,
                     "api_error": m.group(1)}]
        if _TOKEN_LIMIT.match(text):
            self.error, self.error_at = ("ContextWindowExceededError", text), time.time()
            return [{"kind": "api_error", "error": str(ErrorClass.CONTEXT), "status": None,
                     "api_error": "token limit"}]
        return None

    def exited(self, code: int | None) -> None:
        """Results on Aider's behalf (it cannot write them): only for a clean exit after
        committed edits, and never over a results.json that is there already."""
        if (code != 0 or self.error is not None or not self.commits
                or self.results_file is None):
            return
        commits = "; ".join(self.subjects) or f"{self.commits} commits"
        summary = (f"Not the agent's own word: written by {REPORTED_BY} (Aider cannot write "
                   f"this file, which is outside its repository). Aider exited 0 after "
                   f"{self.edits} edit(s) and {self.commits} commit(s): {commits}")
        data = {"status": "done", "summary": short(summary, 2000),
                "files_modified": list(self.files), "do_not_revert": False,
                "reported_by": REPORTED_BY}
        folder = self.results_file.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
            if not self.results_file.exists() and not self.results_file.is_symlink():
                os.replace(tmp, self.results_file)
            else:
                os.unlink(tmp)
        except OSError:
            return

    def _answer(self, m: re.Match[str], text: str) -> list[Signal]:
        self.answers += 1
        sent, write, hit, received = (figure(m.group(i)) for i in range(1, 5))
        step = {"input": max(0, sent - write), "output": received, "cache_read": hit,
                "cache_write": write}
        for k, v in step.items():
            self.text[k] = min(self.text[k] + v, 10**12)
        if received:
            self.error = None  # an answer came after it: the error did not end the run
        if c := _COST.search(text):
            self._cost(c)
        signals: list[Signal] = [{"kind": "activity", "turn": self.answers,
                                  "tools": self.edits, "tool": ""}]
        if any(step.values()):
            signals.append({"kind": "usage", "message": str(self.answers), "model": self.model,
                            **step})
        return signals

    def _cost(self, m: re.Match[str]) -> None:
        v = float(m.group(2))
        if math.isfinite(v) and 0 <= v < 1e6:
            self.session_cost = v

    def _classify(self) -> tuple[ErrorClass, int | None]:
        if self.error is None:
            return ErrorClass.OTHER, None
        name, message = self.error
        cls, status = _CLASSES.get(name, (ErrorClass.OTHER, None))
        if cls == ErrorClass.RATE_LIMIT and _USAGE_WORDS.search(message):
            cls = ErrorClass.USAGE_LIMIT
        return cls, status

    def _logged(self) -> tuple[dict[str, int], float] | None:
        """The exact tokens and cost of its analytics log, or None when there is none."""
        if self.log is None:
            return None
        try:
            with self.log.open("rb") as f:
                raw = f.read(MAX_LOG)
        except OSError:
            return None
        sent = received = 0
        cost, seen = 0.0, False
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            props = ev.get("properties") if isinstance(ev, dict) else None
            if ev.get("event") != "message_send" or not isinstance(props, dict):
                continue
            seen = True
            sent += count(props.get("prompt_tokens"))
            received += count(props.get("completion_tokens"))
            total = props.get("total_cost")
            if isinstance(total, (int, float)) and math.isfinite(total) and 0 <= total < 1e6:
                cost = float(total)
        if not seen:
            return None
        return {"input": min(sent, 10**12), "output": min(received, 10**12), "cache_read": 0,
                "cache_write": 0}, cost

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        logged = self._logged()
        tokens, cost = logged if logged is not None else (dict(self.text), self.session_cost)
        if any(tokens.values()):
            out["models"] = {self.model: {**tokens, "cost_usd": round(cost, 9),
                                          "context_window": None}}
            out["tokens"] = sum(tokens.values())
            if cost > 0:
                out["cost_usd"] = round(cost, 9)
        if self.error is not None:
            cls, status = self._classify()
            message = f"{self.error[0]}: {self.error[1]}"[:300]
            out["outcome"] = {"is_error": True, "subtype": "error", "api_status": status,
                              "api_error": str(cls), "message": message}
            out["agent_error"] = message
            if cls == ErrorClass.USAGE_LIMIT:
                out["usage_limited_until"] = (self.error_at or time.time()) + FALLBACK_WAIT
                out["limit_type"] = "usage_limit_no_reset"
        return out
