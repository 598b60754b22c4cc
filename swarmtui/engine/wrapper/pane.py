"""The window of a live agent: its session as a conversation, and an input line.

What the agent prints (already redacted) is read line by line into the transcript (assistant
text, one line per tool call and result, requests, errors) instead of raw JSON; the raw lines
still go to ``output.log``. What happens to the session (an answer, a message, an interrupt,
from the pane, the TUI, the CLI or the timeout) is shown from the same signals the supervisor
records, so the window and the log tell one story. A line typed here is a message into the
session; with a request waiting and nothing typed, ``y`` allows it once, ``a`` for the rest of
this session, ``n`` denies it.
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any

from swarmtui.engine.wrapper.console import Console
from swarmtui.engine.wrapper.live import LiveSession
from swarmtui.engine.wrapper.transcript import Shown, ShownKind, Transcript

IDLE_HINT = "type a message for the agent, enter sends · F12: back to the fleet"
LINE_MAX = 1024 * 1024  # an output line longer than this is not rendered (the log has it)
LINGER_S = 10.0  # a watched window stays this long after the session ends (any key closes it)


def watched() -> bool:
    """Whether someone looks at this window now (its window is the active one of a session
    with a client): closing it under them would send their next keys to another window."""
    pane = os.environ.get("TMUX_PANE")
    if not pane or not os.environ.get("TMUX"):
        return False
    try:
        out = subprocess.run(["tmux", "display-message", "-p", "-t", pane,
                              "#{window_active} #{session_attached}"], capture_output=True,
                             text=True, timeout=2).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return len(out) == 2 and out[0] == "1" and out[1].isdigit() and int(out[1]) > 0


class LivePane:
    def __init__(self) -> None:
        self.transcript = Transcript()
        self.session: LiveSession | None = None
        self._lock = threading.Lock()  # the transcript is read from the pump and the keys
        self._buf = b""
        self._leave = threading.Event()  # set: the session is over and a key closes the window
        self._ending = False
        self.console = Console(1, 0 if os.isatty(0) else None, on_submit=self._submit,
                               on_key=self._key)

    def start(self) -> None:
        """In the main thread (the console takes the window's resize signal there)."""
        self.console.start()
        self.console.set_hint(IDLE_HINT)

    def close(self) -> None:
        if self._buf:
            self.output(b"\n")
        if self.console.tty and watched():
            # Whoever is typing here should not have their next keys land in another window.
            self._ending = True
            self.say(f"The session has ended. This window closes in {LINGER_S:g} s, or now on "
                     "any key.")
            self.console.set_hint("any key closes this window · F12: back to the fleet")
            self._leave.wait(LINGER_S)
        self.console.close()

    # -- what the agent printed, what happened ---------------------------------------------

    def output(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            *lines, self._buf = self._buf.split(b"\n")
            if len(self._buf) > LINE_MAX:
                self._buf = b""
            items = [s for line in lines
                     for s in self.transcript.feed_line(line.decode("utf-8", "replace"))]
        if items:
            self.console.show(items)

    def say(self, text: str) -> None:
        """The wrapper's own words (the orphan timeout, a start failure)."""
        self.console.show([Shown(ShownKind.INFO, text.strip())])

    def signals(self, signals: list[dict[str, Any]]) -> None:
        items: list[Shown] = []
        with self._lock:
            for s in signals:
                kind = s.get("kind")
                if kind == "permission_answer":
                    items += self.transcript.answered(
                        str(s.get("tool") or "request"), str(s.get("decision")),
                        str(s.get("by") or ""))
                elif kind == "said" and s.get("outcome") == "delivered":
                    items += self.transcript.operator(str(s.get("text") or ""))
                elif kind == "interrupted":
                    items.append(Shown(ShownKind.INFO, f"turn interrupted (by {s.get('by')}): "
                                       "the session waits for your message"))
        if items:
            self.console.show(items)
        self.hint()

    def hint(self) -> None:
        s = self.session
        pending = sorted(s.pending.values(), key=lambda p: p.n) if s is not None else []
        if not pending:
            self.console.set_hint(IDLE_HINT)
            return
        p = pending[0]
        with self._lock:
            what = self.transcript.tool_summary(p.tool, p.input)
        more = f" (+{len(pending) - 1} more)" if len(pending) > 1 else ""
        # The keys first: a narrow window cuts the end of the line, never what to press.
        self.console.set_hint(f"y allow · a allow for this session · n deny · F12 back: "
                              f"{what}{more}")

    # -- keys (the console's reader thread) --------------------------------------------------

    def _submit(self, text: str) -> None:
        if self._ending:
            self._leave.set()
            return
        if self.session is not None and text.strip():
            self.session.say(text.strip(), by="pane")

    def _key(self, key: str) -> bool:
        if self._ending:
            self._leave.set()
            return True
        s = self.session
        if s is None or not s.pending or key not in ("y", "a", "n"):
            return False
        s.answer(None, key != "n", scope="task" if key == "a" else "once",
                 message="The operator denied this tool use." if key == "n" else "", by="pane")
        return True
