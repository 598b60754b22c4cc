"""The simulated agent speaking an agent CLI's own output format, so the demo shows mixed fleets.

``python -m swarmtui.fake_speech --speaks codex [fake-agent options] -- [the CLI's arguments]``
runs the simulated agent (``fake_agent.py``) printing what that CLI prints, which its adapter
in the wrapper reads: Claude Code's ``stream-json`` (session, messages, tool uses, a result
with tokens and cost), Codex's ``exec --json`` events (thread, items, ``turn.completed`` usage)
or Gemini CLI's ``stream-json`` (init, messages, tool uses, a result with stats). The shapes are
those of the transcripts recorded from the real CLIs (``tests/data/<cli>``; a test checks every
line here against them). What follows ``--`` (``exec --json``, what the launcher adds) is the
real CLI's and is ignored. ``--limited-key WORD``: when the account key the attempt got holds
WORD, the agent does a first step and then hits its usage limit, as that CLI says it, so the
demo shows a task moving to another account, of another CLI.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

STYLES = ("claude", "codex", "gemini")
MODELS = {"claude": "claude-sonnet-4-5", "codex": "gpt-5.5", "gemini": "gemini-2.5-pro"}
# Where each CLI reads its key (adapters/credentials.py): a limited account's key is seen here.
KEY_VARIABLES = ("CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY", "CODEX_API_KEY",
                 "OPENAI_API_KEY", "GEMINI_API_KEY")
STEP_IN, STEP_OUT = 1200, 80  # tokens per simulated model call
CLAUDE_RATES = (3.0, 15.0)  # the simulated Claude's own cost per million tokens (in, out)
EXIT_LIMITED = {"claude": 1, "codex": 1, "gemini": 173}  # as the recorded CLIs exited


def limited(word: str) -> bool:
    """Whether the attempt's account key holds ``word`` (the demo's limited account)."""
    return bool(word) and any(word in os.environ.get(v, "") for v in KEY_VARIABLES)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Speaker:
    """Prints one CLI's events for what the simulated agent does."""

    def __init__(self, style: str, prompt: str = "") -> None:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r} (known: {', '.join(STYLES)})")
        self.style = style
        self.model = MODELS[style]
        self.session = str(uuid.uuid4())
        self.prompt = " ".join(prompt.split())[:200]
        self.calls = 0  # model calls so far (each simulated step is one)
        self.tools = 0
        self.started = time.monotonic()

    def _emit(self, obj: dict[str, Any]) -> None:
        print(json.dumps(obj, separators=(",", ":")), flush=True)

    def start(self) -> None:
        if self.style == "claude":
            self._emit({"type": "system", "subtype": "init", "cwd": os.getcwd(),
                        "session_id": self.session, "tools": ["Bash", "Edit", "Read", "Write"],
                        "model": self.model, "permissionMode": "acceptEdits",
                        "uuid": str(uuid.uuid4())})
        elif self.style == "codex":
            self._emit({"type": "thread.started", "thread_id": self.session})
            self._emit({"type": "turn.started"})
        else:
            self._emit({"type": "init", "timestamp": _now(), "session_id": self.session,
                        "model": self.model})
            self._emit({"type": "message", "timestamp": _now(), "role": "user",
                        "content": self.prompt})

    def said(self, text: str) -> None:
        self.calls += 1
        if self.style == "claude":
            self._assistant([{"type": "text", "text": text}])
        elif self.style == "codex":
            self._emit({"type": "item.completed", "item": {
                "id": f"item_{self.calls + self.tools}", "type": "agent_message", "text": text}})
        else:
            self._emit({"type": "message", "timestamp": _now(), "role": "assistant",
                        "content": text, "delta": True})

    def ran(self, command: str) -> None:
        """A shell command the agent ran (and that succeeded)."""
        self.tools += 1
        if self.style == "claude":
            tid = f"toolu_fake{uuid.uuid4().hex[:24]}"
            self._assistant([{"type": "tool_use", "id": tid, "name": "Bash",
                              "input": {"command": command, "description": "commit"}}])
            self._emit({"type": "user", "message": {"role": "user", "content": [
                {"tool_use_id": tid, "type": "tool_result",
                 "content": "(Bash completed with no output)", "is_error": False}]},
                "parent_tool_use_id": None, "session_id": self.session,
                "uuid": str(uuid.uuid4())})
        elif self.style == "codex":
            item = {"id": f"item_{self.calls + self.tools}", "type": "command_execution",
                    "command": f"/bin/bash -lc {shlex.quote(command)}", "aggregated_output": "",
                    "exit_code": None, "status": "in_progress"}
            self._emit({"type": "item.started", "item": item})
            self._emit({"type": "item.completed", "item": {**item, "exit_code": 0,
                                                             "status": "completed"}})
        else:
            tid = f"run_shell_command__run_shell_command_{time.time_ns() // 1000}_0"
            self._emit({"type": "tool_use", "timestamp": _now(), "tool_name": "run_shell_command",
                        "tool_id": tid, "parameters": {"command": command}})
            self._emit({"type": "tool_result", "timestamp": _now(), "tool_id": tid,
                        "status": "success", "output": ""})

    def _assistant(self, content: list[dict[str, Any]]) -> None:
        self._emit({"type": "assistant", "message": {
            "id": f"msg_fake{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "model": self.model, "content": content, "stop_reason": None,
            "stop_sequence": None, "usage": {"input_tokens": STEP_IN,
                                             "cache_creation_input_tokens": 0,
                                             "cache_read_input_tokens": 0,
                                             "output_tokens": STEP_OUT}},
            "parent_tool_use_id": None, "session_id": self.session, "uuid": str(uuid.uuid4())})

    def _tokens(self) -> tuple[int, int]:
        """Every message and tool call so far was one model call (Claude's per-message usage
        adds up to its result's)."""
        n = max(1, self.calls + self.tools)
        return n * STEP_IN, n * STEP_OUT

    def finish(self, summary: str) -> None:
        """The end of a turn that went through: the CLI's tokens (and Claude's cost)."""
        tin, tout = self._tokens()
        ms = int((time.monotonic() - self.started) * 1000)
        if self.style == "claude":
            cost = round((tin * CLAUDE_RATES[0] + tout * CLAUDE_RATES[1]) / 1e6, 9)
            usage = {"input_tokens": tin, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 0, "output_tokens": tout}
            self._emit({"type": "result", "subtype": "success", "is_error": False,
                        "duration_ms": ms, "duration_api_ms": ms, "num_turns": self.calls,
                        "result": summary, "stop_reason": "end_turn",
                        "session_id": self.session, "total_cost_usd": cost, "usage": usage,
                        "modelUsage": {self.model: {
                            "inputTokens": tin, "outputTokens": tout, "cacheReadInputTokens": 0,
                            "cacheCreationInputTokens": 0, "webSearchRequests": 0,
                            "costUSD": cost, "contextWindow": 200000,
                            "maxOutputTokens": 64000}},
                        "permission_denials": [], "terminal_reason": "completed",
                        "api_error_status": None, "uuid": str(uuid.uuid4())})
        elif self.style == "codex":
            self.said(summary)
            self._emit({"type": "turn.completed", "usage": {
                "input_tokens": tin, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
                "output_tokens": tout, "reasoning_output_tokens": 0}})
        else:
            self.said(summary)
            stats = {"total_tokens": tin + tout, "input_tokens": tin, "output_tokens": tout,
                     "cached": 0, "input": tin}
            self._emit({"type": "result", "timestamp": _now(), "status": "success",
                        "stats": {**stats, "duration_ms": ms, "tool_calls": self.tools,
                                  "models": {self.model: stats}}})

    def usage_limit(self, reset: float) -> int:
        """The CLI's words for a usage limit that lifts at ``reset``; its exit code."""
        if self.style == "claude":
            when = datetime.fromtimestamp(reset, UTC).strftime("%-I:%M%p").lower()
            text = f"You've hit your 5-hour limit · resets {when} (UTC)"
            info = {"status": "rejected", "resetsAt": int(reset), "rateLimitType": "five_hour",
                    "overageStatus": "rejected", "isUsingOverage": False}
            self._emit({"type": "rate_limit_event", "rate_limit_info": info,
                        "uuid": str(uuid.uuid4()), "session_id": self.session})
            self._emit({"type": "assistant", "message": {
                "id": str(uuid.uuid4()), "model": "<synthetic>", "role": "assistant",
                "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message",
                "usage": {"input_tokens": 0, "output_tokens": 0,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
                "content": [{"type": "text", "text": text}]},
                "parent_tool_use_id": None, "session_id": self.session,
                "uuid": str(uuid.uuid4()), "error": "rate_limit", "is_api_error_message": True,
                "api_error_status": 429, "api_error": "usage_limit_reached",
                "api_error_params": {"rate_limit_info": info},
                "api_error_type": "rate_limit_error"})
            tin, tout = self._tokens()
            self._emit({"type": "result", "subtype": "success", "is_error": True,
                        "duration_ms": 0, "duration_api_ms": 0, "num_turns": self.calls,
                        "result": text, "stop_reason": "stop_sequence",
                        "session_id": self.session, "total_cost_usd": round(
                            (tin * CLAUDE_RATES[0] + tout * CLAUDE_RATES[1]) / 1e6, 9),
                        "usage": {"input_tokens": tin, "cache_creation_input_tokens": 0,
                                  "cache_read_input_tokens": 0, "output_tokens": tout},
                        "modelUsage": {}, "permission_denials": [], "terminal_reason": "api_error",
                        "api_error_status": 429, "api_error_type": "rate_limit_error",
                        "api_error": "usage_limit_reached", "uuid": str(uuid.uuid4())})
        elif self.style == "codex":
            when = datetime.fromtimestamp(reset).strftime("%-I:%M %p")  # Codex: local time
            text = (f"You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/"
                    f"pro), visit https://chatgpt.com/settings/usage to purchase more credits or "
                    f"try again at {when}.")
            self._emit({"type": "error", "message": text})
            self._emit({"type": "turn.failed", "error": {"message": text}})
        else:
            self._emit({"type": "result", "timestamp": _now(), "status": "error", "error": {
                "type": "unknown", "message": "[API Error: You have exhausted your daily quota "
                "on this model.]\nPlease wait and try again later."}, "stats": {
                "total_tokens": 0, "input_tokens": 0, "output_tokens": 0, "cached": 0,
                "input": 0, "duration_ms": 0, "tool_calls": 0}})
        return EXIT_LIMITED[self.style]


def main(argv: list[str] | None = None) -> int:
    import argparse

    from swarmtui import fake_agent

    args = list(sys.argv[1:] if argv is None else argv)
    own = args[:args.index("--")] if "--" in args else args  # the rest is the real CLI's
    parser = argparse.ArgumentParser(prog="swarmtui.fake_speech", allow_abbrev=False)
    fake_agent.add_arguments(parser)
    parser.set_defaults(speaks="claude")
    return fake_agent.run(parser.parse_args(own))


if __name__ == "__main__":
    raise SystemExit(main())
