"""An agent for the runner conformance suite: ``python conformance_agent.py finish|forever``.

It appends progress lines, commits one file in its worktree, and then either writes
``results.json`` and exits (``finish``) or keeps appending a progress line every 0.1 s until it
is ended (``forever``). Only the protocol's environment tells it where anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

GIT = ["git", "-c", "user.name=conformance", "-c", "user.email=conformance@swarmtui.invalid"]


def progress(text: str) -> None:
    with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
        f.write(f"{datetime.now(UTC).isoformat()} - {text}\n")


def main() -> int:
    mode = sys.argv[1]
    progress("starting")
    aid = os.environ["SWARM_AGENT_ID"]
    Path("work").mkdir(exist_ok=True)
    Path("work", f"{aid}.txt").write_text(f"written by {aid} on {os.uname().nodename}\n")
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", f"work of {aid}"], check=True)
    progress("committed [outputs: 1]")
    if mode == "finish":
        tmp = Path(os.environ["SWARM_RESULTS_FILE"] + ".tmp")
        tmp.write_text(json.dumps({"status": "done", "summary": f"{aid} finished",
                                   "files_modified": [f"work/{aid}.txt"]}))
        os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
        return 0
    n = 0
    while True:
        n += 1
        progress(f"tick {n}")
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
