"""Making text that came from an agent safe to store and safe to show.

Agents write summaries, progress lines and file names; a terminal that prints them raw can be
made to retitle itself, clear the screen, write to the clipboard (OSC 52) or reorder text
(bidirectional overrides). ``clean_text`` is applied when text enters the log (lone surrogates,
which cannot be encoded, become U+FFFD; NUL is dropped). ``term_safe`` is applied whenever text
reaches a terminal: every control character and escape sequence is shown escaped (``\\x1b``), so
the reader sees what was written and the terminal interprets none of it.
"""

from __future__ import annotations

import re

_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 controls but tab and newline, DEL, C1 controls, and the Unicode format characters that
# reorder or hide text (bidirectional embeddings, overrides and isolates; zero-width joiners).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069"
                     "\ufeff]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str) -> str:
    """Text fit for the log: lone surrogates replaced, NUL removed."""
    if not text:
        return text
    return _SURROGATES.sub("\ufffd", text).replace("\x00", "")


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    o = ord(c)
    if o == 0x09:
        return "\\t"
    if o == 0x0A:
        return "\\n"
    if o == 0x0D:
        return "\\r"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def term_safe(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character shown escaped; newlines kept when ``multiline``."""
    if not text:
        return text
    text = _SURROGATES.sub("\ufffd", text)
    rx = _UNSAFE if multiline else _UNSAFE_LINE
    return rx.sub(_escape, text)
