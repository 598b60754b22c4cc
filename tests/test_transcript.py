"""What an agent's window shows of a Claude Code session, read from transcripts recorded from
the real CLI (tests/data/claude), and what it shows of hostile output: never an escape sequence
or a control character, never an unbounded line, never an exception."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarmtui.engine.wrapper.transcript import (
    BLOCK_LINES,
    PERMISSION_KEYS,
    Shown,
    ShownKind,
    Transcript,
    block,
    one_line,
    terminal_safe,
)
from tests.console_driver import CONTROL_REQUEST

DATA = Path(__file__).parent / "data" / "claude"
RECORDED = sorted(DATA.glob("*.jsonl"))
# What a terminal would act on: C0 but newline, DEL, C1, bidi and zero-width format
# characters, lone surrogates.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069"
                    "\ufeff\ud800-\udfff]")
MAX_SHOWN_CHARS = 6000  # a block's 4000 characters, escaped characters and its marker


def lines_of(name: str) -> list[str]:
    return (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


def shown(name: str, t: Transcript | None = None) -> list[Shown]:
    t = t or Transcript()
    return [s for line in lines_of(name) for s in t.feed_line(line)]


def pairs(name: str) -> list[tuple[str, str]]:
    return [(str(s.kind), s.text) for s in shown(name)]


def assert_safe(items: list[Shown]) -> None:
    for s in items:
        assert isinstance(s.kind, ShownKind)
        assert not UNSAFE.search(s.text), s.text
        assert len(s.text) <= MAX_SHOWN_CHARS
        assert s.text.count("\n") <= BLOCK_LINES + 1


def with_text(name: str, kind: str, text: str) -> str:
    """A recorded line of ``name`` whose first text block now says ``text`` (hostile input
    cannot be recorded from the CLI, so it is put into a line it really printed)."""
    for line in lines_of(name):
        obj = json.loads(line)
        if obj.get("type") == kind and any(b.get("type") == "text"
                                           for b in obj["message"]["content"]):
            for b in obj["message"]["content"]:
                if b.get("type") == "text":
                    b["text"] = text
                    return json.dumps(obj)
    raise AssertionError(f"no {kind} text in {name}")


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_every_recorded_transcript_reads_safely(path: Path) -> None:
    assert_safe(shown(path.stem))


def test_a_successful_session_reads_as_a_person_would_tell_it() -> None:
    got = pairs("success")
    init = json.loads(lines_of("success")[2])
    repo = init["cwd"]
    assert got[0] == ("info", f"session {init['session_id']} · claude-opus-5-5 · {repo} · "
                              "bypassPermissions")
    assert got[1:5] == [
        ("assistant", "Starting: recording progress."),
        ("tool_call", '● Bash: echo "- step 1: started" >> "$SWARM_PROGRESS_FILE"'),
        ("tool_result", "  ⎿ (Bash completed with no output)"),
        ("tool_call", "● Write: hello.txt (1 line)"),  # relative to the session's directory
    ]
    assert got[5] == ("tool_result", f"  ⎿ File created successfully at: {repo}/hello.txt "
                                     "(file state is current in your context — no need to "
                                     "Read it back)")
    assert got[-2:] == [("assistant", "Done: hello.txt committed, results.json written."),
                        ("result", "done · 5 turns · session cost $0.0310")]
    assert [k for k, _ in got].count("tool_call") == 4
    assert [k for k, _ in got].count("tool_result") == 4


def test_hook_lines_and_stream_events_show_nothing() -> None:
    assert Transcript().feed_line(lines_of("success")[0]) == []  # hook_started
    assert Transcript().feed_line(lines_of("success")[1]) == []  # hook_response, a success
    events = [line for line in lines_of("partial_messages") if '"stream_event"' in line]
    assert events
    t = Transcript()
    assert [s for line in events for s in t.feed_line(line)] == []
    texts = [text for kind, text in pairs("partial_messages") if kind == "assistant"]
    assert len(texts) == 1  # the whole message once, not its deltas


def test_a_denial_is_one_permission_line_not_also_an_error_result() -> None:
    got = pairs("permission_denied")
    denials = [text for kind, text in got if kind == "permission"]
    assert denials[0] == "✗ Bash denied: A variable in this command can't be checked before " \
                         "it runs"
    assert len(denials) == 4
    assert not [text for kind, text in got if kind == "tool_result"]
    assert got[-1] == ("result", "done · 5 turns · 4 permission denials · session cost $0.0313")


def test_how_a_session_failed_is_said_on_its_result_line() -> None:
    assert pairs("max_turns")[-1] == (
        "error", "failed (error_max_turns): Reached maximum number of turns (1) · 2 turns · "
                 "session cost $0.0206")
    assert pairs("max_budget")[-1][1].startswith(
        "failed (error_max_budget_usd): Reached maximum budget ($0.01) · 1 turn")


def test_api_errors_show_each_retry_and_the_error() -> None:
    got = pairs("auth_401")
    assert got[1:3] == [("info", "API error (401 authentication_failed), retry 1/2 in 0.5 s"),
                        ("info", "API error (401 authentication_failed), retry 2/2 in 1.1 s")]
    assert got[3] == ("error", "✗ Invalid API key · Fix external API key")
    assert got[4] == ("error", "failed: Invalid API key · Fix external API key · 1 turn · "
                               "session cost $0.0000")


def test_usage_limits_show_only_when_not_plainly_allowed() -> None:
    assert ("error", "usage limit: rejected (five_hour)") in pairs("usage_limit")
    assert ("info", "usage limit: allowed_warning (five_hour)") in pairs("usage_limit_warning")
    assert not [text for _, text in pairs("usage_limit_allowed") if "usage limit" in text]


def test_a_subagents_lines_are_set_under_its_call() -> None:
    got = pairs("subagent")
    assert ("tool_call", "● Agent: Count files") in got
    assert ("info", "subagent started: Count files") in got
    assert ("tool_call", "  │ ● Bash: ls | wc -l") in got
    assert ("tool_result", "  │   ⎿ 1") in got
    assert ("info", "subagent completed: There are 2 files.") in got
    assert not [text for kind, text in got if kind == "operator"]  # its prompt is not ours


def test_the_same_sessions_next_turn_does_not_repeat_its_header() -> None:
    got = pairs("subagent_background")
    assert len([text for _, text in got if text.startswith("session ")]) == 1
    assert [kind for kind, _ in got].count("result") == 2


def test_a_permission_request_names_the_tool_its_input_and_the_keys() -> None:
    got = Transcript().feed_line(CONTROL_REQUEST)
    assert got == [Shown(ShownKind.PERMISSION, f"⚠ Bash: touch x — make\n  {PERMISSION_KEYS}")]
    assert PERMISSION_KEYS == "y allow once · a allow for this session · n deny"


def test_answers_and_operator_messages() -> None:
    t = Transcript()
    assert t.answered("Bash", "allow", "operator") == [
        Shown(ShownKind.PERMISSION, "Bash: allowed once (by operator)")]
    assert t.answered("Bash", "always", "")[0].text == "Bash: allowed always"
    assert t.answered("Write", "deny", "supervisor")[0].text == "Write: denied (by supervisor)"
    assert t.operator("fix the tests\n\x1b]52;c;ZXZpbA==\x07please") == [
        Shown(ShownKind.OPERATOR, "› fix the tests\nplease")]


def test_the_clis_echo_of_an_operator_message_is_not_shown_twice() -> None:
    # The prompt line of a recorded subagent, as the session's own user message.
    line = next(line for line in lines_of("subagent") if '"type":"user"' in line
                and '"type":"text"' in line)
    obj = json.loads(line)
    text = obj["message"]["content"][0]["text"]
    obj["parent_tool_use_id"] = None
    echo = json.dumps(obj)
    as_string = json.dumps({**obj, "message": {**obj["message"], "content": text}})
    t = Transcript()
    assert t.operator(text) == [Shown(ShownKind.OPERATOR, f"› {text}")]
    assert t.feed_line(echo) == []
    assert t.feed_line(as_string) == [Shown(ShownKind.OPERATOR, f"› {text}")]  # not sent here


def test_plain_text_lines_pass_through_as_info() -> None:
    t = Transcript()
    assert t.feed_line("Warning: something   happened") == [
        Shown(ShownKind.INFO, "Warning: something   happened")]
    assert t.feed_line("   ") == []
    assert t.feed_line("[1, 2]") == [Shown(ShownKind.INFO, "[1, 2]")]
    assert t.feed_line("{not json") == [Shown(ShownKind.INFO, "{not json")]


HOSTILE = [
    "\x1b]0;pwned\x07title",  # retitle
    "\x1b]52;c;cm0gLXJmIH4=\x07clipboard",  # OSC 52
    "\x1b[2J\x1b[H\x1b[1;3rclear and a scroll region",
    "\x9b2J eight-bit CSI \x9d0;x\x9c and OSC",
    "\x1bP1;2|dcs\x1b\\ and \x1b_apc\x1b\\",
    "bell\x07 nul\x00 bs\x08 del\x7f cr\rlf",
    "\u202eevil bidi\u202c and zero\u200bwidth",
    "lone surrogate \ud800 here",
    "unterminated \x1b]0;" + "x" * 20000,
    "\x1b]" * 5000,
    "tab\there",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_in_any_place_is_made_safe(text: str) -> None:
    t = Transcript()
    items = [*t.feed_line(text), *t.feed_line(with_text("success", "assistant", text)),
             *t.operator(text), *t.answered(text, text, text)]
    tool = json.loads(lines_of("success")[4])
    tool["message"]["content"][0]["input"]["command"] = text
    items += t.feed_line(json.dumps(tool))
    assert len(items) == 5
    assert_safe(items)
    for s in items:
        assert "\x1b" not in s.text
        assert "pwned" not in s.text or "]0;" not in s.text


def test_safe_text_keeps_what_a_person_reads() -> None:
    assert terminal_safe("a\x1b[31mred\x1b[0m b\tc\r\nd") == "ared b  c\nd"
    assert terminal_safe("50%\r100%", keep_cr=True) == "50%\r100%"
    assert terminal_safe("bell\x07") == "bell\\x07"  # shown escaped, as everywhere in swarmtui


def test_long_text_is_bounded_with_a_marker() -> None:
    got = block("\n".join(f"line {i}" for i in range(1000)))
    assert got.split("\n")[-1] == "… 960 more lines"
    assert got.split("\n")[:2] == ["line 0", "line 1"]
    huge = block("x" * 1_000_000)
    assert len(huge) <= 4001 and huge.endswith("…")
    assert one_line("first\nsecond\nthird") == "first  (+2 lines)"
    assert len(one_line("y" * 100_000)) == 200
    t = Transcript()
    long_answer = with_text("success", "assistant", "\n".join(["word " * 10] * 500))
    (s,) = t.feed_line(long_answer)
    assert s.text.endswith("… 460 more lines") and s.text.count("\n") == 40
    assert_safe([s])


def test_nesting_and_size_that_would_break_a_parser_are_only_text() -> None:
    t = Transcript()
    deep = '{"type":"assistant","message":' + "[" * 100_000 + "]" * 100_000 + "}"
    (s,) = t.feed_line(deep)
    assert s.kind == ShownKind.INFO
    assert_safe([s])
    assert t.feed_line("{" * 200_000) and t.feed_line("\x00" * 10)


JSON: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=25)
KEYS = st.sampled_from(["type", "subtype", "message", "content", "text", "name", "input",
                        "tool_use_id", "is_error", "parent_tool_use_id", "session_id", "cwd",
                        "model", "error", "request", "tool_name", "display_name", "description",
                        "permission_denials", "total_cost_usd", "num_turns", "errors",
                        "result", "rate_limit_info", "status", "attempt", "retry_delay_ms",
                        "command", "file_path", "thinking"])
TYPES = st.sampled_from(["system", "assistant", "user", "result", "stream_event",
                         "control_request", "control_response", "control_cancel_request",
                         "rate_limit_event", "init", "api_retry", "can_use_tool", "text",
                         "tool_use", "tool_result", "thinking", "permission_denied",
                         "task_started", "task_notification", "hook_response"])
SHAPED = st.recursive(
    JSON | TYPES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, SHAPED, max_size=6), TYPES)
def test_any_object_shaped_like_claudes_reads_safely(obj: dict[str, Any], kind: str) -> None:
    obj.setdefault("type", kind)
    t = Transcript()
    items = t.feed_line(json.dumps(obj))
    assert_safe(items)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_read_safely(data: bytes) -> None:
    t = Transcript()
    items = t.feed_line(data.decode("utf-8", "replace"))
    items += t.feed_line(data.decode("latin-1"))
    items += t.feed_line(data.decode("utf-8", "surrogateescape"))
    assert_safe(items)
