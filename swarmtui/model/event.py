"""An event of the log: where and when, plus its typed payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads import Payload

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    time: float  # unix seconds
    payload: Payload
    task: str | None = None
    attempt: int | None = None
    run: int = 0

    @property
    def kind(self) -> EventKind:
        return self.payload.KIND

    @property
    def data(self) -> dict[str, Any]:
        """The payload as plain JSON data (for printing; decisions read ``payload``)."""
        return self.payload.to_json()

    @classmethod
    def make(cls, seq: int, time: float, kind: str, task: str | None = None,
             attempt: int | None = None, data: dict[str, Any] | None = None,
             run: int = 0) -> Event:
        """An event from its kind and plain data (validated against the kind's type)."""
        from swarmtui.model.payloads import decode

        return cls(seq=seq, time=time, payload=decode(kind, data or {}), task=task,
                   attempt=attempt, run=run)

    def get(self, cls: type[P]) -> P:
        """The payload as ``cls``; a programming error when the kind is another."""
        if not isinstance(self.payload, cls):
            raise TypeError(f"event {self.seq} is {self.kind}, not {cls.KIND}")
        return self.payload

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds"),
            "run": self.run,
            "kind": str(self.kind),
            "task": self.task,
            "attempt": self.attempt,
            "data": self.data,
        }
