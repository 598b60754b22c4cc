"""``python bench/fleet_baseline.py SOCKET SESSION WORKTREES_DIR OUT [PERIOD]``: what peer tools
do to watch a fleet, for comparison with swarmtui's supervisor on the same fleet.

Every ``PERIOD`` seconds (default 0.5) it runs, for every pane of the session,
``tmux capture-pane -p`` and hashes the text (has the agent's screen changed?), and for every
worktree ``git diff --stat`` (has it changed files?). One pass runs the commands one after
another, as a simple poller would; when a pass takes longer than the period the next starts at
once. On SIGTERM it writes ``{"passes", "commands", "pass_seconds"}`` to ``OUT`` and exits.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType


def main() -> int:
    socket, session, worktrees, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    period = float(sys.argv[5]) if len(sys.argv) > 5 else 0.5
    stopping = threading.Event()

    def on_term(_s: int, _f: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_term)
    tmux = ["tmux", "-S", socket]
    passes = commands = 0
    durations: list[float] = []
    seen: dict[str, str] = {}
    while not stopping.is_set():
        t0 = time.monotonic()
        panes = subprocess.run([*tmux, "list-panes", "-s", "-t", f"={session}", "-F",
                                "#{pane_id}"], capture_output=True, text=True).stdout.split()
        commands += 1
        for pane in panes:
            if stopping.is_set():
                break
            text = subprocess.run([*tmux, "capture-pane", "-p", "-t", pane],
                                  capture_output=True).stdout
            seen[pane] = hashlib.sha256(text).hexdigest()
            commands += 1
        for wt in sorted(worktrees.iterdir()) if worktrees.is_dir() else []:
            if stopping.is_set():
                break
            subprocess.run(["git", "-C", str(wt), "diff", "--stat"], capture_output=True)
            commands += 1
        passes += 1
        dt = time.monotonic() - t0
        durations.append(dt)
        if not stopping.is_set() and dt < period:
            time.sleep(period - dt)
    Path(out).write_text(json.dumps({"passes": passes, "commands": commands,
                                     "pass_seconds": durations}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
