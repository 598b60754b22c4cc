"""Task ids and titles: what a valid id is, and readable ids and titles made from text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

# Ids become git branch names (``swarm/<id>-<attempt>``) and directory names under ``.swarm/``.
TASK_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_EXPECTED = (
    "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, "
    "not containing '..' and not ending in '.lock'"
)
TITLE_MAX = 60
SLUG_MAX = 24


def is_valid_task_id(task_id: str) -> bool:
    """Whether ``task_id`` may name a task (see ``TASK_ID_RE``)."""
    # The regex alone admits two things git and the file system reject: git refuses a ref
    # component ending in ".lock" (it keeps its own lock files under that name) and any ref
    # containing "..", which in a path would also read as a step up to the parent directory.
    return (
        TASK_ID_RE.fullmatch(task_id) is not None
        and ".." not in task_id
        and not task_id.endswith(".lock")
    )


def _slug(text: str, limit: int = SLUG_MAX) -> str:
    """Lower-case ASCII words of ``text`` joined by '-', cut at a word boundary near ``limit``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text.lower()):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            # A single over-long first word is cut rather than dropped, so the id stays readable.
            return slug or word[:limit]
        slug = candidate
    return slug


def _title_from(text: str) -> str:
    """The first non-blank line of ``text``, whitespace collapsed, cut at ``TITLE_MAX``."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"
    return ""


def make_task_id(prompt: str, existing: Collection[str]) -> str:
    """A readable id for a task added at run time, unique among ``existing``.

    Built from the prompt's first words (``"Fix the login bug"`` -> ``fix-the-login-bug``), with
    ``-2``, ``-3``, ... appended when taken. Uniqueness ignores letter case, as ``load_tasks``
    does, because ids name directories and branches on possibly case-insensitive file systems.
    """
    base = _slug(prompt) or "task"
    taken = {e.casefold() for e in existing}
    candidate, n = base, 2
    while candidate.casefold() in taken or not is_valid_task_id(candidate):
        candidate, n = f"{base}-{n}", n + 1
    return candidate
