"""A readable digest of an attempt's conversation, for an agent of another CLI to carry on.

When a usage limit moves a task to an account of another CLI, the new agent cannot resume the
old session: it starts fresh in the same worktree, and its handoff says what the old one did
and said last. This reads the tail of the old attempt's ``output.log`` in whichever format its
CLI printed (Claude Code's and Qwen Code's ``stream-json``, Codex's ``exec --json``, Gemini
CLI's ``stream-json``, opencode's ``run --format json``; any other output, Aider's text say:
its last plain lines) and keeps, in order, what it said and which tools it ran. Everything
here is agent-written text: read bounded and without following links (``read_under``), each
line cleaned and cut, the whole capped, and screened by the prompt's guard when the handoff is
rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.boundedjson import STREAM_MAX_DEPTH, loads
from swarmtui.config import Config
from swarmtui.engine.accounts.fallback import cli_of
from swarmtui.engine.runtime.files import Refused, read_under
from swarmtui.model import AttemptRec, Cause, TaskView
from swarmtui.textsafe import clean_text

TAIL_BYTES = 256 * 1024  # of output.log
MAX_ENTRIES = 30
ENTRY_CHARS = 240  # a tool line
SAID_CHARS = 600  # a message
TOTAL_CHARS = 5000
PLAIN_LINES = 12  # of output that is not a known JSON stream


def crossed(config: Config, t: TaskView, prev: AttemptRec | None, agent: str) -> str:
    """What the previous attempt ran on when a usage limit moves the task to another CLI
    (``agent``'s): "claude (account work)"; "" when it stays on the same CLI or was not
    stopped by a usage limit (a plain retry starts from its branch as ever)."""
    if prev is None or t.cause != Cause.USAGE_LIMITED:
        return ""
    before = cli_of(config, prev.agent)
    if before == cli_of(config, agent):
        return ""
    return f"{before} (account {prev.account})" if prev.account else before


def digest(swarm: Path, aid: str) -> list[str]:
    """The newest of the attempt's conversation, oldest first, as short lines."""
    rel = f"{P.AGENTS_DIR}/{aid}/{P.OUTPUT_LOG}"
    try:
        head = read_under(swarm, rel, offset=0, limit=0)
        if head is None:
            return []
        start = max(0, head.stat.size - TAIL_BYTES)
        chunk = read_under(swarm, rel, offset=start, limit=TAIL_BYTES)
    except (Refused, OSError):
        return []
    if chunk is None:
        return []
    lines = chunk.data.decode("utf-8", "replace").splitlines()
    if start:
        lines = lines[1:]  # the first may be cut
    return bounded(entries(lines))


def entries(lines: list[str]) -> list[str]:
    """What each line of a CLI's output adds to the digest."""
    out: list[str] = []
    plain: list[str] = []
    said = ""  # Gemini CLI's answer comes in pieces: joined until something else comes
    for line in lines:
        obj = _obj(line)
        if obj is None:
            if line.strip() and not line.startswith("{"):
                plain.append(line.strip())
            continue
        if obj.get("type") == "message" and obj.get("role") == "assistant":
            said += str(obj.get("content") or "")
            continue
        if said:
            out.append(_said(said))
            said = ""
        out += _of(obj)
    if said:
        out.append(_said(said))
    if not out:
        return [_cut(f"printed: {x}", ENTRY_CHARS) for x in plain[-PLAIN_LINES:]]
    return out


def bounded(items: list[str]) -> list[str]:
    """The newest entries that fit the caps, oldest first."""
    kept: list[str] = []
    total = 0
    for item in reversed(items[-MAX_ENTRIES:]):
        if total + len(item) > TOTAL_CHARS:
            break
        kept.append(item)
        total += len(item)
    return kept[::-1]


def _obj(line: str) -> dict[str, Any] | None:
    if not line.startswith('{"'):
        return None
    try:  # output.log is the agent's: bounded like every JSON it writes
        obj = loads(line, max_chars=len(line) + 1, max_depth=STREAM_MAX_DEPTH)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _of(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("type")
    if kind == "assistant" and obj.get("parent_tool_use_id") is None:  # Claude Code, Qwen
        msg = obj.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        out: list[str] = []
        for b in content if isinstance(content, list) else []:
            if not isinstance(b, dict):
                continue
            if b.get("type") == "text" and str(b.get("text") or "").strip():
                out.append(_said(str(b["text"])))
            elif b.get("type") == "tool_use":
                out.append(_tool(str(b.get("name") or "a tool"), b.get("input")))
        return out
    if kind == "item.completed" and isinstance(item := obj.get("item"), dict):  # Codex
        if item.get("type") == "agent_message" and str(item.get("text") or "").strip():
            return [_said(str(item["text"]))]
        if item.get("type") == "command_execution":
            code = item.get("exit_code")
            return [_cut(f"ran: {_one(item.get('command'))} (exit {code})", ENTRY_CHARS)]
        if item.get("type") == "file_change":
            changes = item.get("changes")
            paths = [str(c.get("path")) for c in changes if isinstance(c, dict)] if isinstance(
                changes, list) else []
            return [_cut(f"changed: {', '.join(paths) or 'files'}", ENTRY_CHARS)]
        return []
    part = obj.get("part")
    if isinstance(part, dict):  # opencode
        if kind == "text" and str(part.get("text") or "").strip():
            return [_said(str(part["text"]))]
        state = part.get("state")
        if kind == "tool_use":
            return [_tool(str(part.get("tool") or "a tool"),
                          state.get("input") if isinstance(state, dict) else None)]
        return []
    if kind == "tool_use":  # Gemini CLI
        return [_tool(str(obj.get("tool_name") or "a tool"), obj.get("parameters"))]
    return []


def _tool(name: str, args: object) -> str:
    what = ""
    if isinstance(args, dict):
        for key in ("command", "file_path", "path", "pattern", "description"):
            if isinstance(args.get(key), str):
                what = f": {_one(args[key])}"
                break
    return _cut(f"used {_one(name)}{what}", ENTRY_CHARS)


def _said(text: str) -> str:
    return _cut(f"said: {_one(text)}", SAID_CHARS)


def _one(value: object) -> str:
    return " ".join(clean_text(str(value or "")).split())


def _cut(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap - 1] + "…"
