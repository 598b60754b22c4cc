"""An interactive attempt in the wrapper (``mode = "interactive"``): the CLI's own screen in
the window, its state from its hooks and its transcript file.

* **Start.** The first-run screens are answered in the CLI's config (``firstrun.py``), the
  task goes in as the screen's first prompt, and the CLI runs on a terminal of its own that
  the pane shows (``ptyrun.py``); the operator types into it directly.
* **Follow.** Its transcript (``sessionfile.py``) goes through the same adapter as the
  headless stream: tokens and cost of each answer, the context fill, API errors and usage
  limits become signals; the conversation's lines go to ``output.log`` in the stream's format,
  so a handoff's digest and last words read it as they read a headless run. Its hooks write
  their own signals (``swarmtui.hook``): when a turn ends it waits for the operator, which the
  supervisor shows as "waiting for you" and never counts as silence.
* **Steer.** ``swarmtui send`` types the message into its screen (a user turn of the same
  conversation) and ``interrupt`` presses Esc; a permission request is answered on its screen.
* **End.** The session is over when, at the end of a turn, the agent has written a complete
  ``results.json`` or a usage limit stopped it: the wrapper then types ``/exit`` (and ends it
  after ``EXIT_GRACE`` if it is still there). The operator may end it any time (``/exit``
  on its screen): a clean exit without results is theirs, and the supervisor fails it as
  killed, waiting for them (``attempts/outcomes.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui.agentfiles import AgentFileError, parse_results
from swarmtui.engine.adapters.base import Adapter, Signal
from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.adapters.claude_interactive import prompt_argument
from swarmtui.engine.wrapper import firstrun
from swarmtui.engine.wrapper.launch import CappedLog, LaunchSpec
from swarmtui.engine.wrapper.ptyrun import PtyAgent
from swarmtui.engine.wrapper.sessionfile import (
    CONVERSATION,
    SessionFile,
    as_stream,
    turn_ended,
)
from swarmtui.engine.wrapper.steerpipe import SteerReader, steer_path
from swarmtui.protocol import RESULTS_FILE

LOOK_EVERY = 0.25  # seconds between looks at the transcript
EXIT_GRACE = 10.0  # after typing /exit, how long before the session is ended instead
TYPE_PAUSE = 0.15  # between a message's text and its Enter: a single write reads as a paste
# After an Esc, nothing is typed for this long: a key that follows a lone Esc too soon is read
# by the screen as one Alt chord (Esc then "o" became Alt-o: no interrupt, the "o" lost).
ESC_SETTLE = 1.0
RESULTS_MAX = 1024 * 1024


class Interactive:
    def __init__(self, agent_dir: Path, spec: LaunchSpec, adapter: Adapter,
                 record: Callable[[list[Signal]], None], redact: Callable[[str], str],
                 token: str) -> None:
        cfg = spec.extra.get("interactive")
        cfg = cfg if isinstance(cfg, dict) else {}
        self.agent_dir = agent_dir
        self.spec = spec
        self.adapter = adapter
        self.record = record
        self.redact = redact
        self.session_id = str(cfg.get("session_id") or "")
        self.mode = str(cfg.get("mode") or "")
        self.term = PtyAgent()
        self.file = SessionFile(spec.env, self.session_id)
        self.pipe = SteerReader(steer_path(agent_dir), token, self._command,
                                self._refused) if token else None
        self._log: CappedLog | None = None
        self._done = threading.Event()
        self._exit_typed: float | None = None
        self._end: Callable[[str], None] = lambda how: None
        self._follower: threading.Thread | None = None
        self._esc_at = 0.0

    # -- before the agent starts --------------------------------------------------------------

    def prepare(self) -> str | None:
        """The first-run answers (before a sandbox copies the config); why not, or None."""
        cfg = self.spec.extra.get("interactive")
        if isinstance(cfg, dict) and cfg.get("resumed"):
            self.file.skip_written()
        return firstrun.prepare(self.spec.env, self.spec.argv, self.spec.cwd, self.mode)

    def argv(self, prompt: str) -> list[str]:
        return [*self.spec.argv, prompt_argument(prompt, self.spec.prompt_file)]

    # -- while it runs ------------------------------------------------------------------------

    def start(self, log: CappedLog, end: Callable[[str], None]) -> None:
        self._log = log
        self._end = end
        self.record([{"kind": "session", "session_id": self.session_id,
                      "permission_mode": self.mode}])
        if self.pipe is not None and not self.pipe.start():
            self._refused("the steering pipe could not be made: `send` cannot reach it")
        self._follower = threading.Thread(target=self._follow, name="transcript", daemon=True)
        self._follower.start()

    def relay(self) -> None:
        self.term.relay()

    def _follow(self) -> None:
        while not self._done.wait(LOOK_EVERY):
            self.look()
            if self._exit_typed is not None and time.monotonic() - self._exit_typed > (
                    EXIT_GRACE):
                self._exit_typed = None
                self._end("terminated")

    def look(self) -> None:
        """Read what the transcript gained: signals, the log, and whether the session is
        done."""
        ended = False
        for text, obj in self.file.new_lines():
            self.record(self.adapter.observe(as_stream(text, obj)))
            if obj.get("type") in CONVERSATION and self._log is not None:
                self._log.write((self.redact(text) + "\n").encode())
            ended = ended or turn_ended(obj)
        if ended and self._exit_typed is None and self._finished():
            self._exit_typed = time.monotonic()
            self.term.type(b"\x05\x15/exit")  # Ctrl-E, Ctrl-U: a half-typed line goes
            time.sleep(TYPE_PAUSE)
            self.term.type(b"\r")

    def _finished(self) -> bool:
        """Its work is over: a complete results.json, or a usage limit that stopped it."""
        if isinstance(self.adapter, ClaudeAdapter) and self.adapter.limit_until is not None:
            return True  # it waits for the reset on its own screen: the supervisor fails over
        path = self.agent_dir / RESULTS_FILE
        try:
            raw = path.read_bytes()[:RESULTS_MAX + 1]
        except OSError:
            return False
        if len(raw) > RESULTS_MAX or path.is_symlink():
            return False
        try:
            parse_results(raw.decode("utf-8", "replace"))
        except AgentFileError:
            return False
        return True

    def _command(self, cmd: dict[str, Any]) -> None:
        """The supervisor's command (token checked): a message typed in, or Esc."""
        op = cmd.get("op")
        ident = str(cmd.get("id") or "")[:64]
        by = str(cmd.get("by") or "operator")[:40]
        if op == "say" and isinstance(cmd.get("text"), str):
            text = cmd["text"][:20000]
            time.sleep(max(0.0, self._esc_at + ESC_SETTLE - time.monotonic()))
            body = text.encode()
            if "\n" in text:  # one message, not a line each: as a paste
                body = b"\x1b[200~" + body + b"\x1b[201~"
            ok = self.term.type(body)
            time.sleep(TYPE_PAUSE)
            ok = ok and self.term.type(b"\r")
            self.record([{"kind": "said", "id": ident, "text": text[:2000], "by": by,
                          "outcome": "delivered" if ok else "undelivered"}])
        elif op == "interrupt":
            self._esc_at = time.monotonic()
            if self.term.type(b"\x1b"):
                self.record([{"kind": "interrupted", "id": ident}])
        else:
            self._refused("an interactive session answers its requests on its own screen")

    def _refused(self, why: str) -> None:
        self.record([{"kind": "steer_refused", "why": why}])

    # -- after it exits -----------------------------------------------------------------------

    def end(self) -> None:
        """The agent has exited: its last transcript lines, then nothing more."""
        self._done.set()
        if self._follower is not None:
            self._follower.join(timeout=2.0)
        self.look()
        if self.pipe is not None:
            self.pipe.close()
        self.term.stop()
