"""A line of an attempt's signals.jsonl as a typed payload (pure).

Kept apart from the reader, which owns when lines are read; the adapters' tests turn their
recorded signals into payloads with this alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarmtui.model import payloads as p
from swarmtui.textsafe import clean_text

TAIL_CHARS = 2000  # of a setup command's output, kept with its event


def signal_payload(obj: dict[str, Any], offset: int,
                   redact: Callable[[str], str] = lambda s: s) -> p.Signal | None:
    """A signal line (written by the wrapper's adapter or a hook) as a typed payload; anything
    malformed is dropped (the file is in the agent's folder: it may have been tampered with)."""
    kind = obj.get("kind")
    fields: dict[str, Any] = {
        k: (redact(clean_text(v))[:TAIL_CHARS if k in _LONG_FIELDS else 300] if isinstance(
            v, str) else v) for k, v in obj.items() if k not in ("kind", "t")}
    cls = _SIGNAL_KINDS.get(str(kind))
    if cls is None:
        return None
    known = set(cls.model_fields)
    try:
        return cls.model_validate({**{k: v for k, v in fields.items() if k in known},
                                   "offset": offset})
    except ValueError:
        return None


_SIGNAL_KINDS: dict[str, type[p.Signal]] = {
    "session": p.AgentSession, "api_retry": p.ApiRetry, "api_error": p.ApiErrorSeen,
    "rate_limit": p.RateLimit, "permission_denied": p.PermissionDenied, "hook": p.AgentHook,
    "setup": p.SetupRan, "usage": p.TurnUsage, "activity": p.AgentActivity,
    "permission_request": p.PermissionAsked, "permission_answer": p.PermissionAnswered,
    "said": p.OperatorSaid, "interrupted": p.TurnInterrupted, "steer_refused": p.SteerRefused,
    "net_refused": p.NetRefused,
}
# Kept longer than a note: a setup's output, a tool's input, what the operator said.
_LONG_FIELDS = frozenset({"tail", "input", "text", "message"})
