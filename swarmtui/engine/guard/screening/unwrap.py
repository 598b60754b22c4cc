"""More structure undone before the screen reads a text (pure, bounded): words spelt out
letter by letter, decoded JSON objects whose values carry the order, and hidden HTML that the
markup pass does not reach (hidden form fields, meta tags, text moved off screen).

Each is a way to keep an order away from a keyword filter while a model still reads it: a
model reads "i g n o r e  y o u r  r u l e s" as a sentence, and a base64 blob that decodes to
``{"review": "skip", "target": "main"}`` as a request. The parts found here are added as
segments of their own, so the rules and the classifier see them as plain words; the body is
left as written.
"""

from __future__ import annotations

import json
import re

from swarmtui.engine.guard.screening.signals import (
    _MAX_BLOBS,
    DECODED,
    SignalCode,
    _Acc,
)

# A run of single letters joined by one and the same space, dot, dash, underscore or star
# ("i g n o r e", "d.e.l.e.t.e"); word gaps are two spaces, a slash or another separator. The
# text counts as spelt out only with two runs of four letters or more (or one of eight), so
# "e.g.", "U.S.A." and "a x b" stay as written.
_SPACED = re.compile(r"(?<![\w.])[A-Za-z]([ .*_-])[A-Za-z](?:\1[A-Za-z])*(?!\w)(?:\1(?![\w]))?")
_SPACED_HINT = re.compile(r"[A-Za-z]([ .*_-])[A-Za-z]\1[A-Za-z]\1[A-Za-z](?!\w)")
_MIN_RUNS, _MIN_LETTERS, _ONE_LONG = 2, 4, 8

# Hidden form fields, meta tags and elements placed off screen: read by a model, not shown.
_HIDDEN_INPUT = re.compile(
    r"<input\b(?=[^>]{0,400}\btype\s*=\s*[\"']?hidden)[^>]{0,400}?\bvalue\s*=\s*"
    r"(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')", re.IGNORECASE)
_META = re.compile(r"<meta\b[^>]{0,400}?\bcontent\s*=\s*(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')",
                   re.IGNORECASE)
_OFF_SCREEN = re.compile(
    r"<(\w{1,12})\b[^>]{0,400}?(?:(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}\s*px|"
    r"clip\s*:\s*rect\(\s*0|(?:height|width|max-height)\s*:\s*0(?:px)?\s*[;\"']|"
    r"font-size\s*:\s*[01]px)[^>]{0,400}>(.{0,4000}?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_DATA_KEYS = 24


def spelt_out(text: str, acc: _Acc) -> None:
    """Add ``text`` with its letter-spaced words joined, when it has enough of them."""
    if _SPACED_HINT.search(text) is None:
        return
    runs = 0
    longest = 0

    def join(m: re.Match[str]) -> str:
        nonlocal runs, longest
        word = re.sub(r"[ .*_-]", "", m.group())
        runs += len(word) >= _MIN_LETTERS
        longest = max(longest, len(word))
        return word
    out = _SPACED.sub(join, text[:8000])
    if runs >= _MIN_RUNS or longest >= _ONE_LONG:
        out = re.sub(r"[ \t]{2,}|\s/\s", " ", out)
        if acc.add(out, SignalCode.SPACED_LETTERS):
            acc.signal(SignalCode.SPACED_LETTERS, runs, out)


def hidden_fields(text: str, acc: _Acc) -> None:
    """Add the values of hidden inputs, meta tags and off-screen elements as hidden parts."""
    if "<" not in text:
        return
    low = text.lower()
    if "<input" in low or "<meta" in low:
        for rx in (_HIDDEN_INPUT, _META):
            for m in list(rx.finditer(text))[:_MAX_BLOBS]:
                value = m.group(1) if m.group(1) is not None else m.group(2)
                if len(value.split()) >= 3 and acc.add(value, SignalCode.HIDDEN_HTML):
                    acc.signal(SignalCode.HIDDEN_HTML, 1, value)
    for m in list(_OFF_SCREEN.finditer(text))[:_MAX_BLOBS]:
        if acc.add(m.group(2), SignalCode.HIDDEN_HTML):
            acc.signal(SignalCode.HIDDEN_HTML, 1, m.group(2))


def data_orders(acc: _Acc) -> None:
    """For each decoded part that is a JSON object of short strings, add its pairs as words
    ("skip review", "force push"), so an order given as settings reads as one."""
    for seg in list(acc.segments):
        if seg.origin not in DECODED or not seg.text.startswith("{"):
            continue
        try:
            data = json.loads(seg.text)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        pairs = [(str(k), v) for k, v in list(data.items())[:_DATA_KEYS]
                 if isinstance(v, str | bool) and len(str(v)) <= 80]
        if len(pairs) < 2:
            continue
        words = ". ".join(f"{_val(v)} {k.replace('_', ' ')}" for k, v in pairs)
        if acc.add(words + ".", SignalCode.DATA_ORDERS):
            acc.signal(SignalCode.DATA_ORDERS, 1, words)


def _val(v: str | bool) -> str:
    if isinstance(v, bool):
        return "enable" if v else "disable"
    return {"off": "disable", "false": "disable", "none": "skip", "no": "skip"}.get(
        v.lower(), v)
