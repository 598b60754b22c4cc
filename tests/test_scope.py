"""Tests for swarmtui.engine.scope: file-scope overlap of glob patterns."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from swarmtui.engine.scope import patterns_overlap, scopes_overlap

OVERLAP_TABLE: list[tuple[str, str, bool]] = [
    ("src/a.py", "src/a.py", True),  # identical literal paths
    ("src/**", "src/**", True),  # identical globs
    ("src/**", "src/a.py", True),  # dir glob vs a file inside
    ("src/*", "src/pkg/a.py", True),  # fnmatch's * crosses "/", so this may match
    ("src/*.py", "src/a.py", True),
    ("src/*.py", "src/pkg/*.py", True),
    ("src/*.py", "src/*.md", False),  # suffixes can never meet
    ("src/a/**", "src/b/**", False),  # prefixes can never meet
    ("src/a/**", "src/**", True),
    ("**", "README.md", True),  # ** matches anything
    ("**", "src/*.py", True),
    ("**", "**", True),
    ("*", "docs/x.md", True),
    ("src/a.py", "src/b.py", False),  # two different literal files
    ("src/a.py", "tests/**", False),
    ("src/", "src/a.py", True),  # trailing slash: the whole directory
    ("src/", "src/pkg/**", True),
    ("src/", "srcx/a.py", False),
    ("src/", "lib/", False),
    ("docs/", "docs/", True),
    ("./src/a.py", "src/a.py", True),  # a leading ./ is the same path
    ("src/a?.py", "src/ab.py", True),
    ("src/a?.py", "src/abc.md", False),
    ("src/[ab].py", "src/a.py", True),
    ("src/[ab].py", "src/c.md", False),
    ("docs/*.md", "src/*.md", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), OVERLAP_TABLE,
                         ids=[f"{a}|{b}" for a, b, _ in OVERLAP_TABLE])
def test_overlap_table(a: str, b: str, expected: bool) -> None:
    """Known pairs overlap (or not), in both argument orders."""
    assert patterns_overlap(a, b) is expected
    assert patterns_overlap(b, a) is expected


def test_leading_dot_slash_keeps_hidden_file_dot() -> None:
    """'./.env' and '.env' name the same file, so they must overlap."""
    assert patterns_overlap("./.env", ".env")
    assert patterns_overlap("./.github/workflows/ci.yml", ".github/workflows/ci.yml")


def test_dot_slash_alone_is_the_whole_repository() -> None:
    """'./' declares the whole repository, like any trailing-slash directory scope."""
    assert patterns_overlap("./", "src/a.py")
    assert scopes_overlap(["./"], ["docs/*.md"])


def test_empty_scope_never_overlaps() -> None:
    """A task that declares no files locks nothing, even against '**'."""
    assert not scopes_overlap([], ["**"])
    assert not scopes_overlap(["**"], [])
    assert not scopes_overlap([], [])


def test_scopes_overlap_any_pair() -> None:
    """Scopes overlap when any pattern of one overlaps any pattern of the other."""
    assert scopes_overlap(["docs/*.md", "src/a.py"], ["tests/**", "src/a.py"])
    assert not scopes_overlap(["docs/*.md", "src/a.py"], ["tests/**", "src/b.py"])
    # Generators are accepted for both sides (b is consumed once, reused per a).
    assert scopes_overlap((p for p in ["x", "y"]), (p for p in ["z", "y"]))


# -- property: no false negatives -------------------------------------------------------------

ATOMS = ["a", "b", "/", ".", "*", "**", "?", "[ab]", "[!a]"]
PATH_CHARS = ["a", "b", "/", ".", "ab", "a/"]

patterns = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=6).map("".join)
paths = st.lists(st.sampled_from(PATH_CHARS), min_size=1, max_size=6).map("".join)


@settings(max_examples=400, deadline=None)
@given(a=patterns, b=patterns, path=paths)
@example(a="a/**", b="*.b", path="a/x.b")
@example(a="a*", b="*b", path="ab")
@example(a="a/", b="a/b", path="a/b")
def test_no_false_negatives(a: str, b: str, path: str) -> None:
    """If some concrete path matches both patterns, patterns_overlap must say True."""
    # A leading "./" is normalised away, so fnmatch on the raw pattern is not the reference.
    assume(not a.startswith("./") and not b.startswith("./"))
    if fnmatchcase(path, a) and fnmatchcase(path, b):
        assert patterns_overlap(a, b), (a, b, path)
        assert patterns_overlap(b, a), (b, a, path)


@settings(max_examples=200, deadline=None)
@given(a=patterns, path=paths)
def test_pattern_overlaps_any_path_it_matches(a: str, path: str) -> None:
    """A pattern overlaps every literal path it matches (the literal-vs-glob branch)."""
    assume(not a.startswith("./") and not path.startswith("./"))
    if fnmatchcase(path, a) and not path.endswith("/"):
        assert patterns_overlap(a, path)
        assert patterns_overlap(path, a)
