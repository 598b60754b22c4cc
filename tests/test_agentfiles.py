"""Tests for swarmtui.agentfiles: progress lines and results.json validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from swarmtui.agentfiles import (
    AgentFileError,
    Results,
    parse_progress,
    parse_progress_line,
    parse_results,
)

# -- progress.md ------------------------------------------------------------------------------


def test_progress_line_with_time_and_outputs() -> None:
    """The documented format gives time, status and the output count."""
    p = parse_progress_line("2025-03-01T10:20:30+00:00 - writing the parser [outputs: 4]\n")
    assert p is not None
    assert p.time == datetime(2025, 3, 1, 10, 20, 30, tzinfo=UTC)
    assert p.status == "writing the parser"
    assert p.outputs == 4
    assert p.raw == "2025-03-01T10:20:30+00:00 - writing the parser [outputs: 4]"


def test_progress_line_z_suffix_and_offset() -> None:
    """A trailing Z means UTC; other offsets are kept."""
    p = parse_progress_line("2025-03-01T10:20:30Z - reading")
    assert p is not None
    assert p.time == datetime(2025, 3, 1, 10, 20, 30, tzinfo=UTC)
    assert p.status == "reading" and p.outputs is None
    q = parse_progress_line("2025-03-01T12:20:30+02:00 - reading")
    assert q is not None and q.time == p.time
    assert q.time.utcoffset() == timedelta(hours=2)
    assert q.time.tzinfo == timezone(timedelta(hours=2))


def test_progress_outputs_spacing_and_zero() -> None:
    """[outputs:N] without a space, and zero outputs, still parse."""
    p = parse_progress_line("2025-03-01T10:20:30Z - nothing yet [outputs:0]")
    assert p is not None and p.outputs == 0 and p.status == "nothing yet"


@pytest.mark.parametrize("line", ["just doing stuff", "fixing - tests", "- dash first",
                                  "now - working [outputs: 2]"])
def test_sloppy_line_still_counts(line: str) -> None:
    """A line without a parseable time is still a heartbeat: status kept, time None."""
    p = parse_progress_line(line)
    assert p is not None
    assert p.time is None
    assert p.status  # non-empty
    if "[outputs: 2]" in line:
        assert p.outputs == 2 and p.status == "now - working"
    else:
        assert p.status == line.strip() and p.outputs is None


@pytest.mark.parametrize("line", ["", "\n", "   ", " \t \n"])
def test_blank_line_is_none(line: str) -> None:
    """Blank lines are not heartbeats."""
    assert parse_progress_line(line) is None


def test_parse_progress_skips_blanks_keeps_order() -> None:
    """parse_progress returns every non-blank line in order."""
    text = ("2025-03-01T10:00:00Z - start\n\n"
            "sloppy line\n"
            "2025-03-01T10:05:00Z - middle [outputs: 1]\n   \n"
            "2025-03-01T10:10:00Z - end [outputs: 3]")
    lines = parse_progress(text)
    assert [p.status for p in lines] == ["start", "sloppy line", "middle", "end"]
    assert [p.outputs for p in lines] == [None, None, 1, 3]
    assert lines[1].time is None and lines[3].time is not None
    assert parse_progress("") == []


# -- results.json -----------------------------------------------------------------------------


def test_results_minimal() -> None:
    """Only status is required; the rest take their defaults."""
    r = parse_results('{"status": "done"}')
    assert r == Results(status="done", summary="", files_modified=(), do_not_revert=False,
                        outputs=None, extra={})


def test_results_full_and_extra_kept() -> None:
    """All known fields are read; unknown ones end up in extra, as a bounded summary: scalars
    kept, containers described by their shape (never stored raw)."""
    data: dict[str, Any] = {"status": "blocked", "summary": "need a key",
                            "files_modified": ["a.py", "b/c.md"], "do_not_revert": True,
                            "outputs": 7, "confidence": 0.4, "notes": {"x": [1]}}
    r = parse_results(json.dumps(data))
    assert r.status == "blocked"
    assert r.summary == "need a key"
    assert r.files_modified == ("a.py", "b/c.md")
    assert r.do_not_revert is True
    assert r.outputs == 7
    assert r.extra == {"confidence": 0.4, "notes": "<object with 1 keys>"}
    assert r.to_dict() == {"status": "blocked", "summary": "need a key",
                           "files_modified": ["a.py", "b/c.md"], "do_not_revert": True,
                           "outputs": 7,
                           "extra": {"confidence": 0.4, "notes": "<object with 1 keys>"}}


@pytest.mark.parametrize("status", ["done", "failed", "blocked"])
def test_results_every_status(status: str) -> None:
    """Each protocol status is accepted."""
    assert parse_results(json.dumps({"status": status})).status == status


def test_results_bad_json_names_file_line_and_column() -> None:
    """Broken JSON names the file and where it broke."""
    text = '{\n  "status": "done",\n  "summary": oops\n}'
    with pytest.raises(AgentFileError) as info:
        parse_results(text, where="/w/.swarm/agents/t1-1/results.json")
    msg = str(info.value)
    assert msg.startswith("/w/.swarm/agents/t1-1/results.json: ")
    assert "not valid JSON" in msg
    assert "line 3, column 14" in msg


@pytest.mark.parametrize(("text", "kind"), [("[1, 2]", "list"), ('"done"', "str"), ("3", "int"),
                                       ("null", "NoneType")])
def test_results_not_an_object(text: str, kind: str) -> None:
    """A JSON value that is not an object is refused, naming the file and the type found."""
    with pytest.raises(AgentFileError) as info:
        parse_results(text, where="r.json")
    assert str(info.value) == f"r.json: expected a JSON object, got {kind}"


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("status", {"status": "finished"}),
    ("status", {"summary": "no status at all"}),
    ("status", {"status": None}),
    ("summary", {"status": "done", "summary": 3}),
    ("summary", {"status": "done", "summary": ["a"]}),
    ("files_modified", {"status": "done", "files_modified": "a.py"}),
    ("files_modified", {"status": "done", "files_modified": ["a.py", 2]}),
    ("files_modified", {"status": "done", "files_modified": {"a.py": 1}}),
    ("do_not_revert", {"status": "done", "do_not_revert": "yes"}),
    ("do_not_revert", {"status": "done", "do_not_revert": 1}),
    ("outputs", {"status": "done", "outputs": -1}),
    ("outputs", {"status": "done", "outputs": True}),
    ("outputs", {"status": "done", "outputs": 1.5}),
    ("outputs", {"status": "done", "outputs": "3"}),
]


@pytest.mark.parametrize(("key", "data"), INVALID,
                         ids=[f"{k}-{i}" for i, (k, _) in enumerate(INVALID)])
def test_results_invalid_field(key: str, data: dict[str, Any]) -> None:
    """Each invalid field gives an AgentFileError naming the file and the key."""
    with pytest.raises(AgentFileError) as info:
        parse_results(json.dumps(data), where="agents/t1-2/results.json")
    msg = str(info.value)
    assert msg.startswith("agents/t1-2/results.json: ")
    assert f'key "{key}"' in msg
    assert isinstance(info.value, ValueError)


def test_results_reports_every_problem() -> None:
    """Several bad keys are all reported in one error."""
    bad = {"status": "nope", "summary": 1, "files_modified": [1], "do_not_revert": "x",
           "outputs": -2}
    with pytest.raises(AgentFileError) as info:
        parse_results(json.dumps(bad))
    msg = str(info.value)
    for key in ("status", "summary", "files_modified", "do_not_revert", "outputs"):
        assert f'key "{key}"' in msg
    assert msg.startswith("results.json: ")


def test_results_outputs_zero_and_null_ok() -> None:
    """outputs may be 0 or null."""
    assert parse_results('{"status": "done", "outputs": 0}').outputs == 0
    assert parse_results('{"status": "done", "outputs": null}').outputs is None
