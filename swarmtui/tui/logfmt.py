"""Make agent output readable (pure).

Claude Code's ``--output-format stream-json`` prints one JSON object per line; shown raw it is
unreadable. Each line becomes what a person wants to see: the assistant's text, one line per
tool call and one per tool result, and a summary of the final result. Anything that is not
stream-json (other agents, the wrapper's own notes) is shown as it is, without terminal escapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from swarmtui.textsafe import term_safe

# Kinds of log line; each has a component class (``log--<kind>``) coloured by the theme.
TEXT, TOOL, RESULT, ERROR, META, RAW = "text", "tool", "result", "error", "meta", "raw"

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_MAX_LINE = 400


@dataclass(frozen=True)
class LogLine:
    text: str
    kind: str = RAW


def strip_ansi(s: str) -> str:
    return _ANSI_RE.sub("", s).replace("\r", "")


def _short(s: str, n: int = 120) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _tool_args(name: str, args: Any) -> str:
    """The one argument that says what a tool call does, for the common Claude Code tools."""
    if not isinstance(args, dict):
        return _short(json.dumps(args))
    for key in ("command", "file_path", "path", "pattern", "url", "description", "query",
                "prompt", "notebook_path"):
        if isinstance(args.get(key), str):
            return _short(args[key])
    if name == "TodoWrite" and isinstance(args.get("todos"), list):
        return f"{len(args['todos'])} todos"
    return _short(json.dumps(args, sort_keys=True))


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [c.get("text", "") for c in content if isinstance(c, dict)
                 and c.get("type") == "text"]
        return "\n".join(parts) if parts else f"({len(content)} blocks)"
    return "" if content is None else str(content)


def _duration(ms: Any) -> str:
    try:
        s = int(float(ms) / 1000)
    except (TypeError, ValueError):
        return ""
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _system(obj: dict[str, Any]) -> list[LogLine]:
    sub = obj.get("subtype")
    if sub == "init":
        tools = obj.get("tools") or []
        return [LogLine(f"session started: model {obj.get('model', '?')}, {len(tools)} tools",
                        META)]
    if sub == "api_retry":
        why = obj.get("error_status") or obj.get("error") or "error"
        delay = obj.get("retry_delay_ms")
        wait = f", next in {float(delay) / 1000:.1f}s" if isinstance(delay, (int, float)) else ""
        return [LogLine(f"API retry {obj.get('attempt')}/{obj.get('max_retries')} ({why}{wait})",
                        ERROR)]
    if sub == "permission_denied":
        return [LogLine(f"denied {obj.get('tool_name', 'a tool')}: "
                        f"{_short(str(obj.get('message', '')))}", ERROR)]
    if sub == "task_started":
        return [LogLine(f"▸ subagent: {_short(str(obj.get('description') or ''))}", TOOL)]
    if sub == "task_notification":
        return [LogLine(f"  ◂ subagent {obj.get('status', 'done')}: "
                        f"{_short(str(obj.get('summary') or ''))}", RESULT)]
    return []


def _blocks(content: Any) -> list[LogLine]:
    if isinstance(content, str):
        return [LogLine(line, TEXT) for line in content.splitlines() if line.strip()]
    out: list[LogLine] = []
    for block in content or []:
        if not isinstance(block, dict):
            continue
        bt = block.get("type")
        if bt == "text":
            out += [LogLine(line[:_MAX_LINE], TEXT)
                    for line in str(block.get("text", "")).splitlines() if line.strip()]
        elif bt == "tool_use":
            name = str(block.get("name", "tool"))
            out.append(LogLine(f"▸ {name}: {_tool_args(name, block.get('input'))}", TOOL))
        elif bt == "tool_result":
            text = _result_text(block.get("content")).strip()
            lines = text.splitlines()
            first = _short(lines[0]) if lines else "(empty)"
            more = f"  (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
            kind = ERROR if block.get("is_error") else RESULT
            out.append(LogLine(f"  ◂ {'error: ' if block.get('is_error') else ''}{first}{more}",
                               kind))
    return out


def _message(obj: dict[str, Any]) -> list[LogLine]:
    if obj.get("error") and obj.get("type") == "assistant":
        status = obj.get("api_error_status")
        return [LogLine(f"API error{f' {status}' if status else ''}: {obj.get('error')}", ERROR)]
    lines = _blocks((obj.get("message") or {}).get("content"))
    if obj.get("parent_tool_use_id"):
        # A subagent's own conversation: indented under the tool call that started it.
        return [LogLine("    │ " + ln.text, ln.kind) for ln in lines]
    return lines


def _result(obj: dict[str, Any]) -> list[LogLine]:
    failed = bool(obj.get("is_error"))
    subtype = str(obj.get("subtype") or "done")
    head = "error" if failed and subtype == "success" else subtype
    if failed and obj.get("api_error_status"):
        head += f" {obj['api_error_status']}"
    if failed and obj.get("api_error"):
        head += f" ({obj['api_error']})"
    bits = [head]
    if obj.get("num_turns") is not None:
        bits.append(f"{obj['num_turns']} turns")
    if obj.get("duration_ms") is not None:
        bits.append(_duration(obj["duration_ms"]))
    if obj.get("total_cost_usd") is not None:
        bits.append(f"${float(obj['total_cost_usd']):.2f}")
    out = [LogLine("result: " + " · ".join(b for b in bits if b), ERROR if failed else META)]
    if failed:
        said = obj.get("result") or "; ".join(str(e) for e in obj.get("errors") or [])
        if said:
            out.append(LogLine(f"  {_short(str(said), 300)}", ERROR))
    return out


def _rate_limit(obj: dict[str, Any]) -> list[LogLine]:
    info = obj.get("rate_limit_info") or {}
    status = info.get("status")
    if status == "allowed":
        return []
    kind = str(info.get("rateLimitType") or "usage").replace("_", " ")
    return [LogLine(f"usage limit ({kind}): {status}", ERROR if status == "rejected" else META)]


_BY_TYPE = {"system": _system, "assistant": _message, "user": _message, "result": _result,
            "rate_limit_event": _rate_limit}


def _stream_json(obj: dict[str, Any]) -> list[LogLine]:
    fmt = _BY_TYPE.get(str(obj.get("type")))
    # Partial-message events and other bookkeeping are noise to a reader.
    return fmt(obj) if fmt is not None else []


def readable(line: str) -> list[LogLine]:
    """The readable lines for one line of agent output (maybe none)."""
    s = line.rstrip("\n")
    if s.startswith("{") and '"type"' in s:
        try:
            obj = json.loads(s)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("type"), str):
            return [LogLine(term_safe(ln.text), ln.kind) for ln in _stream_json(obj)]
    clean = term_safe(strip_ansi(s))
    return [LogLine(clean[:_MAX_LINE * 4], RAW)]


# -- diffs -----------------------------------------------------------------------------------

def diff_kind(line: str) -> str | None:
    """The component class suffix for a line of ``git diff`` output, or None for context."""
    if line.startswith(("diff --git", "index ", "+++ ", "--- ", "new file", "deleted file",
                        "similarity", "rename ")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return None
