"""One payload type per event kind, validated when written and when replayed.

A payload is a frozen pydantic model that forbids unknown fields, so a typo in the engine fails
at the ``emit`` that made it and a corrupt or hand-edited log fails at replay, naming the event
and the field. ``KIND`` ties each class to its ``EventKind``; ``PAYLOADS`` maps back. The types
live in modules by what they describe; every one is importable from here.
"""

from __future__ import annotations

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.attempts import *  # noqa: F403
from swarmtui.model.payloads.base import (
    PAYLOADS,
    EventSchemaError,
    Payload,
    decode,
    decode_json,
)
from swarmtui.model.payloads.checks import *  # noqa: F403
from swarmtui.model.payloads.fanin import *  # noqa: F403
from swarmtui.model.payloads.quarantine import *  # noqa: F403
from swarmtui.model.payloads.readings import *  # noqa: F403
from swarmtui.model.payloads.run import *  # noqa: F403
from swarmtui.model.payloads.signals import *  # noqa: F403
from swarmtui.model.payloads.steering import *  # noqa: F403
from swarmtui.model.payloads.tasks import *  # noqa: F403


def _check_complete() -> None:
    missing = [k for k in EventKind if k not in PAYLOADS]
    if missing:  # pragma: no cover - a programming error caught on import
        raise RuntimeError(f"event kinds without a payload type: {missing}")


_check_complete()
__all__ = ["PAYLOADS", "EventSchemaError", "Payload", "decode", "decode_json"]
