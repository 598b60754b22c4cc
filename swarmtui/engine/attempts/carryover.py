"""What a fresh session gets from the attempt it replaces when that one's context filled.

A relaunch for a full context (cause ``context_full``) carries on in the same worktree, so its
changes, committed or not, are there; the new session is not a resume of the old conversation,
so it is told in its prompt what the old one had done: the usual handoff (progress lines,
summary, diff stat) plus the files it touched and its own last words (the newest text it wrote
in its output, from ``output.log``). Runs in the git worker that prepares the attempt; every
piece of it is agent-written text, bounded here and screened by the prompt's guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.boundedjson import STREAM_MAX_DEPTH, loads
from swarmtui.engine.runtime.files import Refused, read_under
from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.model import Cause, TaskView
from swarmtui.textsafe import clean_text

TAIL_BYTES = 256 * 1024  # of output.log, searched for the last words
LAST_WORDS_CHARS = 1500
FILES_CAP = 100
PATH_CHARS = 300


def relaunched_in_place(t: TaskView) -> bool:
    """The next attempt of ``t`` goes on in its predecessor's worktree, in a fresh session."""
    return t.cause == Cause.CONTEXT_FULL


@dataclass(frozen=True)
class Carried:
    last_words: str = ""
    files: list[str] = field(default_factory=list)


def carried(swarm: Path, aid: str, git: Git, worktree: Path, base: str) -> Carried:
    """The files the previous attempt touched (against ``base``) and its last words."""
    files: list[str] = []
    if worktree.is_dir() and not worktree.is_symlink() and base:
        try:
            files = [p[:PATH_CHARS] for p in git.diff_stat(worktree, base).paths[:FILES_CAP]]
        except GitError:
            files = []
    return Carried(last_words=last_words(swarm, aid), files=files)


def last_words(swarm: Path, aid: str) -> str:
    """The newest text block the agent's main conversation printed (stream-json)."""
    rel = f"{P.AGENTS_DIR}/{aid}/{P.OUTPUT_LOG}"
    try:
        head = read_under(swarm, rel, offset=0, limit=0)
        if head is None:
            return ""
        start = max(0, head.stat.size - TAIL_BYTES)
        chunk = read_under(swarm, rel, offset=start, limit=TAIL_BYTES)
    except (Refused, OSError):
        return ""
    if chunk is None:
        return ""
    for line in reversed(chunk.data.decode("utf-8", "replace").splitlines()):
        text = _text_of(line)
        if text:
            words = " ".join(clean_text(text).split())
            return words if len(words) <= LAST_WORDS_CHARS else (
                "…" + words[-(LAST_WORDS_CHARS - 1):])
    return ""


def _text_of(line: str) -> str:
    if not line.startswith('{"') or '"assistant"' not in line:
        return ""
    try:  # output.log is the agent's: bounded like every JSON it writes
        obj = loads(line, max_chars=len(line) + 1, max_depth=STREAM_MAX_DEPTH)
    except ValueError:
        return ""
    if not isinstance(obj, dict) or obj.get("type") != "assistant" or obj.get(
            "parent_tool_use_id") is not None or obj.get("error"):
        return ""
    msg = obj.get("message")
    content = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(content, list):
        return ""
    texts = [str(b.get("text") or "") for b in content
             if isinstance(b, dict) and b.get("type") == "text"]
    return "\n".join(x for x in texts if x.strip())
