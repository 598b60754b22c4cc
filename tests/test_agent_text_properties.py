"""Property tests for every parser of agent-written text: progress lines, results.json, the exit
record, signal lines, Claude Code's stream-json and hook payloads. Whatever an agent writes,
each either gives a well-formed value or a clear refusal, never another exception, and what it
keeps is bounded and storable."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarmtui import protocol as P
from swarmtui.agentfiles import AgentFileError, parse_progress_line, parse_results
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.ingest import AttemptFiles
from swarmtui.engine.reader import signal_payload
from swarmtui.hook import signal_of
from swarmtui.model import payloads as p
from swarmtui.textsafe import clean_text

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=20)
# Objects shaped like the real ones: the keys the parsers look at, with any values.
RESULT_KEYS = st.sampled_from(["status", "summary", "files_modified", "do_not_revert", "outputs",
                               "extra", "x"])
CLAUDE_TYPES = st.sampled_from(["system", "assistant", "user", "result", "rate_limit_event",
                                "stream_event", "", "x"])
CLAUDE_KEYS = st.sampled_from(["type", "subtype", "session_id", "model", "error", "message",
                               "usage", "modelUsage", "total_cost_usd", "is_error", "result",
                               "rate_limit_info", "permission_denials", "retry_delay_ms",
                               "attempt", "error_status", "model_usage_since_last_result",
                               "resetsAt", "status", "rateLimitType", "num_turns", "event",
                               "api_message_id", "tool_use_id", "tool_name",
                               "parent_tool_use_id"])


@given(st.text(st.characters(blacklist_characters="\n"), max_size=300))
def test_progress_line(text: str) -> None:
    """One line as ingest splits them (on newlines only: other separators stay in the text)."""
    line = parse_progress_line(text)
    if line is None:
        assert not text.strip()
        return
    assert "\n" not in line.status and (line.outputs is None or line.outputs >= 0)


@given(st.text(alphabet=string.printable, max_size=40), st.integers(-5, 10 ** 30))
def test_progress_outputs_are_numbers(status: str, n: int) -> None:
    line = parse_progress_line(f"2026-01-01T00:00:00Z - {status} [outputs: {n}]")
    assert line is not None


@given(st.text(max_size=300) | JSON.map(json.dumps)
       | st.dictionaries(RESULT_KEYS, JSON, max_size=6).map(json.dumps))
def test_results(text: str) -> None:
    try:
        res = parse_results(text, "results.json")
    except AgentFileError as e:
        error = str(e)
    else:
        error = ""
    if error:
        assert error.startswith("results.json")  # names the file and what was expected
        return
    assert isinstance(res.summary, str) and all(isinstance(f, str) for f in res.files_modified)
    json.dumps(res.to_dict())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(data=st.binary(max_size=400) | JSON.map(lambda v: json.dumps(v).encode())
       | st.dictionaries(st.sampled_from(["how", "code", "signal", "reason", "error", "x"]),
                         JSON, max_size=5).map(lambda v: json.dumps(v).encode()))
def test_exit_record(tmp_path: Path, data: bytes) -> None:
    swarm = tmp_path / ".swarm"
    folder = swarm / P.AGENTS_DIR / "t-1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / P.EXIT_FILE).write_bytes(data)
    rec = AttemptFiles(swarm, "t-1").exit_record()
    if rec is not None:
        assert isinstance(rec.how, str) and (rec.code is None or isinstance(rec.code, int))


def _claude_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj)


CLAUDE_OBJ = st.builds(lambda kind, rest: {"type": kind, **rest}, CLAUDE_TYPES,
                       st.dictionaries(CLAUDE_KEYS, JSON, max_size=6))


@given(st.lists(CLAUDE_OBJ.map(_claude_line) | st.text(max_size=200), max_size=12))
def test_claude_stream(lines: list[str]) -> None:
    """Any stream: every signal the adapter emits is one the supervisor can type (or drops), and
    the usage it reports is plain JSON."""
    a = ClaudeAdapter()
    for line in lines:
        for s in a.observe(line):
            assert isinstance(s, dict) and "kind" in s
            json.dumps(s)
            pl = signal_payload(json.loads(json.dumps(s)), 0)
            assert pl is None or isinstance(pl, p.Signal)
    json.dumps(a.usage())


@given(st.dictionaries(st.text(max_size=20), JSON, max_size=8))
def test_signal_lines(obj: dict[str, Any]) -> None:
    for kind in ("session", "api_retry", "api_error", "rate_limit", "permission_denied", "hook",
                 "usage", "nonsense"):
        pl = signal_payload({**obj, "kind": kind}, 7)
        if pl is not None:
            assert pl.offset == 7
            for v in pl.model_dump().values():
                if isinstance(v, str):
                    assert len(v) <= 2000 and v == clean_text(v)


@given(st.text(max_size=100), JSON)
def test_hook_payloads(event: str, payload: Any) -> None:
    s = signal_of(event, payload)
    assert s["kind"] == "hook" and len(s["event"]) <= 40 and len(s["message"]) <= 300
    json.dumps(s)


@pytest.mark.parametrize("line", ["{", "{}", '{"type": "result"}', '{"type": "system", '
                                  '"subtype": "init", "session_id": 5}', "{" * 5000])
def test_claude_odd_lines(line: str) -> None:
    a = ClaudeAdapter()
    a.observe(line)
    json.dumps(a.usage())
