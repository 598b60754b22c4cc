"""What Codex CLI writes to its own session file and ``exec --json`` does not say (in the
wrapper).

Codex 0.171 appends every event of a thread to ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-
<thread id>.jsonl``. Its ``event_msg`` lines of ``payload.type == "token_count"`` carry, per
model request, ``info.last_token_usage`` (``input_tokens``: the context that request carried),
``info.model_context_window`` and ``rate_limits`` (``primary`` / ``secondary`` windows with
``used_percent``, ``window_minutes``, ``resets_at``). From them come ``context`` signals (the
supervisor's context health and relaunch, as for Claude Code) and the rate-limit windows.

The file is the agent's (its CLI writes it, anything running as the agent can replace it), so
it is read like any agent file: every path component opened without following links, regular
files only, read from an offset in bounded chunks, complete lines only, each line's nesting
checked before it is parsed.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from swarmtui.boundedjson import STREAM_MAX_DEPTH, too_deep
from swarmtui.engine.adapters.apierrors import count, short
from swarmtui.engine.adapters.base import Signal
from swarmtui.engine.runtime.files import Refused, read_under

CHUNK = 256 * 1024  # read at most this much of the session file per look
MAX_LINE = 1024 * 1024  # a longer line is skipped, not parsed
MAX_ENTRIES = 4096  # directory entries looked at when finding the file
_THREAD = re.compile(r"[0-9A-Za-z-]{8,64}")


def find_session_file(home: Path, thread_id: str) -> str | None:
    """``sessions/Y/M/D/rollout-...-<thread_id>.jsonl`` relative to ``home``, found without
    following links and looking at a bounded number of entries; None when absent."""
    if not _THREAD.fullmatch(thread_id):
        return None
    suffix = f"-{thread_id}.jsonl"
    seen = 0
    level: list[str] = ["sessions"]
    for depth in range(4):
        nxt: list[str] = []
        for rel in level:
            try:
                entries = list(os.scandir(home / rel))
            except OSError:
                continue
            for e in sorted(entries, key=lambda e: e.name, reverse=True):  # newest first
                seen += 1
                if seen > MAX_ENTRIES:
                    return None
                if e.is_symlink():
                    continue
                if depth == 3:
                    if e.name.startswith("rollout-") and e.name.endswith(suffix) and e.is_file(
                            follow_symlinks=False):
                        return f"{rel}/{e.name}"
                elif e.is_dir(follow_symlinks=False):
                    nxt.append(f"{rel}/{e.name}")
        level = nxt
    return None


class SessionFile:
    def __init__(self, home: Path, model: str) -> None:
        self.home = home
        self.model = model
        self.rel: str | None = None
        self.offset = 0
        self.turn = 0
        self._sent: tuple[int, int | None] | None = None
        self.limits: dict[str, Any] = {}  # the newest rate_limits object, bounded
        self.thread_id: str | None = None
        self.model_seen = ""
        self._looks = 0  # tries to find the file (Codex may create it after thread.started)
        self._dead = False

    def attach(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self._find(at_end=True)

    def _find(self, *, at_end: bool = False) -> None:
        if self.thread_id is None or self._looks >= 20:
            return
        self._looks += 1
        self.rel = find_session_file(self.home, self.thread_id)
        if self.rel is not None and at_end:
            try:
                st = os.stat(self.home / self.rel, follow_symlinks=False)
            except OSError:
                return
            # A resumed thread's file holds the earlier runs: this run starts at its end.
            self.offset = st.st_size if stat.S_ISREG(st.st_mode) else 0

    def read(self) -> list[Signal]:
        if self._dead:
            return []
        if self.rel is None:
            self._find()
        if self.rel is None:
            return []
        try:
            chunk = read_under(self.home, self.rel, offset=self.offset, limit=CHUNK)
        except (Refused, OSError):
            self._dead = True  # not what it should be: never read again
            return []
        if chunk is None or not chunk.data:
            return []
        data = chunk.data
        end = data.rfind(b"\n") + 1
        if not end:
            if len(data) >= CHUNK:
                self.offset += len(data)  # a line longer than a chunk: skipped
            return []
        self.offset += end
        out: list[Signal] = []
        for raw in data[:end].split(b"\n"):
            if not raw or len(raw) > MAX_LINE:
                continue
            text = raw.decode("utf-8", "replace")
            if too_deep(text, STREAM_MAX_DEPTH):
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            out += self._line(obj)
        return out

    def _line(self, obj: Any) -> list[Signal]:
        payload = obj.get("payload") if isinstance(obj, dict) else None
        if not isinstance(payload, dict):
            return []
        if obj.get("type") == "turn_context" and isinstance(payload.get("model"), str):
            self.model_seen = short(payload["model"], 100)  # the model each turn runs on
            return []
        if payload.get("type") != "token_count":
            return []
        limits = payload.get("rate_limits")
        if isinstance(limits, dict):
            self.limits = {k: limits.get(k) for k in ("primary", "secondary",
                                                       "rate_limit_reached_type")}
        info = payload.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("last_token_usage"), dict):
            return []
        last = info["last_token_usage"]
        tokens = count(last.get("input_tokens"))
        window = count(info.get("model_context_window")) or None
        self.turn += 1
        if (tokens, window) == self._sent or not tokens:
            return []
        self._sent = (tokens, window)
        return [{"kind": "context", "tokens": tokens,
                 "model": short(self.model_seen or self.model, 100),
                 "window": window, "turn": self.turn}]

    def reset_at(self) -> float | None:
        """When the window Codex says was reached resets (epoch seconds), if it said."""
        reached = self.limits.get("rate_limit_reached_type")
        for key in ("primary", "secondary"):
            w = self.limits.get(key)
            if not isinstance(w, dict):
                continue
            used = w.get("used_percent")
            at = w.get("resets_at")
            if isinstance(at, (int, float)) and not isinstance(at, bool) and at > 0 and (
                    reached or (isinstance(used, (int, float)) and used >= 100)):
                return float(at)
        return None
