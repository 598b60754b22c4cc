"""A simulated Claude Code session for the demo (``python -m swarmtui.fake_live``): enough of
``claude -p --input-format stream-json --permission-prompt-tool stdio`` that the demo shows a
live agent asking for a permission, taking the answer and messages in its session, with no API
key. Its lines take the shapes Claude Code 2.1.332 prints (the real ones are recorded under
``tests/data/claude``); it stands in for the CLI in the demo and is never a reference for a
parser.

It writes a progress line, a file and a commit (tools the demo's policy allows), then asks to run
``make publish-docs`` (a tool the policy does not cover) and waits for the answer: allowed, it
"publishes" (writes a file); denied, it carries on without it and says so. A message written
into its session is echoed and answered in a turn of its own; an interrupt ends the turn. It
exits when its input closes.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from swarmtui.protocol import ENV_PROGRESS_FILE, ENV_RESULTS_FILE, ENV_TASK_ID

MODEL = "demo-model"
ASKED = {"command": "make publish-docs", "description": "Publish the docs preview"}


class Session:
    def __init__(self, pace: float) -> None:
        self.pace = pace
        self.sid = str(uuid.uuid4())
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.turns = 0
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in sys.stdin:
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                self.inbox.put(obj)
        self.inbox.put(None)

    def out(self, obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps({**obj, "session_id": self.sid}) + "\n")
        sys.stdout.flush()

    def replay(self, text: str) -> None:
        self.out({"type": "user", "message": {"role": "user", "content": text},
                  "parent_tool_use_id": None, "uuid": str(uuid.uuid4()), "isReplay": True})

    def assistant(self, block: dict[str, Any]) -> None:
        self.out({"type": "assistant", "message": {
            "id": f"msg_demo{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant",
            "model": MODEL, "content": [block], "stop_reason": None,
            "usage": {"input_tokens": 120, "output_tokens": 24, "cache_read_input_tokens": 0,
                      "cache_creation_input_tokens": 0}}, "parent_tool_use_id": None})

    def tool(self, command: str, description: str, run: bool = True) -> tuple[str, str]:
        """A Bash tool call the policy allows: shown, run for real, its result shown."""
        tid = f"toolu_demo{uuid.uuid4().hex[:16]}"
        self.assistant({"type": "tool_use", "id": tid, "name": "Bash",
                        "input": {"command": command, "description": description}})
        output = ""
        if run:
            done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True,
                                  timeout=60)
            output = (done.stdout + done.stderr).strip() or "(Bash completed with no output)"
            self.result_block(tid, output, done.returncode != 0)
        return tid, output

    def result_block(self, tid: str, content: str, error: bool) -> None:
        self.out({"type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": tid, "type": "tool_result", "content": content,
             "is_error": error}]}, "parent_tool_use_id": None})

    def end_turn(self, text: str, *, subtype: str = "success",
                 denials: list[dict[str, Any]] | None = None) -> None:
        self.turns += 1
        self.assistant({"type": "text", "text": text})
        self.out({"type": "result", "subtype": subtype, "is_error": subtype != "success",
                  "num_turns": self.turns, "result": text, "total_cost_usd": 0,
                  "usage": {"input_tokens": 120, "output_tokens": 24},
                  "permission_denials": denials or []})

    def wait(self, seconds: float) -> dict[str, Any] | str | None:
        """The next line on its input within ``seconds``; "" when none came."""
        try:
            return self.inbox.get(timeout=seconds)
        except queue.Empty:
            return ""


def _progress(text: str) -> None:
    path = os.environ.get(ENV_PROGRESS_FILE)
    if path:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{stamp} - {text}\n")


def _work(s: Session, task: str) -> None:
    s.tool(f"echo \"$(date -Iseconds) - reading the task\" >> \"${ENV_PROGRESS_FILE}\"",
           "Record progress")
    time.sleep(s.pace)
    Path("fake").mkdir(exist_ok=True)
    Path(f"fake/{task}.txt").write_text(f"docs preview for {task}\n")
    s.tool(f"git add fake/{task}.txt && git commit -q -m 'Add the docs preview'",
           "Commit the docs preview")
    _progress("committed the docs preview; publishing it next")
    time.sleep(s.pace)


def _ask(s: Session) -> tuple[bool, str]:
    """The request for a tool the policy does not cover; the answer (and why, when denied)."""
    tid, _ = s.tool(ASKED["command"], ASKED["description"], run=False)
    rid = str(uuid.uuid4())
    s.out({"type": "control_request", "request_id": rid, "request": {
        "subtype": "can_use_tool", "tool_name": "Bash", "display_name": "Bash", "input": ASKED,
        "description": ASKED["description"], "tool_use_id": tid,
        "permission_suggestions": [{"type": "addRules", "rules": [
            {"toolName": "Bash", "ruleContent": ASKED["command"]}], "behavior": "allow",
            "destination": "localSettings"}]}})
    while True:
        line = s.wait(3600)
        if line is None or line == "":
            return False, "the session ended"
        assert isinstance(line, dict)
        if line.get("type") == "user":
            s.said.append(str(line.get("message", {}).get("content", "")))
            s.replay(s.said[-1])
            continue
        resp = line.get("response") if line.get("type") == "control_response" else None
        if isinstance(resp, dict) and resp.get("request_id") == rid:
            answer = resp.get("response") or {}
            if answer.get("behavior") == "allow":
                Path("fake").mkdir(exist_ok=True)
                Path("fake/published.txt").write_text("published\n")
                s.result_block(tid, "published the docs preview", False)
                return True, ""
            why = str(answer.get("message") or "denied")
            s.result_block(tid, why, True)
            return False, why


def run(pace: float) -> int:
    task = os.environ.get(ENV_TASK_ID, "demo")
    results = os.environ.get(ENV_RESULTS_FILE)
    s = Session(pace)
    first = s.wait(60)
    if not isinstance(first, dict):
        return 2
    s.replay(str(first.get("message", {}).get("content", "")))
    s.out({"type": "system", "subtype": "init", "cwd": os.getcwd(), "model": MODEL,
           "permissionMode": "acceptEdits", "tools": ["Bash", "Edit", "Read", "Write"]})
    _work(s, task)
    allowed, why = _ask(s)
    summary = ("committed the docs preview and published it" if allowed else
               f"committed the docs preview; not published ({why})")
    if s.said:
        summary += f"; the operator said: {s.said[-1][:200]}"
    if results:
        Path(results).write_text(json.dumps({"status": "done", "summary": summary,
                                             "files_modified": [f"fake/{task}.txt"]}))
    _progress("done: " + summary)
    s.end_turn(summary.capitalize() + ".", denials=[] if allowed else [
        {"tool_name": "Bash", "tool_use_id": "", "tool_input": ASKED}])
    while (line := s.wait(3600)) not in (None, ""):  # more turns, until its input closes
        assert isinstance(line, dict)
        if line.get("type") == "user":
            text = str(line.get("message", {}).get("content", ""))
            s.replay(text)
            time.sleep(s.pace)
            s.end_turn(f"Noted: {text[:200]}")
        elif line.get("type") == "control_request":
            s.out({"type": "control_response", "response": {
                "subtype": "success", "request_id": line.get("request_id"), "response": {}}})
            s.end_turn("[Request interrupted by user]", subtype="error_during_execution")
    return 0


def main(argv: list[str]) -> int:
    if "--version" in argv:
        print("2.1.332 (swarmtui's simulated Claude Code)")
        return 0
    pace = 1.0
    if "--pace" in argv and argv.index("--pace") + 1 < len(argv):
        pace = float(argv[argv.index("--pace") + 1])
    return run(max(0.0, pace))  # every other flag (the live session's) is taken as given


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
