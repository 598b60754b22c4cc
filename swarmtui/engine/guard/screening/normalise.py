"""Normalisation for the injection screen: one canonical text plus its hidden parts (pure, total).

Instructions planted for a model are often hidden from the people who read the same text:
zero-width and bidi controls, Unicode tag characters, look-alike letters, encoded blobs, HTML
comments and hidden markup. This layer undoes those tricks so the rules and the classifier see
what a model would read, and reports each trick as a signal, because using one is suspicious in
itself. It never raises on any ``str`` (lone surrogates included) and its work is bounded: the
input is capped (head and tail are kept; ``TRUNCATED`` says so), and so are the number, size and
nesting of decoded blobs.

The result types and the caps are in ``signals`` and the decoders in ``decode``; the public names
of both are imported from here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from swarmtui.engine.guard.screening.decode import _decode_into, _texty
from swarmtui.engine.guard.screening.signals import (
    _MAX_BLOBS,
    DECODED,
    HIDDEN,
    MAX_DECODED_TOTAL,
    MAX_DEPTH,
    MAX_SEGMENT_CHARS,
    MAX_SEGMENTS,
    Normalised,
    Segment,
    Signal,
    SignalCode,
    _Acc,
    safe_excerpt,
    word_window,
)
from swarmtui.engine.guard.screening.structure import role_parts
from swarmtui.engine.guard.screening.unwrap import data_orders, hidden_fields, spelt_out

__all__ = [
    "DECODED",
    "HIDDEN",
    "MAX_DECODED_TOTAL",
    "MAX_DEPTH",
    "MAX_INPUT",
    "MAX_SEGMENTS",
    "MAX_SEGMENT_CHARS",
    "Normalised",
    "Segment",
    "Signal",
    "SignalCode",
    "clean_text",
    "normalise",
    "safe_excerpt",
    "visible",
    "word_window",
]

MAX_INPUT = 32_000  # characters screened; longer input keeps its head and tail
_HEAD, _TAIL = 24_000, 8_000


# -- character classes ----------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?|\x1b[@-_]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_VS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]+")
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_INVISIBLE = re.compile(
    f"[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064"
    f"\u206a-\u206f\u3164\ufeff\uffa0{_BIDI}]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WIDE = re.compile("[\uff01-\uff5e\u24b6-\u24e9\U0001d400-\U0001d7ff\U0001f130-\U0001f189]")

# Latin look-alikes from other scripts (Cyrillic, Greek, Armenian, IPA and small capitals);
# fullwidth and mathematical letters are NFKC's job.
_CONFUSABLE_PAIRS = (
    "аaвbеeкkмmнhоoрpсcтtуyхxіiїiјjѕsһhԁdԛqԝwӏlɡgԍgүyҽeԃdһh"
    "АAВBЕEЗ3КKМMНHОOРPСCТTУYХXІIЈJЅSԚQԜWҮY"
    "αaβbεeιiκkνvοoρpτtυuχxγyϲcϳjΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXϹC"
    "օoսuհhոnԁdց9"
    "ɑaɩiȷjʏyɪiᴏoᴄcᴅdᴇeɢgʜhᴊjᴋkʟlᴍmɴnᴘpʀrꜱsᴛtᴜuᴠvᴡwᴢz"
)
_CONFUSABLE = {_CONFUSABLE_PAIRS[i]: _CONFUSABLE_PAIRS[i + 1]
               for i in range(0, len(_CONFUSABLE_PAIRS), 2)}
_FOLD = str.maketrans(_CONFUSABLE)
_CONF_CLASS = "".join(sorted(_CONFUSABLE))
_CONF_CHAR = re.compile(f"[{_CONF_CLASS}]")
_WORDISH = re.compile(r"[^\W\d_]{1,64}")  # longer runs are cut: no word is that long
# Cyrillic and Greek letters that look like no Latin letter: their presence means real text in
# that script, where whole words of look-alikes are words, not disguise.
_REAL_FOREIGN = re.compile(f"(?![{_CONF_CLASS}])[\u0370-\u03ff\u0400-\u052f]")


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-zA-Z])(?=[\w@$]*[013457@$])[\w@$]{4,20}")
_LEET_MAP = str.maketrans("0345@$7", "oeasast")
_LEET_TARGETS = _words(
    "ignore ignoring disregard previous prior instructions instruction system prompt override "
    "secret secrets password passwords token tokens admin jailbreak developer mode delete "
    "forget rules reveal bypass unrestricted restrictions credentials execute exfiltrate api "
    "keys assistant human shell sudo disable skip"
)


def _fold_leet(word: str) -> str | None:
    low = word.lower()
    for one in ("i", "l"):
        cand = low.replace("1", one).translate(_LEET_MAP)
        if cand in _LEET_TARGETS:
            return cand
    return None


# -- the cleaning pass (shared by the body and every decoded part) ---------------------------

def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _strip_invisible(text: str, acc: _Acc) -> str:
    """Remove format characters, counting those beside Latin letters or digits as hidden."""
    suspicious = benign = bidi = 0
    example = ""
    for m in _INVISIBLE.finditer(text):
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        run = m.group()
        overrides = len(_BIDI_OVERRIDE.findall(run))
        bidi += overrides
        if _is_ascii_alnum(before) or _is_ascii_alnum(after) or overrides:
            suspicious += len(run) - overrides
            example = example or text[max(0, m.start() - 12): m.end() + 12]
        elif not (m.start() == 0 and run == "\ufeff"):
            benign += len(run)
    acc.signal(SignalCode.ZERO_WIDTH, suspicious, example)
    acc.signal(SignalCode.BIDI_CONTROL, bidi, example)
    acc.signal(SignalCode.INVISIBLE_FORMAT, benign)
    return _INVISIBLE.sub("", text)


def _smuggled(text: str, acc: _Acc) -> str:
    """Pull out text smuggled in tag characters or variation selectors (both invisible)."""
    if _TAGS.search(text):
        def tag(m: re.Match[str]) -> str:
            payload = "".join(chr(ord(c) - 0xE0000) for c in m.group()
                              if 0x20 <= ord(c) - 0xE0000 <= 0x7E)
            flag_emoji = m.start() > 0 and text[m.start() - 1] == "\U0001f3f4" and len(
                payload) <= 7
            if flag_emoji:
                acc.signal(SignalCode.INVISIBLE_FORMAT, len(m.group()))
            else:
                acc.signal(SignalCode.TAG_CHARS, len(m.group()), payload)
                if len(payload) >= 3:
                    acc.add(_clean(payload, acc), SignalCode.TAG_CHARS)
            return ""
        text = _TAGS.sub(tag, text)
    if _VS.search(text):
        def vs(m: re.Match[str]) -> str:
            run = m.group()
            if len(run) >= 4:
                data = bytes((ord(c) - 0xFE00) if ord(c) < 0xE0000 else (ord(c) - 0xE0100 + 16)
                             for c in run)
                decoded = data.decode("utf-8", "replace")
                acc.signal(SignalCode.VARIATION_SELECTORS, len(run), decoded)
                if _texty(decoded):
                    acc.add(decoded, SignalCode.VARIATION_SELECTORS)
            return ""
        text = _VS.sub(vs, text)
    return text


def _fold_homoglyphs(text: str, acc: _Acc) -> str:
    if _CONF_CHAR.search(text) is None:
        return text
    real_foreign = _REAL_FOREIGN.search(text) is not None
    folded: list[str] = []

    def fold(m: re.Match[str]) -> str:
        word = m.group()
        if _CONF_CHAR.search(word) is None:
            return word
        has_latin = any(c.isascii() for c in word)
        if has_latin or (len(word) >= 3 and not real_foreign and all(
                c.isascii() or c in _CONFUSABLE for c in word)):
            folded.append(word)
            return word.translate(_FOLD)
        return word

    out = _WORDISH.sub(fold, text)
    acc.signal(SignalCode.HOMOGLYPHS, len(folded), " ".join(folded[:3]))
    return out


def _clean(text: str, acc: _Acc) -> str:
    """The canonical form of one piece of text; idempotent."""
    ascii_only = text.isascii()
    if not ascii_only and _SURROGATE.search(text):
        acc.signal(SignalCode.SURROGATES, len(_SURROGATE.findall(text)))
        text = _SURROGATE.sub("\ufffd", text)
    if "\x1b" in text:
        acc.signal(SignalCode.ANSI_ESCAPES, len(_ANSI.findall(text)))
        text = _ANSI.sub("", text)
    if not ascii_only:
        text = _smuggled(text, acc)
        text = _strip_invisible(text, acc)
        wide = _WIDE.findall(text)
        acc.signal(SignalCode.COMPATIBILITY_FORMS, len(wide), "".join(wide[:12]))
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", text)  # NFKC can expose none, but stay idempotent
        text = _fold_homoglyphs(text, acc)
    if _CONTROL.search(text):
        acc.signal(SignalCode.CONTROL_CHARS, len(_CONTROL.findall(text)))
        text = _CONTROL.sub(" ", text)
    if _LEET_WORD.search(text):
        hits: list[str] = []

        def leet(m: re.Match[str]) -> str:
            word = _fold_leet(m.group())
            if word is None:
                return m.group()
            hits.append(m.group())
            return word
        text = _LEET_WORD.sub(leet, text)
        acc.signal(SignalCode.LEETSPEAK, len(hits), " ".join(hits[:3]))
    return text


# -- hidden markup ------------------------------------------------------------------------------

_COMMENT = re.compile(r"<!--(.{0,4000}?)(?:-->|$)", re.DOTALL)
# ``[//]: # (...)`` and its kin: a link definition to ``#`` or ``<>`` that markdown never shows,
# whatever its label.
_MD_COMMENT = re.compile(
    r"^\s*\[(?:(?://|comment|_)\]:\s*#?\s*[(\"'<]?|[\w -]{1,30}\]:\s*(?:#|<>)\s+[(\"'])"
    r"(.{0,2000}?)[)\"'>]?\s*$", re.MULTILINE | re.IGNORECASE)
_HIDDEN_TAG = re.compile(
    r"<(\w{1,12})\b[^>]{0,400}?(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0"
    r"|opacity\s*:\s*0(?:\.0)?\s*[;\"']|color\s*:\s*(?:white|#fff(?:fff)?|transparent)\b"
    r"|\shidden\b|aria-hidden)[^>]{0,400}>(.{0,4000}?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_SILENT_TAG = re.compile(r"<(template|noscript|script|style)\b[^>]{0,200}>(.{0,4000}?)</\1\s*>",
                         re.DOTALL | re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\(\s*<?([^)\s>]{0,2000})>?"
                       r"(?:\s+\"([^\"]{0,500})\")?\)")
_MD_LINK = re.compile(r"(?<!!)\[([^\]\n]{0,500})\]\(\s*<?([^)\s>]{1,2000})>?"
                      r"(?:\s+\"([^\"]{0,500})\")?\)")
_MD_REF = re.compile(r"^\s{0,3}\[[^\]\n]{1,100}\]:\s*<?(\S{1,2000}?)>?"
                     r"(?:\s+[\"'(](.{0,500})[\"')])?\s*$", re.MULTILINE)
_ATTR = re.compile(r"\b(alt|title|aria-label)\s*=\s*(\"[^\"]{0,500}\"|'[^']{0,500}')",
                   re.IGNORECASE)


_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)


def _markup(text: str, acc: _Acc) -> None:
    """Add the parts of HTML and markdown a reader does not see (or sees only as a link), and
    the bodies of role fences and role objects (``structure``). Inside code spans and fences
    markup is shown as written, so it hides nothing there."""
    role_parts(text, acc)
    spelt_out(text, acc)
    if "`" in text:
        text = _CODE.sub(lambda m: " " * len(m.group()), text)
    if "<" in text:
        for m in list(_COMMENT.finditer(text))[:_MAX_BLOBS]:
            if acc.add(m.group(1), SignalCode.HTML_COMMENT):
                acc.signal(SignalCode.HTML_COMMENT, 1, m.group(1))
        for rx in (_HIDDEN_TAG, _SILENT_TAG):
            for m in list(rx.finditer(text))[:_MAX_BLOBS]:
                if acc.add(m.group(2), SignalCode.HIDDEN_HTML):
                    acc.signal(SignalCode.HIDDEN_HTML, 1, m.group(2))
        hidden_fields(text, acc)
        for m in list(_ATTR.finditer(text))[:_MAX_BLOBS]:
            if acc.add(m.group(2)[1:-1], SignalCode.ALT_TEXT):
                acc.signal(SignalCode.ALT_TEXT, 1, m.group(2))
    if "]" not in text:
        return
    for m in list(_MD_COMMENT.finditer(text))[:_MAX_BLOBS]:
        if acc.add(m.group(1), SignalCode.HTML_COMMENT):
            acc.signal(SignalCode.HTML_COMMENT, 1, m.group(1))
    for m in list(_MD_IMAGE.finditer(text))[:_MAX_BLOBS]:
        if acc.add(m.group(1), SignalCode.ALT_TEXT):
            acc.signal(SignalCode.ALT_TEXT, 1, m.group(1))
        _link(f"{m.group(2)} {m.group(3) or ''}", acc)
    for m in list(_MD_LINK.finditer(text))[:_MAX_BLOBS]:
        _link(f"{m.group(2)} {m.group(3) or ''}", acc)
    for m in list(_MD_REF.finditer(text))[:_MAX_BLOBS]:
        _link(f"{m.group(1)} {m.group(2) or ''}", acc)


def _link(target: str, acc: _Acc) -> None:
    target = unquote(target, errors="replace").replace("+", " ")
    if len(target.strip()) >= 8 and acc.add(target, SignalCode.LINK_TARGET):
        acc.signal(SignalCode.LINK_TARGET, 1, target)


# -- entry points -----------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """The canonical form of ``text`` alone (no segments); ``normalise(t).text`` equals it."""
    return normalise(text).text


def visible(text: str) -> str:
    """``text`` with invisible carriers removed but otherwise as written: what may be quoted to a
    model without passing on hidden characters the operator cannot see."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _TAGS.sub("", text)
    text = _VS.sub(lambda m: m.group() if len(m.group()) == 1 else "", text)
    return _INVISIBLE.sub("", _ANSI.sub("", text))


def normalise(text: str) -> Normalised:
    """The canonical body of ``text``, the hidden and decoded parts to screen, and the signals."""
    length = len(text)
    acc = _Acc(counts={}, examples={}, segments=[])
    truncated = length > MAX_INPUT + 1
    if truncated:
        acc.signal(SignalCode.TRUNCATED, length - _HEAD - _TAIL)
        text = text[:_HEAD] + "\n" + text[-_TAIL:]
    body = _clean(text, acc)
    if len(body) > MAX_INPUT + 1:  # NFKC can lengthen text (one character up to eighteen)
        truncated = True
        acc.signal(SignalCode.TRUNCATED, len(body) - _HEAD - _TAIL)
        body = body[:_HEAD] + "\n" + body[-_TAIL:]
    acc.segments.insert(0, Segment(body, None))
    _markup(body, acc)
    for seg in list(acc.segments):
        _decode_into(seg.text, acc, 1, _clean)
    data_orders(acc)
    # Hidden parts pulled out of markup may themselves be encoded; the cleaning above already
    # ran on them as part of the body.
    signals = tuple(Signal(code, n, acc.examples.get(code, "")) for code, n in acc.counts.items())
    return Normalised(text=body, segments=tuple(acc.segments), signals=signals,
                      truncated=truncated, length=length)

