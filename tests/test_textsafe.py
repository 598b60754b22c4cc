"""Agent text made safe to store and to show (textsafe): property tests."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from swarmtui.textsafe import clean_text, term_safe

CONTROL = "".join(chr(c) for c in [*range(9), *range(11, 32), 127, *range(128, 160)])


@given(st.text())
def test_term_safe_leaves_no_control_character(text: str) -> None:
    out = term_safe(text)
    assert not any(c in CONTROL for c in out) and "\n" not in out
    out.encode("utf-8")  # lone surrogates are gone: printing never raises


@given(st.text())
def test_multiline_keeps_newlines_only(text: str) -> None:
    out = term_safe(text, multiline=True)
    assert not any(c in CONTROL for c in out)
    assert out.count("\n") == text.count("\n")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf"))))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert term_safe(text) == text


@given(st.text())
def test_clean_text_can_always_be_stored(text: str) -> None:
    out = clean_text(text)
    out.encode("utf-8")
    assert "\x00" not in out
    assert json.loads(json.dumps(out)) == out


def test_escapes_are_shown_not_interpreted() -> None:
    assert term_safe("a\x1b]52;c;eA==\x07b") == "a\\x1b]52;c;eA==\\x07b"
    assert term_safe("x\u202ey") == "x\\u202ey"
    assert term_safe("lone \ud800") == "lone \ufffd"
