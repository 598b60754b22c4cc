"""The reviewer's answer: a forced ``record_verdict`` tool call, read with distrust."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from swarmtui.engine.guard.screening.normalise import safe_excerpt
from swarmtui.engine.review.request import (
    _MAX_CONCERNS,
    SEVERITIES,
    TOOL_NAME,
    VERDICTS,
    Severity,
    Verdict,
)
from swarmtui.textsafe import clean_text

if TYPE_CHECKING:
    from anthropic.types import Message

# -- the answer --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Concern:
    file: str  # "" for a concern about the attempt as a whole
    severity: Severity
    text: str
    line: int | None = None


@dataclass(frozen=True)
class Review:
    """One review. When ``ok`` is False, ``error`` is a sentence for people and ``verdict`` is
    None; tokens and cost still count whatever was billed (a malformed answer is paid for).
    ``retry_after`` is the wait the API asked for, when it asked; ``diff_note`` says what of the
    diff the reviewer did not see."""

    ok: bool
    verdict: Verdict | None = None
    confidence: float = 0.0
    summary: str = ""
    concerns: tuple[Concern, ...] = ()
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str = ""
    error: str = ""
    retry_after: float | None = None
    diff_note: str = ""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _concern(item: object, index: int) -> Concern | str:
    if not isinstance(item, dict):
        return f"concern {index} is not an object"
    file, severity, text, line = (item.get("file"), item.get("severity"), item.get("text"),
                                  item.get("line"))
    if not isinstance(file, str):
        return f"concern {index} has no file string"
    if severity not in SEVERITIES:
        return f"concern {index} has severity {safe_excerpt(repr(severity), 40)}"
    if not isinstance(text, str) or not text.strip():
        return f"concern {index} has no text"
    if line is not None and not (isinstance(line, int) and not isinstance(line, bool)
                                 and line >= 1):
        return f"concern {index} has line {safe_excerpt(repr(line), 40)}"
    return Concern(file=clean_text(file)[:500], severity=cast(Severity, severity),
                   text=clean_text(text)[:2000], line=line)


def parse_verdict(message: Message) -> Review | str:
    """The verdict from the forced tool call, checked field by field (an ``ok`` Review without
    usage figures), or what is wrong with it."""
    block = next((b for b in message.content
                  if b.type == "tool_use" and b.name == TOOL_NAME), None)
    if block is None:
        return f"no {TOOL_NAME} call in the answer (stop reason {message.stop_reason})"
    data: object = block.input  # the client does not validate it
    if not isinstance(data, dict):
        return f"the {TOOL_NAME} input is not an object"
    verdict, confidence = data.get("verdict"), data.get("confidence")
    summary, concerns = data.get("summary"), data.get("concerns")
    if verdict not in VERDICTS:
        return f"verdict {safe_excerpt(repr(verdict), 40)} is not one of {', '.join(VERDICTS)}"
    if not _is_number(confidence) or not 0.0 <= float(cast(float, confidence)) <= 1.0:
        return f"confidence {safe_excerpt(repr(confidence), 40)} is not a number from 0 to 1"
    if not isinstance(summary, str):
        return "the summary is not a string"
    if not isinstance(concerns, list):
        return "concerns is not a list"
    parsed: list[Concern] = []
    for i, item in enumerate(concerns[:_MAX_CONCERNS], 1):
        c = _concern(item, i)
        if isinstance(c, str):
            return c
        parsed.append(c)
    return Review(ok=True, verdict=verdict, confidence=float(cast(float, confidence)),
                  summary=clean_text(summary)[:4000], concerns=tuple(parsed))
