"""Summaries of py-spy's raw (collapsed stack) profiles of the supervisor: where its time goes.

A raw profile has one line per distinct stack, ``frame;frame;...;frame COUNT``, outermost
first, each frame ``function (file:line)``. Reported: the share of samples per thread, the
functions with the most samples on top of the stack (self time), and the swarmtui functions
with the most samples anywhere on the stack (inclusive time).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>[^():]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    f = m.group("file")
    for marker in ("site-packages/", "swarmtui/", "lib/python3.11/"):
        i = f.find(marker)
        if i >= 0:
            f = f[i:] if marker == "swarmtui/" else f[i + len(marker):]
            break
    return f"{m.group('fn')} ({f})"


def summarize(path: Path, top: int = 15) -> dict[str, Any]:
    stacks: list[tuple[list[str], int]] = []
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for frames, c in stacks:
        if not frames:
            continue
        threads[frames[0].strip()] += c
        leaf = _short(frames[-1])
        own[leaf] += c
        seen = set()
        for fr in frames[1:]:
            s = _short(fr)
            if "swarmtui/" in s and s not in seen:
                seen.add(s)
                incl[s] += c

    def pct(items: list[tuple[str, int]]) -> list[tuple[str, float]]:
        return [(k, round(100.0 * v / total, 1)) for k, v in items]

    return {"samples": total, "threads": pct(threads.most_common(8)),
            "self": pct(own.most_common(top)), "inclusive": pct(incl.most_common(top))}


def text(summary: dict[str, Any]) -> str:
    out = [f"{summary['samples']} samples"]
    for key, title in (("threads", "threads"), ("self", "self time (top of stack)"),
                       ("inclusive", "swarmtui functions, inclusive")):
        out.append(f"  {title}:")
        out += [f"    {v:5.1f}%  {k}" for k, v in summary[key]]
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    for p in sys.argv[1:]:
        print(p)
        print(text(summarize(Path(p))))
