"""The wrapper's side of a live session, in process with real pipes: the steering pipe takes only
lines that carry the attempt's token, a request is answered once (a second answer finds it
gone), nobody answering is a deny with the reason after the timeout, and the CLI's input is
closed only once its last turn is over for good (every message echoed before a result, no
request waiting, no interrupt waiting for a message). The CLI's lines here are the shapes the
real Claude Code printed in tests/test_live_e2e.py's runs."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from swarmtui.engine.wrapper.live import LiveSession
from swarmtui.engine.wrapper.steerpipe import SteerReader, encode, send, steer_path, token
from tests.waiting import wait_until

REQUEST = {"type": "control_request", "request_id": "7d9c154a", "request": {
    "subtype": "can_use_tool", "tool_name": "Bash", "display_name": "Bash",
    "input": {"command": "git push", "description": "push"}, "tool_use_id": "toolu_1",
    "permission_suggestions": [{"type": "addRules", "rules": [
        {"toolName": "Bash", "ruleContent": "git push"}], "behavior": "allow",
        "destination": "localSettings"}]}}
RESULT = {"type": "result", "subtype": "success", "is_error": False}
REPLAY = {"type": "user", "message": {"role": "user", "content": "x"}, "isReplay": True}


class Pipe:
    """The CLI's standard input as the wrapper holds it: a real pipe, read back here."""

    def __init__(self) -> None:
        r, w = os.pipe()
        self.reader = os.fdopen(r, "rb")
        self.stdin = os.fdopen(w, "wb")
        self.lines: list[dict[str, Any]] = []
        self.eof = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.reader:
            self.lines.append(json.loads(raw))
        self.eof.set()


def session(timeout: float = 60.0) -> tuple[LiveSession, Pipe, list[dict[str, Any]]]:
    pipe = Pipe()
    signals: list[dict[str, Any]] = []
    s = LiveSession(pipe.stdin, signals.extend, ask_timeout=timeout,
                    timeout_reason="nobody answered")
    s.start("do the task")
    return s, pipe, signals


def test_a_request_is_answered_once_with_the_session_rules() -> None:
    s, pipe, signals = session()
    s.on_line(REQUEST)
    asked = next(x for x in signals if x["kind"] == "permission_request")
    assert (asked["request"], asked["rule"], asked["tool"]) == (1, "Bash(git push)", "Bash")
    assert s.answer(1, True, scope="task").startswith("allowed Bash(git push)")
    assert s.answer(1, False).startswith("no such request")  # never answered twice
    wait_until(lambda: len(pipe.lines) == 2)
    reply = pipe.lines[1]["response"]
    assert reply["request_id"] == "7d9c154a"
    assert reply["response"]["behavior"] == "allow"
    # Kept for this session only: the CLI's default would write into the worktree.
    assert reply["response"]["updatedPermissions"][0]["destination"] == "session"
    assert [x["decision"] for x in signals if x["kind"] == "permission_answer"] == ["allow"]
    s.on_line(REQUEST)  # the CLI repeating a request already answered: not asked again
    assert sum(x["kind"] == "permission_request" for x in signals) == 1


def test_an_unanswered_request_is_denied_with_the_reason() -> None:
    s, pipe, signals = session(timeout=0.3)
    s.on_line(REQUEST)
    answer = wait_until(lambda: next((x for x in signals if x["kind"] == "permission_answer"),
                                     None))
    assert (answer["decision"], answer["by"]) == ("deny", "timeout")
    wait_until(lambda: len(pipe.lines) == 2)
    assert pipe.lines[1]["response"]["response"] == {"behavior": "deny",
                                                     "message": "nobody answered"}
    assert "toolu_1" in s.denied_uses  # its later denial line is not "needs permission"


def test_input_closes_only_when_the_last_turn_is_over() -> None:
    s, pipe, _ = session()
    s.on_line(REPLAY)  # the task, taken
    s.say("one more thing")  # written during the last API call: not taken yet
    s.on_line(RESULT)
    assert not pipe.eof.wait(0.3)  # a turn is still to come
    s.on_line(REPLAY)  # taken after the result: a new turn runs
    assert not pipe.eof.wait(0.3)
    s.interrupt()  # the operator interrupts that turn: the session waits for a message
    s.on_line(RESULT)
    assert not pipe.eof.wait(0.3)
    s.say("now finish")
    s.on_line(REPLAY)
    s.on_line(REQUEST)
    s.on_line(RESULT)  # a request still waits: not over
    assert not pipe.eof.wait(0.3)
    s.answer(None, False)
    assert pipe.eof.wait(5)  # every message taken, nothing waits: the CLI may exit


def test_the_steering_pipe_takes_only_the_attempts_own_token(tmp_path: Path) -> None:
    agent_dir = tmp_path / ".swarm" / "agents" / "t-1"
    agent_dir.mkdir(parents=True)
    key = b"k" * 64
    got: list[dict[str, Any]] = []
    refused: list[str] = []
    reader = SteerReader(steer_path(agent_dir), token(key, "t-1"), got.append, refused.append)
    assert reader.start()
    try:
        path = steer_path(agent_dir)
        assert path == tmp_path / ".swarm" / "steer" / "t-1"
        # Another attempt's token (what an agent could compute for itself: nothing) is refused.
        assert send(path, encode({"op": "answer", "decision": "allow"}, token(key, "t-2")))
        assert send(path, b'{"op": "answer", "decision": "allow"}\n')
        assert send(path, b"not json\n")
        assert send(path, encode({"op": "say", "text": "hello"}, token(key, "t-1")))
        wait_until(lambda: got and len(refused) == 3)
        assert got == [{"op": "say", "text": "hello"}]
        assert all("token" in r or "JSON" in r for r in refused), refused
    finally:
        reader.close()
    assert not path.exists()
    assert not send(path, encode({"op": "say", "text": "late"}, token(key, "t-1")))  # gone


def test_nobody_listening_is_said_at_once(tmp_path: Path) -> None:
    path = tmp_path / "steer" / "t-1"
    path.parent.mkdir()
    os.mkfifo(path)
    assert send(path, b"{}\n") is False  # no reader: ENXIO, not a hang
    path.unlink()
    path.write_text("")  # whatever an agent left there instead of a pipe is not written to
    assert send(path, b"{}\n") is False
    assert path.read_text() == ""


def test_a_hook_payload_left_by_a_dead_reader_is_finished_once(tmp_path: Path) -> None:
    """What the wrapper does with ``.hook.<Event>.XXXXXX`` files whose detached reader died with
    the agent (a sandbox ends every process in it): one signal each, the file gone; a file of
    another name says nothing; a link is never followed; one already gone says nothing."""
    from swarmtui.hook import finish_hook

    stop = tmp_path / ".hook.StopFailure.a1B2c3"
    stop.write_text(json.dumps({"hook_event_name": "StopFailure", "error": "rate_limit"}))
    got = finish_hook(stop)
    assert [s["event"] for s in got] == ["StopFailure"] and got[0]["error"] == "rate_limit"
    assert not stop.exists()
    assert finish_hook(stop) == []  # its reader wrote the line after all: nothing twice
    odd = tmp_path / ".hook.XXXXXX"  # written by an older swarmtui: no event in the name
    odd.write_text("{}")
    assert finish_hook(odd) == [] and not odd.exists()
    target = tmp_path / "secret"
    target.write_text('{"message": "not yours"}')
    link = tmp_path / ".hook.Notification.zz9"
    link.symlink_to(target)
    assert finish_hook(link) == []  # never followed
    assert target.read_text() == '{"message": "not yours"}'
