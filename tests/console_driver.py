"""A tiny program around the pane console, for tests/test_console.py: it shows a recorded
Claude Code transcript through ``Transcript`` and ``Console`` in a real terminal, notes what
reaches its callbacks in a file, and obeys lines typed into it:

    /close   close the console, note the terminal's modes (``stty -a``), exit 0
    /boom    raise (an uncaught exception, console still open)
    /exit    sys.exit(3) without closing (the console restores itself at exit)
    /flood   show 200 lines at once
    /raw     plain output in pieces (a line redrawn with CR, an escape sequence cut in two,
             a partial line), then a transcript line
    anything else is shown as the operator's message

Usage: console_driver.py NOTES_FILE TRANSCRIPT.jsonl
Not a test module.
"""

from __future__ import annotations

import queue
import subprocess
import sys
from pathlib import Path

from swarmtui.engine.wrapper.console import Console
from swarmtui.engine.wrapper.transcript import Shown, ShownKind, Transcript

# A line the real Claude Code CLI (2.1.332) printed in its live mode (stream-json input and
# --permission-prompt-tool stdio) when Bash asked for permission.
CONTROL_REQUEST = (
    '{"type":"control_request","request_id":"...","request":{"subtype":"can_use_tool",'
    '"tool_name":"Bash","display_name":"Bash","input":{"command":"touch x","description":'
    '"make"},"description":"make","permission_suggestions":[{"type":"addRules","rules":'
    '[{"toolName":"Bash","ruleContent":"touch x"}],"behavior":"allow","destination":'
    '"localSettings"}],"tool_use_id":"toolu_..."}}')
ASKING = "Bash wants to run: y allow · n deny · a always"
IDLE = "type a message and press enter · F12 back to the fleet"


def main(notes: Path, transcript: Path) -> int:
    commands: queue.Queue[str] = queue.Queue()
    asking = [True]

    def note(text: str) -> None:
        with notes.open("a", encoding="utf-8") as f:
            f.write(text + "\n")

    def on_submit(text: str) -> None:
        note("submit:" + text)
        commands.put(text)

    def on_key(key: str) -> bool:
        if not asking[0] or key not in "yna":
            return False
        asking[0] = False
        note("key:" + key)
        commands.put("/answered")
        return True

    console = Console(1, 0, on_submit=on_submit, on_key=on_key)
    console.start()
    t = Transcript()
    for line in transcript.read_text(encoding="utf-8").splitlines():
        console.show(t.feed_line(line))
    console.show(t.feed_line(CONTROL_REQUEST))
    console.set_hint(ASKING)
    note("ready")
    while True:
        cmd = commands.get()
        if cmd == "/answered":
            console.show(t.answered("Bash", "allow", "operator"))
            console.set_hint(IDLE)
        elif cmd == "/close":
            console.close()
            modes = subprocess.run(["stty", "-a"], capture_output=True, text=True).stdout
            note("closed stty:" + " ".join(modes.split()))
            return 0
        elif cmd == "/boom":
            raise RuntimeError("the driver fails on purpose")
        elif cmd == "/exit":
            sys.exit(3)
        elif cmd == "/raw":
            for piece in (b"progress 50%", b"\rprogress 100%\n", b"\x1b]0;pwn", b"ed\x07ti",
                          b"tle \xe6\x97", b"\xa5\n", b"partial"):
                console.raw(piece)
            console.show([Shown(ShownKind.INFO, "after the raw output")])
        elif cmd == "/flood":
            console.show([Shown(ShownKind.INFO, f"flood line {i}") for i in range(200)])
        else:
            console.show(t.operator(cmd))
        note("done:" + cmd)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
