"""The payload base: registration by kind, and decoding (with errors that name the event and
the field).

One payload type per event kind, validated when written and when replayed.

A payload is a frozen pydantic model that forbids unknown fields, so a typo in the engine fails
at the ``emit`` that made it and a corrupt or hand-edited log fails at replay, naming the event
and the field. ``KIND`` ties each class to its ``EventKind``; ``PAYLOADS`` maps back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from swarmtui.errors import SwarmError
from swarmtui.model.kinds import EventKind


class EventSchemaError(SwarmError):
    """An event whose payload does not match its kind's schema."""


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    KIND: ClassVar[EventKind]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


PAYLOADS: dict[EventKind, type[Payload]] = {}


_BY_NAME: dict[str, type[Payload]] = {}


def _register(cls: type[Payload]) -> type[Payload]:
    PAYLOADS[cls.KIND] = cls
    _BY_NAME[cls.KIND.value] = cls
    return cls


def _kind_class(kind: str, where: str) -> type[Payload]:
    cls = _BY_NAME.get(kind)
    if cls is None:
        raise EventSchemaError(f"{where}unknown event kind {kind!r}")
    return cls


def _schema_error(kind: str, where: str, e: ValidationError) -> EventSchemaError:
    problems = "; ".join(
        f"{'.'.join(str(x) for x in err['loc']) or '(payload)'}: {err['msg']}"
        for err in e.errors(include_url=False))
    return EventSchemaError(f"{where}event {kind}: {problems}")


def decode(kind: str, data: dict[str, Any], *, where: str = "") -> Payload:
    """The typed payload of an event given as plain data."""
    cls = _kind_class(kind, where)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise _schema_error(kind, where, e) from None


def decode_json(kind: str, raw: str | bytes, *, where: str = "") -> Payload:
    """The typed payload of an event read from the store as JSON text (parsed and checked in
    one pass, which is most of what replaying a long log costs)."""
    cls = _kind_class(kind, where)
    try:
        return cls.model_validate_json(raw)
    except ValidationError as e:
        raise _schema_error(kind, where, e) from None
