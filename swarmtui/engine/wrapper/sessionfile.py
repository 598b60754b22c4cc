"""Claude Code's session transcript, followed while its interactive screen runs.

An interactive session prints a screen, not a stream, but the CLI writes the conversation to
``<config dir>/projects/<folder>/<session id>.jsonl`` as it goes (the config dir is
``$CLAUDE_CONFIG_DIR``, else ``~/.claude``; the folder's name is the working directory made
safe). Its ``assistant`` and ``user`` lines have the shape of the headless stream's
(``message.id``, ``model``, ``usage`` with the final output tokens, ``tool_use`` and
``tool_result`` blocks), so the same adapter reads them: each answer's tokens (cost from the
price table), the context it carried, API errors and usage limits. The session id is chosen
by the spawn (``--session-id``), so the file is found by name, never by guessing which session
is the agent's.

Read like every agent file: never through a link, from a remembered offset, complete lines
only, a bounded amount per look, a line too long or nested too deep skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from swarmtui.boundedjson import STREAM_MAX_DEPTH, too_deep
from swarmtui.engine.adapters.base import MAX_LINE

CHUNK = 1024 * 1024  # read per look
# What the conversation is made of; the rest (snapshots, request shapes, modes) is the CLI's.
CONVERSATION = frozenset({"assistant", "user"})
ENDS_TURN = frozenset({"end_turn", "stop_sequence", "max_tokens", "refusal"})


def config_dir(env: Mapping[str, str]) -> Path | None:
    conf = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    if conf.startswith("/"):
        return Path(conf)
    home = env.get("HOME") or ""
    return Path(home) / ".claude" if home.startswith("/") else None


# The transcript names an API error's fields as the CLI's objects do; its stream (which the
# adapter reads) in snake case.
_STREAM_NAMES = {"apiError": "api_error", "apiErrorParams": "api_error_params",
                 "apiErrorStatus": "api_error_status"}


def as_stream(text: str, obj: dict[str, Any]) -> str:
    """A transcript line as the adapter reads a stream line: an API error's fields (a usage
    limit's ``rate_limit_info`` with its reset) under the stream's names."""
    if not any(k in obj for k in _STREAM_NAMES):
        return text
    renamed = {_STREAM_NAMES.get(k, k): v for k, v in obj.items()}
    params = renamed.get("api_error_params")
    if isinstance(params, dict) and "rateLimitInfo" in params:
        renamed["api_error_params"] = {**params, "rate_limit_info": params["rateLimitInfo"]}
    return json.dumps(renamed)


def turn_ended(obj: Mapping[str, Any]) -> bool:
    """A line that closes a turn: the CLI's own turn record, or a final answer (no tool use
    follows it) of the main conversation."""
    if obj.get("type") == "system" and obj.get("subtype") == "turn_duration":
        return True
    msg = obj.get("message")
    return (obj.get("type") == "assistant" and not obj.get("isSidechain")
            and isinstance(msg, dict) and msg.get("stop_reason") in ENDS_TURN)


class SessionFile:
    """Finds the session's transcript and hands out its new complete lines, parsed."""

    def __init__(self, env: Mapping[str, str], session_id: str) -> None:
        self.root = config_dir(env)
        self.name = f"{session_id}.jsonl"
        self.path: Path | None = None
        self.offset = 0
        self._skipping = False  # inside a line too long to keep

    def find(self) -> Path | None:
        if self.path is not None or self.root is None:
            return self.path
        projects = self.root / "projects"
        try:
            folders = [e for e in os.scandir(projects) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return None
        for entry in folders:
            candidate = Path(entry.path) / self.name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    self.path = candidate
                    return candidate
        return None

    def skip_written(self) -> None:
        """Start after what the file holds now: a resumed session appends to its transcript,
        and the earlier runs' answers were counted by their own attempts."""
        path = self.find()
        if path is not None:
            with contextlib.suppress(OSError):
                self.offset = os.lstat(path).st_size

    def new_lines(self) -> list[tuple[str, dict[str, Any]]]:
        """The lines written since the last look, each as its text and its object."""
        path = self.find()
        if path is None:
            return []
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return []
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return []
            data = os.pread(fd, CHUNK, self.offset)
        except OSError:
            return []
        finally:
            os.close(fd)
        end = data.rfind(b"\n") + 1
        if not end:
            if len(data) == CHUNK:  # one line longer than a look: skip it to its end
                self.offset += len(data)
                self._skipping = True
            return []
        self.offset += end
        out: list[tuple[str, dict[str, Any]]] = []
        for raw in data[:end].split(b"\n")[:-1]:
            if self._skipping:
                self._skipping = False
                continue
            if len(raw) > MAX_LINE:
                continue
            text = raw.decode("utf-8", "replace")
            if not text.startswith("{") or too_deep(text, STREAM_MAX_DEPTH):
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append((text, obj))
        return out
