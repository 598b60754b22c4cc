"""A Claude Code session kept open so the operator can steer it (the wrapper's side).

The agent runs ``claude -p --input-format stream-json --permission-prompt-tool stdio
--replay-user-messages``: the task goes in as the first user message on its standard input, a
tool use its settings neither allow nor deny arrives on its output as a ``control_request``
(``can_use_tool``) and waits, with no timeout of its own, for a ``control_response``; a user
message written later becomes part of the session; an ``interrupt`` control request ends the
current turn and keeps the session.

This class owns that standard input. It turns each request into a signal for the supervisor,
answers it when the operator does (through the steering pipe or the pane) or, when nobody
does, after the configured wait (deny with the reason, so an unattended run never hangs), and
answers each request once. It closes standard input (so the CLI exits) only when a turn has
ended and every message written was consumed before that end: the CLI echoes each user message
when it takes it (``isReplay``), and one written during the turn's last API call starts a new
turn after the ``result``, so a ``result`` alone does not mean the session is done.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from swarmtui.engine.adapters.base import Signal

INPUT_SHOWN = 2000  # characters of a tool's input kept in the request's signal
TEXT_MAX = 32 * 1024  # of one operator message
UNREPLAYED_GRACE = 30.0  # a written message the CLI never echoed holds the session this long
SCOPES = ("once", "task", "role")


@dataclass
class Pending:
    """A permission request the CLI waits on."""

    n: int  # the operator's number for it, per attempt: 1, 2, ...
    request_id: str  # the CLI's id
    tool: str
    input: dict[str, Any]
    suggestions: list[Any]
    rule: str
    asked_at: float
    tool_use: str = ""


def rule_of(tool: str, suggestions: list[Any]) -> str:
    """The permission rule that would allow the call (the CLI's own first suggestion):
    ``Bash(git push:*)``; the bare tool name when it suggests none."""
    for s in suggestions:
        if isinstance(s, dict) and s.get("type") == "addRules":
            for r in s.get("rules") or []:
                if isinstance(r, dict) and isinstance(r.get("toolName"), str):
                    content = r.get("ruleContent")
                    return (f"{r['toolName']}({content})" if isinstance(content, str) and content
                            else r["toolName"])[:300]
    return tool[:100]


def _for_session(suggestions: list[Any]) -> list[Any]:
    """The CLI's suggested rules, kept for this session only: its default destination writes
    a settings file into the worktree, which would end up in the task's commit."""
    return [{**s, "destination": "session"} for s in suggestions if isinstance(s, dict)]


class LiveSession:
    def __init__(self, stdin: IO[bytes], emit: Callable[[list[Signal]], None], *,
                 ask_timeout: float, timeout_reason: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stdin = stdin
        self._emit = emit
        self.ask_timeout = ask_timeout
        self.timeout_reason = timeout_reason
        self._clock = clock
        self._lock = threading.Condition()
        self._numbers = itertools.count(1)
        self.pending: dict[int, Pending] = {}
        self._answered: set[str] = set()
        self.denied_uses: set[str] = set()  # tool uses answered "deny" (by anyone, or the clock)
        self._written = 0  # user messages written
        self._replayed = 0  # user messages the CLI echoed (took)
        self._replay_after_result = False
        self._results = 0
        self._result_at: float | None = None
        self._closed = False
        self._held_open = False  # interrupted: the session waits for the operator's message
        self._ended = threading.Event()
        self.on_change: Callable[[], None] = lambda: None  # the pane redraws its hint
        threading.Thread(target=self._timeouts, name="ask-timeouts", daemon=True).start()

    # -- writing to the CLI ----------------------------------------------------------------

    def _write(self, obj: dict[str, Any]) -> bool:
        """One JSON line to the CLI (under the lock); False once its input is closed."""
        if self._closed:
            return False
        try:
            self._stdin.write((json.dumps(obj) + "\n").encode())
            self._stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            self._closed = True
            return False

    def _user(self, text: str) -> bool:
        ok = self._write({"type": "user", "message": {"role": "user", "content": text},
                          "parent_tool_use_id": None, "session_id": ""})
        if ok:
            self._written += 1
            self._held_open = False
        return ok

    def start(self, prompt: str) -> None:
        with self._lock:
            self._user(prompt)

    # -- what the CLI printed ----------------------------------------------------------------

    def on_line(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "control_request":
            self._request(obj)
        elif kind == "control_cancel_request":
            self._cancelled(obj)
        elif kind == "user" and obj.get("isReplay") is True:
            with self._lock:
                self._replayed += 1
                self._replay_after_result = self._results > 0
        elif kind == "result":
            with self._lock:
                self._results += 1
                self._result_at = self._clock()
                self._replay_after_result = False
                self._maybe_close()

    def _request(self, obj: dict[str, Any]) -> None:
        req = obj.get("request")
        rid = obj.get("request_id")
        if not isinstance(req, dict) or not isinstance(rid, str):
            return
        if req.get("subtype") != "can_use_tool":
            with self._lock:  # a request this host does not serve: say so, never hang it
                self._write({"type": "control_response", "response": {
                    "subtype": "error", "request_id": rid,
                    "error": f"swarmtui does not answer {str(req.get('subtype'))[:40]!r}"}})
            return
        tool = str(req.get("tool_name") or "?")[:100]
        given = req.get("input")
        tool_input: dict[str, Any] = given if isinstance(given, dict) else {}
        suggestions = req.get("permission_suggestions")
        suggestions = suggestions if isinstance(suggestions, list) else []
        with self._lock:
            if rid in self._answered or any(p.request_id == rid for p in self.pending.values()):
                return
            n = next(self._numbers)
            p = Pending(n, rid, tool, tool_input, suggestions, rule_of(tool, suggestions),
                        self._clock(), str(req.get("tool_use_id") or "")[:100])
            self.pending[n] = p
            self._lock.notify_all()
        self._emit([{"kind": "permission_request", "request": n, "tool": tool,
                     "input": json.dumps(tool_input, ensure_ascii=False)[:INPUT_SHOWN],
                     "rule": p.rule, "tool_use": str(req.get("tool_use_id") or "")[:100],
                     "timeout": self.ask_timeout}])
        self.on_change()

    def _cancelled(self, obj: dict[str, Any]) -> None:
        rid = obj.get("request_id")
        with self._lock:
            gone = [p for p in self.pending.values() if p.request_id == rid]
            for p in gone:
                del self.pending[p.n]
                self._answered.add(p.request_id)
        for p in gone:
            self._emit([{"kind": "permission_answer", "request": p.n, "decision": "cancelled",
                         "scope": "once", "by": "agent", "message": ""}])
        if gone:
            self.on_change()

    # -- the operator's commands -------------------------------------------------------------

    def answer(self, n: int | None, allow: bool, *, scope: str = "once", message: str = "",
               by: str = "operator") -> str:
        """Answer request ``n`` (the oldest when None). Returns what happened, in words."""
        if scope not in SCOPES:
            return f"unknown scope {scope!r}"
        with self._lock:
            if n is None:
                n = min(self.pending, default=None)
            p = self.pending.pop(n, None) if n is not None else None
            if p is None:
                return "no such request waits (answered already, or the turn ended)"
            self._answered.add(p.request_id)
            if allow:
                answer: dict[str, Any] = {"behavior": "allow", "updatedInput": p.input}
                if scope != "once" and p.suggestions:
                    answer["updatedPermissions"] = _for_session(p.suggestions)
            else:
                answer = {"behavior": "deny",
                          "message": message or "The operator denied this tool use."}
                if p.tool_use:
                    self.denied_uses.add(p.tool_use)
            ok = self._write({"type": "control_response", "response": {
                "subtype": "success", "request_id": p.request_id, "response": answer}})
            self._lock.notify_all()
            self._maybe_close()
        self._emit([{"kind": "permission_answer", "request": p.n,
                     "decision": "allow" if allow else "deny", "scope": scope, "by": by,
                     "message": message[:2000], "tool": p.tool, "rule": p.rule,
                     "delivered": ok}])
        self.on_change()
        return (f"{'allowed' if allow else 'denied'} {p.rule}" if ok
                else "the session has ended; the answer was not delivered")

    def say(self, text: str, *, ident: str = "", by: str = "operator") -> bool:
        text = text[:TEXT_MAX]
        with self._lock:
            ok = self._user(text)
        self._emit([{"kind": "said", "id": ident[:64], "text": text[:2000], "by": by,
                     "outcome": "delivered" if ok else "undelivered"}])
        return ok

    def interrupt(self, *, ident: str = "", by: str = "operator") -> bool:
        with self._lock:
            ok = self._write({"type": "control_request", "request_id": f"swarmtui-{ident}",
                              "request": {"subtype": "interrupt"}})
            self._held_open = self._held_open or ok
        self._emit([{"kind": "interrupted", "id": ident[:64], "by": by,
                     "outcome": "delivered" if ok else "undelivered"}])
        return ok

    def command(self, cmd: dict[str, Any]) -> None:
        """One command from the steering pipe (already checked to come from the supervisor)."""
        op = cmd.get("op")
        ident = str(cmd.get("id") or "")
        if op == "answer":
            n = cmd.get("request")
            self.answer(n if isinstance(n, int) else None, cmd.get("decision") == "allow",
                        scope=str(cmd.get("scope") or "once"),
                        message=str(cmd.get("message") or "")[:2000],
                        by=str(cmd.get("by") or "operator")[:40])
        elif op == "say" and isinstance(cmd.get("text"), str):
            self.say(cmd["text"], ident=ident, by=str(cmd.get("by") or "operator")[:40])
        elif op == "interrupt":
            self.interrupt(ident=ident)

    # -- ending -------------------------------------------------------------------------------

    def _maybe_close(self) -> None:
        """Under the lock: close the CLI's input once its last turn is over for good."""
        if self._closed or self._results == 0 or self.pending or self._held_open:
            return
        if self._replay_after_result:
            return  # a message it took after the last result started a turn still running
        if self._replayed < self._written:
            at = self._result_at or self._clock()
            if self._clock() - at < UNREPLAYED_GRACE:
                return  # written, not taken yet: it will start a turn
        self.close()

    def close(self) -> None:
        """Close the CLI's input: it finishes what it has and exits."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._stdin.close()
            except OSError:
                pass
            self._lock.notify_all()

    def ended(self) -> None:
        """The CLI has exited: what still waits is answered by nobody."""
        with self._lock:
            self._closed = True
            left = list(self.pending.values())
            self.pending.clear()
            self._ended.set()
            self._lock.notify_all()
        for p in left:
            self._emit([{"kind": "permission_answer", "request": p.n, "decision": "cancelled",
                         "scope": "once", "by": "agent", "message": "the agent exited"}])

    def _timeouts(self) -> None:
        """Deny what nobody answered in time; close a session whose messages were never
        taken. Sleeps on the condition until the nearest deadline."""
        while not self._ended.is_set():
            with self._lock:
                now = self._clock()
                due = [p for p in self.pending.values() if now - p.asked_at >= self.ask_timeout]
                waits = [p.asked_at + self.ask_timeout - now for p in self.pending.values()
                         if now - p.asked_at < self.ask_timeout]
                if self._results and not self._closed and not self.pending and (
                        self._replayed < self._written):
                    waits.append((self._result_at or now) + UNREPLAYED_GRACE - now)
                    self._maybe_close()
                if not due:
                    self._lock.wait(timeout=max(0.05, min(waits)) if waits else None)
                    continue
            for p in due:
                self.answer(p.n, False, message=self.timeout_reason, by="timeout")
