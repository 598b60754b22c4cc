"""What normalisation reports, and the accumulator it reports into (pure).

``SignalCode`` names each trick undone, ``Signal`` counts one, ``Segment`` is a part of the text
to screen (the body, or a hidden or decoded part) and ``Normalised`` is the whole result. The
cleaning pass (``normalise``) and the decoders (``decode``) both add to one ``_Acc``, which
keeps the segments within the caps below.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_SEGMENTS = 24
MAX_SEGMENT_CHARS = 4_000
MAX_DECODED_TOTAL = 16_000
MAX_DEPTH = 2  # a blob decoded from a decoded blob is the deepest we go
_MAX_BLOBS = 12
_MAX_LINES = 200


class SignalCode(StrEnum):
    ZERO_WIDTH = "zero_width"  # invisible characters inside or beside Latin words
    INVISIBLE_FORMAT = "invisible_format"  # the same characters where scripts need them (emoji)
    BIDI_CONTROL = "bidi_control"
    TAG_CHARS = "tag_chars"
    VARIATION_SELECTORS = "variation_selectors"
    HOMOGLYPHS = "homoglyphs"
    COMPATIBILITY_FORMS = "compatibility_forms"  # fullwidth, mathematical or circled letters
    LEETSPEAK = "leetspeak"
    SURROGATES = "surrogates"
    CONTROL_CHARS = "control_chars"
    ANSI_ESCAPES = "ansi_escapes"
    BASE64 = "base64"
    HEX = "hex"
    PERCENT = "percent_encoding"
    HTML_ENTITIES = "html_entities"
    ESCAPES = "backslash_escapes"
    ROT13 = "rot13"
    REVERSED = "reversed"
    HTML_COMMENT = "html_comment"
    HIDDEN_HTML = "hidden_html"
    LINK_TARGET = "link_target"
    ALT_TEXT = "alt_text"
    ROLE_FENCE = "role_fence"  # a fenced block labelled system, instructions, prompt...
    ROLE_OBJECT = "role_object"  # a chat-API {"role": ..., "content": ...} object
    SPACED_LETTERS = "spaced_letters"  # "i g n o r e", "d.e.l.e.t.e": words spelt out
    DATA_ORDERS = "data_orders"  # a decoded JSON object whose values ask for something
    TRUNCATED = "truncated"


# Segments that came out of hiding or encoding; a segment's origin is one of these or None.
DECODED = frozenset({SignalCode.BASE64, SignalCode.HEX, SignalCode.PERCENT,
                     SignalCode.HTML_ENTITIES, SignalCode.ESCAPES, SignalCode.ROT13,
                     SignalCode.REVERSED, SignalCode.SPACED_LETTERS,
                     SignalCode.DATA_ORDERS})
HIDDEN = frozenset({SignalCode.TAG_CHARS, SignalCode.VARIATION_SELECTORS,
                    SignalCode.HTML_COMMENT, SignalCode.HIDDEN_HTML, SignalCode.ROLE_FENCE,
                    SignalCode.ROLE_OBJECT})


@dataclass(frozen=True)
class Signal:
    code: SignalCode
    count: int
    example: str = ""  # terminal-safe, short


@dataclass(frozen=True)
class Segment:
    text: str
    origin: SignalCode | None = None  # None: the body of the text itself


@dataclass(frozen=True)
class Normalised:
    text: str  # the canonical body
    segments: tuple[Segment, ...]  # the body first, then hidden and decoded parts
    signals: tuple[Signal, ...]
    truncated: bool
    length: int  # of the input, before any cap

    def has(self, code: SignalCode) -> bool:
        return any(s.code is code for s in self.signals)

    def count(self, code: SignalCode) -> int:
        return sum(s.count for s in self.signals if s.code is code)


def safe_excerpt(text: str, limit: int = 80) -> str:
    """``text`` made safe to print on a terminal or in a log line: control, format and
    surrogate characters are shown as ``<U+XXXX>``, whitespace runs become one space. A text
    longer than ``limit`` ends at a word boundary, then ``...`` (a word is cut only when it
    alone is longer than the limit)."""
    out: list[str] = []
    size = 0
    for ch in " ".join(text[: limit * 4].split()):
        cp = ord(ch)
        cat = unicodedata.category(ch)
        piece = f"<U+{cp:04X}>" if cat[0] == "C" or cat in ("Zl", "Zp") else ch
        if size + len(piece) > limit:
            if " " in out and ch != " ":
                while out and out[-1] != " ":
                    out.pop()  # the word that did not fit whole
            return "".join(out).rstrip() + "..."
        out.append(piece)
        size += len(piece)
    return "".join(out)


def word_window(text: str, start: int, end: int, pad: int = 10) -> str:
    """``text[start:end]`` with up to ``pad`` characters either side, widened to whole words
    (by at most 20 more characters): an excerpt never starts or ends inside a word."""
    a, b = max(0, start - pad), min(len(text), end + pad)
    floor, ceil = max(0, a - 20), min(len(text), b + 20)
    while a > floor and not text[a - 1].isspace():
        a -= 1
    while b < ceil and not text[b].isspace():
        b += 1
    return text[a:b].strip()


@dataclass
class _Acc:
    counts: dict[SignalCode, int]
    examples: dict[SignalCode, str]
    segments: list[Segment]
    decoded_chars: int = 0

    def signal(self, code: SignalCode, count: int, example: str = "") -> None:
        if count <= 0:
            return
        self.counts[code] = self.counts.get(code, 0) + count
        if example and not self.examples.get(code):
            self.examples[code] = safe_excerpt(example, 60)

    def add(self, text: str, origin: SignalCode) -> bool:
        """Keep ``text`` as a segment to screen, unless empty, a repeat or over the cap."""
        text = text.strip()[:MAX_SEGMENT_CHARS]
        if not text or len(self.segments) >= MAX_SEGMENTS - 1:
            return False
        if any(s.text == text for s in self.segments):
            return False
        self.segments.append(Segment(text, origin))
        return True
