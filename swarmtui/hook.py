"""``python -m swarmtui.hook EVENT``: what Claude Code's hooks call inside an agent.

Claude Code runs it for Notification, Stop and StopFailure (an interactive session also for
SessionStart, UserPromptSubmit, PreToolUse and PostToolUse) with the hook's JSON on stdin; it
appends one line to the attempt's ``signals.jsonl`` (``$SWARM_AGENT_DIR``), where the supervisor
reads it within a second: "waiting for input", "stopped", "stopped on rate limit". It must never
get in the agent's way: bounded input, no output, exit 0 whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from swarmtui.boundedjson import STREAM_MAX_DEPTH, loads

MAX_INPUT = 256 * 1024


def _short(value: Any, n: int) -> str:
    return "" if value is None else " ".join(str(value).split())[:n]


def signal_of(event: str, payload: Any, at: float | None = None) -> dict[str, Any]:
    """The hook's signal; ``at`` is when the CLI fired it (its payload copy's time): the
    detached readers of two hooks may write their lines in the other order."""
    p = payload if isinstance(payload, dict) else {}
    return {"kind": "hook", "event": _short(event, 40), "at": at or time.time(),
            "notification_type": _short(p.get("notification_type"), 60),
            "message": _short(p.get("message") or p.get("last_assistant_message")
                              or p.get("tool_name"), 300),
            "error": _short(p.get("error"), 60), "t": time.time()}


def _read_file(path: str | Path) -> bytes | None:
    """A payload file as the hook's shell wrote it (bounded, never through a link); None when
    it cannot be opened (gone, or a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return os.read(fd, MAX_INPUT)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _read_input(argv: list[str]) -> bytes:
    """The hook's payload: from ``--input FILE`` (the shell's copy in the attempt's folder,
    removed once the line is written; never a link) or else from stdin."""
    if len(argv) > 3 and argv[2] == "--input":
        return _read_file(argv[3]) or b""
    return sys.stdin.buffer.read(MAX_INPUT) if sys.stdin is not None else b""


def _payload(raw: bytes) -> Any:
    """Bounded: a payload nested too deep (or not JSON) is treated as none; the line still
    goes."""
    try:
        return loads(raw, max_chars=MAX_INPUT, max_depth=STREAM_MAX_DEPTH) if raw.strip() else {}
    except ValueError:
        return {}


def finish_hook(path: Path) -> list[dict[str, Any]]:
    """A payload (``.hook.<Event>.XXXXXX``) whose detached reader never wrote its line, read
    and removed by the wrapper: the signal it stands for (none for a file of another name)."""
    parts = path.name.split(".")
    event = parts[2] if len(parts) == 4 and parts[2].isalpha() else ""
    at = _fired_at(str(path))
    raw = _read_file(path)
    if raw is None:
        return []  # gone (its reader wrote the line after all), or a link: never followed
    with contextlib.suppress(OSError):
        path.unlink()
    return [signal_of(event, _payload(raw), at)] if event else []


def _fired_at(path: str) -> float | None:
    """When the hook's shell copied the payload: when the CLI fired the hook."""
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return None


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    finally:
        # The payload file goes last: the wrapper waits for it (bounded) before the attempt's
        # exit record, so the line is written by then even on a busy machine.
        if len(argv) > 3 and argv[2] == "--input":
            with contextlib.suppress(OSError):
                os.unlink(argv[3])


def _main(argv: list[str]) -> int:
    try:
        event = argv[1] if len(argv) > 1 else ""
        at = _fired_at(argv[3]) if len(argv) > 3 and argv[2] == "--input" else None
        payload = _payload(_read_input(argv))
        agent_dir = os.environ.get("SWARM_AGENT_DIR")
        if not agent_dir or not event:
            return 0
        from swarmtui.protocol import SIGNALS_FILE, SIGNALS_MAX_BYTES

        path = Path(agent_dir) / SIGNALS_FILE
        if path.exists() and path.stat().st_size > SIGNALS_MAX_BYTES:
            return 0
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(signal_of(event, payload, at), sort_keys=True) + "\n")
    except Exception:  # noqa: BLE001 - a hook must never fail the agent
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
