"""Payloads of the quarantine: held, approved and rejected agent text."""

from __future__ import annotations

from pydantic import Field

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register

# Screened as they are ingested: what an attempt says about its own work. Held text from one of
# these holds that attempt's merge too (the agent may have read something hostile and obeyed it).
WORK_SOURCES = ("results summary", "final message")


@_register
class TextQuarantined(Payload):
    """Text one agent wrote was held back from other agents' prompts: the screen flagged it.

    ``excerpt`` is short and terminal-safe; the full text is kept for the operator in
    ``.swarm/quarantine/<qid>.txt`` (0600). The same text flagged again (same digest) is the
    same quarantine: repeats collapse."""

    KIND = EventKind.TEXT_QUARANTINED
    qid: str
    digest: str
    source: str
    reasons: list[str] = Field(default_factory=list)
    sentences: list[str] = Field(default_factory=list)
    excerpt: str = ""
    score: float = 0.0
    length: int = 0
    judged: str = ""  # what the model-backed judge said, when it was asked


@_register
class TextApproved(Payload):
    KIND = EventKind.TEXT_APPROVED
    qid: str
    digest: str
    by: str = ""


@_register
class TextRejected(Payload):
    KIND = EventKind.TEXT_REJECTED
    qid: str
    digest: str
    by: str = ""


@_register
class InjectionFlagged(Payload):
    KIND = EventKind.INJECTION_FLAGGED
    source: str
    flags: list[str]
    excerpt: str = ""
