"""Which version of each agent CLI its adapter was checked against, and a verdict on another
(pure). The adapters read the CLIs' own output, whose shape changes between releases: an older
CLI may lack what the adapter reads, a newer one may have moved it."""

from __future__ import annotations

import re

# The versions the recorded transcripts (tests/data/<cli>) and the end-to-end tests ran with.
TESTED: dict[str, str] = {"claude": "2.1.332", "codex": "0.171.0", "gemini": "0.61.0",
                          "opencode": "1.18.33", "qwen": "0.24.4", "aider": "0.86.2"}
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse(text: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def verdict(adapter: str, text: str) -> tuple[str, str]:
    """``(level, detail)`` for what ``<cli> --version`` printed: ``ok`` at the tested minor
    version or newer (said so when newer), ``warn`` when older or unreadable."""
    tested = TESTED.get(adapter)
    said = " ".join(text.split())[:80]
    if tested is None:
        return "ok", said
    got, want = parse(text), parse(tested)
    if got is None or want is None:
        return "warn", f"could not read a version from {said!r} (tested with {tested})"
    if got[:2] < want[:2]:
        return "warn", (f"{said}: older than {tested}, the version the {adapter} adapter was "
                        "tested with; its output may lack what swarmtui reads")
    if got[:2] > want[:2]:
        return "ok", f"{said} (tested with {tested}; newer output may differ)"
    return "ok", f"{said} (tested with {tested})"
