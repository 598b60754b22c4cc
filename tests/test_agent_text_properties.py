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
from swarmtui.agentfiles import (
    RESULTS_MAX_CHARS,
    AgentFileError,
    parse_progress_line,
    parse_results,
)
from swarmtui.boundedjson import (
    MAX_DEPTH,
    STREAM_MAX_DEPTH,
    SUMMARY_KEY_CHARS,
    SUMMARY_KEYS,
    SUMMARY_STR_CHARS,
    JsonRefused,
    loads,
    nesting_depth,
)
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.files import Refused
from swarmtui.engine.runtime.ingest import EXIT_CAP, SIGNAL_LINE_CAP, AttemptFiles, signal_object
from swarmtui.hook import signal_of
from swarmtui.model import payloads as p
from swarmtui.model.kinds import Refusal
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


# -- deep and huge: every parser of agent-written JSON is bounded before it parses ------------

NEST = st.sampled_from(["[", "{\"k\": "])


def _nested(depth: int, opener: str, inner: str = "1") -> str:
    closer = "]" if opener == "[" else "}"
    return opener * depth + inner + closer * depth


DEEP = st.builds(_nested, st.integers(MAX_DEPTH + 1, 120_000), NEST,
                 st.sampled_from(["1", '"x"', "[]", "{}", "", '"\\\\"', '"[[["']))


def _depth(v: Any) -> int:
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    return 0


@given(JSON)
def test_nesting_depth_is_the_parsers(value: Any) -> None:
    """On valid JSON the pre-scan measures exactly the depth json.loads recurses to, strings
    with brackets, quotes and backslashes in them included."""
    assert nesting_depth(json.dumps(value)) == _depth(value)


@given(st.text(max_size=300))
def test_nesting_depth_bounds_any_text(text: str) -> None:
    """On any text, shallow by the pre-scan means json.loads cannot recurse (it parses or
    raises ValueError, never RecursionError)."""
    d = nesting_depth(text)
    assert d >= 0
    refused = ""
    try:
        loads(text, max_chars=1000, max_depth=MAX_DEPTH)
    except JsonRefused as e:
        refused = e.refusal
    except ValueError:
        pass
    assert refused == ("too_deep" if d > MAX_DEPTH else "")


@settings(max_examples=40, deadline=None)
@given(DEEP)
def test_results_deep_is_refused_with_its_limit(deep: str) -> None:
    for text in (deep, '{"status": "done", "x": ' + deep + "}"):
        with pytest.raises(AgentFileError) as e:
            parse_results(text, "results.json")
        if len(text) <= RESULTS_MAX_CHARS:
            assert e.value.refusal == Refusal.TOO_DEEP and e.value.limit == MAX_DEPTH
            assert f"nested deeper than {MAX_DEPTH}" in str(e.value)


@settings(max_examples=20, deadline=None)
@given(st.integers(RESULTS_MAX_CHARS + 1, RESULTS_MAX_CHARS * 3))
def test_results_huge_is_refused_with_its_cap(n: int) -> None:
    with pytest.raises(AgentFileError) as e:
        parse_results('{"status": "done", "summary": "' + "x" * n + '"}', "results.json")
    assert e.value.refusal == Refusal.TOO_LARGE and e.value.limit == RESULTS_MAX_CHARS


@given(st.dictionaries(st.text(max_size=200), JSON, max_size=40))
def test_results_extra_is_a_bounded_flat_summary(extra: dict[str, Any]) -> None:
    """Unknown keys are never stored raw: at most SUMMARY_KEYS (+1 counting the rest), short
    keys, scalar values only."""
    res = parse_results(json.dumps({**extra, "status": "done"}), "results.json")
    assert len(res.extra) <= SUMMARY_KEYS + 1
    for k, v in res.extra.items():
        assert len(k) <= SUMMARY_KEY_CHARS
        assert v is None or isinstance(v, (str, int, float, bool))
        assert not isinstance(v, str) or len(v) <= SUMMARY_STR_CHARS
    json.dumps(res.to_dict(), allow_nan=False)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30,
          deadline=None)
@given(DEEP)
def test_exit_record_deep_is_refused(tmp_path: Path, deep: str) -> None:
    swarm = tmp_path / ".swarm"
    folder = swarm / P.AGENTS_DIR / "t-1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / P.EXIT_FILE).write_text('{"how": "exited", "x": ' + deep + "}")
    big = len(deep) + 30 > EXIT_CAP
    with pytest.raises(Refused) as e:
        AttemptFiles(swarm, "t-1").exit_record()
    assert e.value.refusal == (Refusal.TOO_LARGE if big else Refusal.TOO_DEEP)


@settings(max_examples=40, deadline=None)
@given(DEEP, st.sampled_from(["hook", "session", "api_retry"]))
def test_signal_line_deep_is_dropped(deep: str, kind: str) -> None:
    raw = ('{"kind": "' + kind + '", "event": ' + deep + "}").encode()
    assert signal_object(raw) is None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10,
          deadline=None)
@given(st.integers(0, 3) | st.integers(SIGNAL_LINE_CAP // 4, SIGNAL_LINE_CAP * 6))
def test_signals_file_runaway_line_does_not_wedge(tmp_path: Path, n: int) -> None:
    """A line over the cap (with or without its newline yet) is skipped; the next line is read."""
    swarm = tmp_path / ".swarm"
    folder = swarm / P.AGENTS_DIR / "t-1"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / P.SIGNALS_FILE
    path.write_bytes(b'{"kind": "hook", "event": "' + b"x" * n)
    f = AttemptFiles(swarm, "t-1")
    got = [obj for _ in range(4) for obj, _off in f.new_signals()]
    with open(path, "ab") as out:
        out.write(b'"}\n{"kind": "hook", "event": "next"}\n')
    got += [obj for _ in range(4) for obj, _off in f.new_signals()]
    assert got[-1] == {"kind": "hook", "event": "next"}
    assert len(got) == (2 if n + 30 <= SIGNAL_LINE_CAP else 1)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15,
          deadline=None)
@given(deep=DEEP)
def test_hook_deep_payload_still_writes_its_line(tmp_path: Path, deep: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from swarmtui.hook import main

    folder = tmp_path / "agent"
    folder.mkdir(exist_ok=True)
    (folder / P.SIGNALS_FILE).unlink(missing_ok=True)
    monkeypatch.setenv("SWARM_AGENT_DIR", str(folder))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(deep.encode())))
    assert main(["hook", "Stop"]) == 0
    line = (folder / P.SIGNALS_FILE).read_text()
    assert json.loads(line)["event"] == "Stop"


DEEPER = st.builds(_nested, st.integers(STREAM_MAX_DEPTH + 1, 120_000), NEST)


@settings(max_examples=30, deadline=None)
@given(DEEPER)
def test_wrapper_gives_the_adapter_no_deep_line(deep: str) -> None:
    """The wrapper checks each stream-json line before the claude adapter parses it."""
    from swarmtui.engine.wrapper.main import Wrapper

    seen: list[str] = []

    class Spy:
        def observe(self, line: str) -> list[dict[str, Any]]:
            seen.append(line)
            return []

    w = Wrapper.__new__(Wrapper)
    w.adapter = Spy()  # type: ignore[assignment]
    w.live = None  # not a live session
    w._signals = lambda signals: None
    w._observe(('{"type": "assistant", "message": ' + deep + "}").encode())
    w._observe(b'{"type": "system"}')
    assert seen == ['{"type": "system"}']
