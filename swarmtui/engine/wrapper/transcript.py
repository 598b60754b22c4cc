"""What an agent's window shows of a Claude Code session: its stream-json lines, read as a
person would want them (one line per tool call and per tool result, the assistant's text, how
the session ended), instead of the raw JSON the CLI prints.

Pure: no I/O, no clock. Everything in a line is the agent's (or the model's, or a tool's) and
is treated as hostile: escape sequences are removed, remaining control characters are shown
escaped by ``textsafe.term_safe``, and every piece is bounded, so no line can retitle the
terminal, move its cursor or flood the pane. Nothing here raises on any input.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from swarmtui.boundedjson import STREAM_MAX_DEPTH, too_deep
from swarmtui.textsafe import term_safe

BLOCK_LINES = 40  # of one assistant text block (or operator message) shown in full
BLOCK_CHARS = 4000
ONE_LINE = 200  # a tool call, a tool result, an INFO line
PARSE_MAX_CHARS = 8_000_000  # a longer output line is not parsed, only shown (cut) as text

# Escape sequences (7-bit and 8-bit): CSI, string controls (OSC, DCS, SOS, PM, APC) up to BEL
# or ST with a bounded body (an unterminated one costs linear time, not quadratic), and the
# two-character escapes. What is left of a broken one is escaped by term_safe.
ESC_SEQ = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]"
    "|\x9b[0-?]*[ -/]*[@-~]"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\\\|\x9c)"
    "|\x1b[ -/]*[0-~]")


def terminal_safe(text: str, *, keep_cr: bool = False) -> str:
    """``text`` fit for a terminal: escape sequences removed, tabs expanded, carriage returns
    made newlines (kept with ``keep_cr``, for output that redraws its own line), and any other
    control or reordering character shown escaped. Newlines are kept."""
    if not text:
        return text
    text = ESC_SEQ.sub("", text)
    if "\t" in text:
        text = text.expandtabs(4)
    if not keep_cr:
        return term_safe(text.replace("\r\n", "\n").replace("\r", "\n"), multiline=True)
    return "\r".join(term_safe(part, multiline=True) for part in text.split("\r"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def one_line(raw: str, limit: int = ONE_LINE) -> str:
    """The first non-blank line of ``raw``, safe and at most ``limit`` characters, with how
    many more lines there were."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n", 1)
    first = terminal_safe(lines[0][:limit * 2]).strip()
    more = lines[1].count("\n") + 1 if len(lines) > 1 else 0
    return _cut(first, limit) + (f"  (+{more} lines)" if more else "")


def block(raw: str, max_lines: int = BLOCK_LINES, max_chars: int = BLOCK_CHARS) -> str:
    """``raw`` as safe text of at most ``max_lines`` lines and about ``max_chars``
    characters, ending with "… N more lines" when it was cut."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    total = raw.count("\n") + 1
    lines = terminal_safe(raw[:max_chars + max_lines]).split("\n")[:max_lines]
    out: list[str] = []
    used = 0
    for line in lines:
        room = max_chars - used
        if len(line) > room:
            out.append(line[:max(room, 0)] + "…")
            break
        out.append(line)
        used += len(line) + 1
    more = total - len(out)
    if more > 0:
        out.append(f"… {more} more line{'s' if more != 1 else ''}")
    return "\n".join(out)


class ShownKind(StrEnum):
    """What a shown line is, so the console can style each kind its own way."""

    INFO = "info"
    ASSISTANT = "assistant"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    PERMISSION = "permission"
    OPERATOR = "operator"
    ERROR = "error"
    RESULT = "result"


@dataclass(frozen=True)
class Shown:
    """One or more lines for the window; ``text`` is already terminal-safe and bounded."""

    kind: ShownKind
    text: str


def _d(v: object) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _s(v: object) -> str:
    return v if isinstance(v, str) else ""


def _compact(v: object, limit: int = 160) -> str:
    try:
        text = json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        text = "?"
    return one_line(text[:limit * 2], limit)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


PERMISSION_KEYS = "y allow once · a allow for this session · n deny"
_DECISIONS = {"allow": "allowed once", "allow_once": "allowed once", "once": "allowed once",
              "y": "allowed once", "deny": "denied", "n": "denied", "always": "allowed always",
              "allow_always": "allowed always", "a": "allowed always"}


class Transcript:
    """Reads one session's output lines in order and says what to show for each. It keeps the
    little state that reading needs: the session's working directory (paths under it are shown
    relative), the operator messages whose echo is still to come, and the tool calls whose
    denial was already shown. Not thread-safe: one thread, or one lock around every call."""

    def __init__(self) -> None:
        self.cwd = ""
        self._session = ""
        self._echoes: deque[str] = deque(maxlen=16)
        self._denied: deque[str] = deque(maxlen=64)

    # -- the public calls ------------------------------------------------------------------

    def feed_line(self, line: str) -> list[Shown]:
        """What to show for one raw output line (without its newline); never raises."""
        try:
            return self._feed(line)
        except Exception:  # noqa: BLE001 - a reader of hostile input must not fail the pane
            return [Shown(ShownKind.INFO, one_line(line))] if line.strip() else []

    def operator(self, text: str) -> list[Shown]:
        """An operator's message as the window shows it; its echo from the CLI is not shown
        a second time."""
        self._echoes.append(text.strip())
        return [Shown(ShownKind.OPERATOR, "› " + block(text, 12, 2000))]

    def answered(self, tool: str, decision: str, by: str) -> list[Shown]:
        """How a permission request was answered, and by whom."""
        how = _DECISIONS.get(decision.strip().lower(), decision)
        text = f"{one_line(tool, 60)}: {one_line(how, 60)}"
        if by:
            text += f" (by {one_line(by, 60)})"
        return [Shown(ShownKind.PERMISSION, text)]

    # -- reading ---------------------------------------------------------------------------

    def _feed(self, line: str) -> list[Shown]:
        stripped = line.strip()
        if not stripped:
            return []
        obj: object = None
        if (stripped.startswith("{") and len(stripped) <= PARSE_MAX_CHARS
                and not too_deep(stripped, STREAM_MAX_DEPTH)):
            try:
                obj = json.loads(stripped)
            except ValueError:
                obj = None
        if not isinstance(obj, dict):
            return [Shown(ShownKind.INFO, block(line, 10, 1000))]
        kind = obj.get("type")
        handler = self._HANDLERS.get(kind if isinstance(kind, str) else "")
        if handler is None:
            return []  # stream_event, control_response, keep_alive, what a newer CLI adds
        shown = handler(self, obj)
        if obj.get("parent_tool_use_id"):  # a subagent's line, under the Agent call
            shown = [Shown(s.kind, "  │ " + s.text.replace("\n", "\n  │ ")) for s in shown]
        return shown

    def _system(self, obj: dict[str, Any]) -> list[Shown]:
        sub = obj.get("subtype")
        if sub == "init":
            session, model = _s(obj.get("session_id")), _s(obj.get("model"))
            self.cwd = _s(obj.get("cwd"))
            if session == self._session:
                return []  # the same session's next turn
            self._session = session
            bits = [f"session {one_line(session, 40)}", one_line(model, 60),
                    one_line(self.cwd, 120), one_line(_s(obj.get("permissionMode")), 40)]
            return [Shown(ShownKind.INFO, " · ".join(b for b in bits if b))]
        if sub == "api_retry":
            status = obj.get("error_status")
            why = " ".join(one_line(str(x), 40) for x in (status, obj.get("error")) if x)
            delay = obj.get("retry_delay_ms")
            wait = f" in {delay / 1000:.1f} s" if isinstance(delay, int | float) else ""
            return [Shown(ShownKind.INFO, f"API error{f' ({why})' if why else ''}, retry "
                          f"{_num(obj.get('attempt'))}/{_num(obj.get('max_retries'))}{wait}")]
        if sub == "permission_denied":
            if isinstance(obj.get("tool_use_id"), str):
                self._denied.append(obj["tool_use_id"])
            tool = one_line(_s(obj.get("tool_name")) or "tool", 60)
            return [Shown(ShownKind.PERMISSION,
                          f"✗ {tool} denied: {one_line(_s(obj.get('message')))}")]
        if sub == "hook_response" and obj.get("outcome") not in (None, "success"):
            why = one_line(_s(obj.get("stderr")) or _s(obj.get("output")))
            return [Shown(ShownKind.ERROR, f"hook {one_line(_s(obj.get('hook_name')), 60)} "
                          f"{one_line(str(obj.get('outcome')), 30)}"
                          f" (exit {_num(obj.get('exit_code'))}){': ' + why if why else ''}")]
        if sub == "task_started":
            return [Shown(ShownKind.INFO,
                          f"subagent started: {one_line(_s(obj.get('description')))}")]
        if sub == "task_notification":
            return [Shown(ShownKind.INFO, f"subagent {one_line(_s(obj.get('status')), 30)}: "
                          f"{one_line(_s(obj.get('summary')))}")]
        return []

    def _assistant(self, obj: dict[str, Any]) -> list[Shown]:
        content = _d(obj.get("message")).get("content")
        if obj.get("error") or obj.get("is_api_error_message"):
            texts = [_s(b.get("text")) for b in _blocks(content) if b.get("type") == "text"]
            why = "\n".join(t for t in texts if t) or _s(obj.get("error")) or "API error"
            return [Shown(ShownKind.ERROR, "✗ " + block(why, 10, 1000))]
        shown: list[Shown] = []
        for b in _blocks(content):
            kind = b.get("type")
            if kind == "text" and _s(b.get("text")).strip():
                shown.append(Shown(ShownKind.ASSISTANT, block(b["text"])))
            elif kind == "tool_use":
                shown.append(Shown(ShownKind.TOOL_CALL, "● " + self.tool_summary(
                    _s(b.get("name")), b.get("input"))))
            elif kind == "thinking" and _s(b.get("thinking")).strip():
                shown.append(Shown(ShownKind.INFO, "✻ " + one_line(b["thinking"], 100)))
        return shown

    def _user(self, obj: dict[str, Any]) -> list[Shown]:
        content = _d(obj.get("message")).get("content")
        sub = bool(obj.get("parent_tool_use_id"))
        if isinstance(content, str):
            return [] if sub else self._echo(content)
        shown: list[Shown] = []
        texts: list[str] = []
        for b in _blocks(content):
            if b.get("type") == "tool_result":
                if b.get("tool_use_id") in self._denied:
                    continue  # its denial line said it already
                shown.append(_tool_result(b))
            elif b.get("type") == "text" and not sub:
                texts.append(_s(b.get("text")))
        if texts:
            shown[:0] = self._echo("\n".join(texts))
        return shown

    def _echo(self, text: str) -> list[Shown]:
        key = text.strip()
        if not key:
            return []
        if key in self._echoes:
            self._echoes.remove(key)
            return []
        return [Shown(ShownKind.OPERATOR, "› " + block(text, 12, 2000))]

    def _result(self, obj: dict[str, Any]) -> list[Shown]:
        sub = _s(obj.get("subtype"))
        failed = obj.get("is_error") is True or sub not in ("success", "")
        if not failed:
            head = "done"
        else:
            errors = obj.get("errors")
            why = (one_line(str(errors[0]), 120) if isinstance(errors, list) and errors
                   else one_line(_s(obj.get("result")), 120))
            head = "failed" + (f" ({one_line(sub, 40)})" if sub and sub != "success" else "")
            head += f": {why}" if why else ""
        bits = [head]
        if isinstance(obj.get("num_turns"), int):
            bits.append(_plural(obj["num_turns"], "turn"))
        denials = obj.get("permission_denials")
        if isinstance(denials, list) and denials:
            bits.append(_plural(len(denials), "permission denial"))
        cost = obj.get("total_cost_usd")
        if isinstance(cost, int | float) and not isinstance(cost, bool) and cost == cost:
            bits.append(f"session cost ${cost:.4f}")
        return [Shown(ShownKind.ERROR if failed else ShownKind.RESULT, " · ".join(bits))]

    def _control_request(self, obj: dict[str, Any]) -> list[Shown]:
        req = _d(obj.get("request"))
        if req.get("subtype") != "can_use_tool":
            return []
        tool = _s(req.get("display_name")) or _s(req.get("tool_name")) or "tool"
        what = self.tool_summary(_s(req.get("tool_name")) or tool, req.get("input"))
        text = f"⚠ {what}" if what.startswith(one_line(tool, 60)) else f"⚠ {tool}: {what}"
        why = _s(req.get("description")) or _s(req.get("decision_reason"))
        if why and why not in what:
            text += f" — {one_line(why, 120)}"
        return [Shown(ShownKind.PERMISSION, f"{text}\n  {PERMISSION_KEYS}")]

    def _control_cancel(self, obj: dict[str, Any]) -> list[Shown]:
        return [Shown(ShownKind.INFO, "permission request withdrawn by the agent")]

    def _rate_limit(self, obj: dict[str, Any]) -> list[Shown]:
        info = _d(obj.get("rate_limit_info"))
        status = _s(info.get("status"))
        if status in ("", "allowed"):
            return []
        kind = one_line(_s(info.get("rateLimitType")), 30)
        return [Shown(ShownKind.INFO if status == "allowed_warning" else ShownKind.ERROR,
                      f"usage limit: {one_line(status, 30)}{f' ({kind})' if kind else ''}")]

    _HANDLERS: ClassVar[dict[str, Callable[[Transcript, dict[str, Any]], list[Shown]]]] = {
        "system": _system, "assistant": _assistant, "user": _user, "result": _result,
        "control_request": _control_request, "control_cancel_request": _control_cancel,
        "rate_limit_event": _rate_limit}

    # -- tools -----------------------------------------------------------------------------

    def _path(self, v: object) -> str:
        path = _s(v)
        if self.cwd and path.startswith(self.cwd.rstrip("/") + "/"):
            path = path[len(self.cwd.rstrip("/")) + 1:]
        return one_line(path, 160) or "?"

    def tool_summary(self, name: str, inp: object) -> str:
        """One line for a tool call: the tool and what matters of its input."""
        args = _d(inp)
        tool = one_line(name, 60) or "tool"
        if name == "Bash" and isinstance(args.get("command"), str):
            return f"Bash: {one_line(args['command'])}"
        if name in ("Read", "Edit", "MultiEdit", "NotebookEdit") and (
                args.get("file_path") or args.get("notebook_path")):
            return f"{tool}: {self._path(args.get('file_path') or args.get('notebook_path'))}"
        if name == "Write" and isinstance(args.get("file_path"), str):
            body = _s(args.get("content"))
            lines = body.count("\n") + (0 if not body or body.endswith("\n") else 1)
            return f"Write: {self._path(args['file_path'])} ({_plural(lines, 'line')})"
        for key in ("description", "pattern", "url", "query"):
            if name in ("Agent", "Task", "Glob", "Grep", "WebFetch", "WebSearch") and \
                    isinstance(args.get(key), str):
                return f"{tool}: {one_line(args[key], 160)}"
        return f"{tool}: {_compact(inp)}"


def _num(v: object) -> str:
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else "?"


def _blocks(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return []
    return [b for b in content[:200] if isinstance(b, dict)]


def _tool_result(b: dict[str, Any]) -> Shown:
    parts: list[str] = []
    for c in _blocks(b.get("content")):
        if c.get("type") == "text":
            parts.append(_s(c.get("text")))
        elif c.get("type") == "image":
            parts.append("[image]")
    text = one_line("\n".join(parts)) or "(no output)"
    mark = "✗" if b.get("is_error") is True else "⎿"
    return Shown(ShownKind.TOOL_RESULT, f"  {mark} {text}")
