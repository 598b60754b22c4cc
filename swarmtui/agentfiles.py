"""Parsers for the files agents write: ``progress.md`` lines and ``results.json``.

Pure functions: they take text and return values or raise ``AgentFileError`` with a message
that says what was wrong, so the supervisor can record a clear event instead of crashing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from swarmtui.protocol import RESULT_STATUSES


class AgentFileError(ValueError):
    pass


# "<ISO time> - <status>" with an optional trailing "[outputs: N]".
_PROGRESS_RE = re.compile(r"^\s*(?P<time>\S+)\s+-\s+(?P<status>.*?)\s*$")
_OUTPUTS_RE = re.compile(r"\[outputs:\s*(?P<n>\d+)\]\s*$")


@dataclass(frozen=True)
class ProgressLine:
    status: str
    time: datetime | None  # None when the line carried no parseable timestamp
    outputs: int | None
    raw: str


def parse_progress_line(line: str) -> ProgressLine | None:
    """Parse one progress line; blank lines give None.

    A line that does not follow the format still counts as a heartbeat (agents are sloppy and
    an alive-but-sloppy agent is not stuck), it just carries no time or output count.
    """
    raw = line.rstrip("\n")
    if not raw.strip():
        return None
    status = raw.strip()
    when: datetime | None = None
    m = _PROGRESS_RE.match(raw)
    if m:
        try:
            when = datetime.fromisoformat(m.group("time").replace("Z", "+00:00"))
            status = m.group("status")
        except ValueError:
            when = None
    outputs = None
    om = _OUTPUTS_RE.search(status)
    if om:
        outputs = int(om.group("n"))
        status = status[: om.start()].rstrip()
    return ProgressLine(status=status, time=when, outputs=outputs, raw=raw)


def parse_progress(text: str) -> list[ProgressLine]:
    return [p for p in (parse_progress_line(s) for s in text.splitlines()) if p is not None]


@dataclass(frozen=True)
class Results:
    status: str
    summary: str
    files_modified: tuple[str, ...]
    do_not_revert: bool
    outputs: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "files_modified": list(self.files_modified),
            "do_not_revert": self.do_not_revert,
            "outputs": self.outputs,
            "extra": self.extra,
        }


def parse_results(text: str, where: str = "results.json") -> Results:
    """Validate an agent's ``results.json``; unknown fields are kept in ``extra``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise AgentFileError(
            f"{where}: not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise AgentFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
    problems: list[str] = []
    status = data.get("status")
    if status not in RESULT_STATUSES:
        problems.append(f'key "status": expected one of {", ".join(RESULT_STATUSES)}, '
                        f'got {status!r}')
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        problems.append(f'key "summary": expected a string, got {type(summary).__name__}')
    files = data.get("files_modified", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        problems.append('key "files_modified": expected a list of strings')
    dnr = data.get("do_not_revert", False)
    if not isinstance(dnr, bool):
        problems.append(f'key "do_not_revert": expected true or false, got {dnr!r}')
    outputs = data.get("outputs")
    if outputs is not None and (not isinstance(outputs, int) or isinstance(outputs, bool)
                                or outputs < 0):
        problems.append(f'key "outputs": expected a whole number >= 0, got {outputs!r}')
    if problems:
        raise AgentFileError(f"{where}: " + "; ".join(problems))
    known = {"status", "summary", "files_modified", "do_not_revert", "outputs"}
    return Results(
        status=str(status),
        summary=summary,
        files_modified=tuple(files),
        do_not_revert=dnr,
        outputs=outputs,
        extra={k: v for k, v in data.items() if k not in known},
    )
