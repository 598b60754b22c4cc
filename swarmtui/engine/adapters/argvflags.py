"""Taking flags out of a configured command line (pure): the interactive screen drops what
makes Claude Code headless, a resumed Codex run drops what ``exec resume`` refuses."""

from __future__ import annotations

from collections.abc import Mapping


def without_flags(argv: list[str], flags: Mapping[str, bool]) -> list[str]:
    """``argv`` without each flag named in ``flags`` (its value: whether it takes one). A
    flag that takes a value loses the next word too, unless given as ``--flag=value``."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if name in flags:
            skip = flags[name] and "=" not in a
            continue
        out.append(a)
    return out
