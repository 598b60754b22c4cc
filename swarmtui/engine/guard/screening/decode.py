"""Decoders for the injection screen: find encoded parts of a text and decode them (pure).

Base64, hex (long runs, ``\\x`` and ``0x`` escapes, spaced pairs), percent-encoding, HTML
entities, backslash escapes, ROT13 (announced, or a line that only reads as English once
rotated) and reversed lines. Each part that decodes to text is cleaned, kept as a segment with
its signal, and searched again, down to ``MAX_DEPTH`` and within ``MAX_DECODED_TOTAL``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
from collections.abc import Callable
from urllib.parse import unquote

from swarmtui.engine.guard.screening.signals import (
    _MAX_BLOBS,
    _MAX_LINES,
    MAX_DECODED_TOTAL,
    MAX_DEPTH,
    MAX_SEGMENT_CHARS,
    SignalCode,
    _Acc,
)

# The cleaning pass ``normalise`` runs on every decoded part (passed in: it lives there).
_Clean = Callable[[str, _Acc], str]
_Part = tuple[SignalCode, str]  # a decoded part and the encoding it came out of

_B64 = re.compile(r"(?<![\w+/-])[A-Za-z0-9+/_-]{16,}(?:\r?\n[A-Za-z0-9+/_-]{8,}){0,40}={0,2}"
                  r"(?![\w+/=-])")
_HEX = (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{20,}(?![0-9A-Fa-f])"),
        re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}"),
        re.compile(r"(?:0x[0-9A-Fa-f]{2}[\s,]*){6,}"),
        re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]){9,}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])"))
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&#[xX]?[0-9A-Fa-f]{1,6};|&[A-Za-z]{2,8};")
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\x[0-9A-Fa-f]{2}")
_WORD = re.compile(r"[a-z]+")
_COMMON_WORDS = (
    "the and you your to of all is are this that it in on for with be do not now run any "
    "ignore instructions previous send print delete system prompt key keys secret from then "
    "must should will please what was were have has operator approved skip skipping review "
    "merge main push tests test branch commit file files agent disable environment token "
    "password without directly into"
)
_COMMON = frozenset(_COMMON_WORDS.split())
_ROT13_MENTION = re.compile(r"\brot-?13\b|\bcaesar\b", re.IGNORECASE)


def _texty(s: str) -> bool:
    """Whether decoded bytes look like text worth screening rather than binary noise."""
    if len(s) < 6 or "\ufffd" in s:
        return False
    printable = sum(1 for c in s if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in s if c.isalpha())
    return printable >= 0.95 * len(s) and letters >= 0.4 * len(s.replace(" ", "") or "x")


def _reencoded(s: str) -> bool:
    """Whether decoded text is itself an encoding worth one more round (percent or hex)."""
    return len(s) >= 12 and s.isascii() and s.isprintable() and (
        len(_PCT.findall(s)) >= 4 or len(_ESCAPE.findall(s)) >= 4)


def _english_words(s: str) -> int:
    return sum(map(_COMMON.__contains__, _WORD.findall(s.lower())))


def _b64(blob: str) -> str | None:
    blob = re.sub(r"\s+", "", blob).rstrip("=")
    if not (any(c.isupper() for c in blob) and any(c.islower() for c in blob)):
        return None
    blob = blob[: MAX_SEGMENT_CHARS * 4 // 3]
    blob = blob[: len(blob) - len(blob) % 4] if len(blob) % 4 == 1 else blob
    try:
        raw = base64.b64decode(blob.translate(str.maketrans("-_", "+/")) + "=" * (-len(blob) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _hex(blob: str) -> str | None:
    digits = re.sub(r"\\x|0x|[\s,:]", "", blob)[: MAX_SEGMENT_CHARS * 2]
    try:
        return bytes.fromhex(digits[: len(digits) - len(digits) % 2]).decode("utf-8")
    except ValueError:
        return None


def _unescape(m: re.Match[str]) -> str:
    digits = m.group()[2:]  # after the \\u, \\U or \\x
    cp = int(digits, 16)
    return chr(cp) if cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else "\ufffd"


def _decode_into(text: str, acc: _Acc, depth: int, clean: _Clean) -> None:
    """Find encoded parts of ``text`` and add the ones that decode to text as segments."""
    if depth > MAX_DEPTH or acc.decoded_chars >= MAX_DECODED_TOTAL:
        return
    for code, dec in _encoded_parts(text):
        if acc.decoded_chars >= MAX_DECODED_TOTAL:
            break
        dec = dec[:MAX_SEGMENT_CHARS]
        if code in (SignalCode.ROT13, SignalCode.REVERSED) and _english_words(dec) < 2:
            continue
        cleaned = clean(dec, acc)
        if cleaned.strip() == text.strip():
            continue
        acc.decoded_chars += len(cleaned)
        if acc.add(cleaned, code):
            acc.signal(code, 1, cleaned)
            _decode_into(cleaned, acc, depth + 1, clean)


def _encoded_parts(text: str) -> list[_Part]:
    """Every decoding of ``text`` or of a part of it that may be worth screening, in order."""
    words = text.split()
    has_long = any(len(w) >= 16 for w in words)
    return [
        *_base64_parts(text, has_long),
        *_hex_parts(text, words, has_long),
        *_whole_text_parts(text),
        *_rotated_parts(text),
    ]


def _base64_parts(text: str, has_long: bool) -> list[_Part]:
    if not has_long:  # a base64 blob is one "word" of 16 characters or more
        return []
    out: list[_Part] = []
    for m in list(_B64.finditer(text))[:_MAX_BLOBS]:
        dec = _b64(m.group())
        if dec is not None and (_texty(dec) or _reencoded(dec)):
            out.append((SignalCode.BASE64, dec))
    return out


def _hex_parts(text: str, words: list[str], has_long: bool) -> list[_Part]:
    pairs = sum(1 for w in words if len(w) == 2 and w[0] in _HEX_DIGITS and w[1] in _HEX_DIGITS)
    # Each of the _HEX forms is searched only when the text has what it needs.
    gates = (has_long, "\\x" in text, "0x" in text, pairs >= 10)
    out: list[_Part] = []
    for rx, gate in zip(_HEX, gates, strict=True):
        if not gate:
            continue
        for m in list(rx.finditer(text))[:_MAX_BLOBS]:
            dec = _hex(m.group())
            if dec is not None and _texty(dec):
                out.append((SignalCode.HEX, dec))
    return out


# Encodings decoded over the whole text once it has four or more of their escapes:
# (signal, a character each escape contains, the escape, the decoder).
_WHOLE_TEXT: tuple[tuple[SignalCode, str, re.Pattern[str], Callable[[str], str]], ...] = (
    (SignalCode.PERCENT, "%", _PCT, lambda t: unquote(t, errors="replace")),
    (SignalCode.HTML_ENTITIES, "&", _ENTITY, html.unescape),
    (SignalCode.ESCAPES, "\\", _ESCAPE, lambda t: _ESCAPE.sub(_unescape, t)),
)


def _whole_text_parts(text: str) -> list[_Part]:
    return [(code, decode(text)) for code, marker, rx, decode in _WHOLE_TEXT
            if marker in text and len(rx.findall(text)) >= 4]


def _rotated_parts(text: str) -> list[_Part]:
    """ROT13 after a mention of it, and lines that read as English only rotated or reversed."""
    if not text.isascii():
        return []
    out: list[_Part] = []
    lowered = text.lower()
    mention = _ROT13_MENTION.search(text) if "rot" in lowered or "caesar" in lowered else None
    if mention:
        out.append((SignalCode.ROT13, codecs.encode(text[mention.end():], "rot13")))
    for line in text.splitlines()[:_MAX_LINES]:
        out.extend(_rotated_line(line))
    return out


_PIECE = re.compile(r"(?<=[:;.!?])\s+|\s+[-\u2013\u2014]\s+")


def _rotated_line(line: str) -> list[_Part]:
    if len(line) < 20:
        return []
    plain = _english_words(line)
    found = [] if plain >= 3 else [
        (code, dec) for code, dec in ((SignalCode.ROT13, codecs.encode(line, "rot13")),
                                      (SignalCode.REVERSED, line[::-1]))
        if _english_words(dec) >= max(3, 2 * plain + 1)]
    if found:
        return found
    # a plain lead-in ("read it backwards:") may introduce a rotated or reversed tail
    pieces = _PIECE.split(line)
    return [part for piece in pieces[1:] if 3 * _english_words(piece) < len(piece.split())
            for part in _rotated_line(piece)] if len(pieces) > 1 else []
