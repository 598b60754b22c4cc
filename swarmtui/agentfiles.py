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

from swarmtui import boundedjson
from swarmtui.model.kinds import Refusal
from swarmtui.protocol import RESULT_STATUSES

RESULTS_MAX_CHARS = 1024 * 1024


class AgentFileError(ValueError):
    """What was wrong with a file an agent wrote; ``refusal`` and ``limit`` say it typed."""

    def __init__(self, message: str, refusal: Refusal = Refusal.INVALID,
                 limit: int | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.limit = limit


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
    # unknown fields, each reduced to a bounded scalar (``boundedjson.summarise``)
    extra: dict[str, boundedjson.Scalar] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "files_modified": list(self.files_modified),
            "do_not_revert": self.do_not_revert,
            "outputs": self.outputs,
            "extra": self.extra,
        }


KNOWN_KEYS = frozenset({"status", "summary", "files_modified", "do_not_revert", "outputs",
                        "agent_id"})


def parse_results(text: str, where: str = "results.json", *, agent_id: str | None = None
                  ) -> Results:
    """Validate an agent's ``results.json`` (bounded: size and nesting are checked before it is
    parsed); unknown fields are kept as a bounded summary in ``extra``. With ``agent_id``, a
    file that names another attempt (its optional ``agent_id`` key) is refused."""
    try:
        data = boundedjson.loads(text, max_chars=RESULTS_MAX_CHARS)
    except boundedjson.JsonRefused as e:
        raise AgentFileError(f"{where} refused: {e}", Refusal(e.refusal), e.limit) from None
    except json.JSONDecodeError as e:
        raise AgentFileError(
            f"{where}: not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}") from None
    except ValueError as e:  # e.g. a number with more digits than Python converts
        raise AgentFileError(f"{where}: not valid JSON: {str(e)[:200]}") from None
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
    said = data.get("agent_id")
    if agent_id is not None and said is not None and said != agent_id:
        shown = boundedjson.summarise(said)
        raise AgentFileError(f'{where} refused: key "agent_id" says {shown!r}, but this is '
                             f"the folder of {agent_id}", Refusal.WRONG_AGENT)
    return Results(
        status=str(status),
        summary=summary,
        files_modified=tuple(files),
        do_not_revert=dnr,
        outputs=outputs,
        extra=boundedjson.summarise_keys(data, KNOWN_KEYS),
    )
