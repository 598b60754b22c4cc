"""A tiny agent for tests that need exact edits: it follows a JSON plan.

Usage: python scripted_agent.py PLAN.json. The plan holds "write" ({path: content}), "delete"
([paths]), "resolve" (true: finish a merge left with conflict markers by keeping both sides),
"force" ([paths] to add although git ignores them) and "results" (the results.json object).
Follows the swarmtui protocol like any agent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

GIT = ["git", "-c", "user.name=scripted", "-c", "user.email=scripted@swarmtui.invalid"]


def progress(text: str) -> None:
    with open(os.environ["SWARM_PROGRESS_FILE"], "a") as f:
        f.write(f"{datetime.now(UTC).isoformat()} - {text}\n")


def keep_both_sides(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("<<<<<<< ", "=======", ">>>>>>> ")):
            continue
        out.append(line)
    return "".join(out)


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    progress("starting")
    if plan.get("resolve"):
        # The merge it is handed is committed with the markers: find them.
        conflicted = subprocess.run(["git", "grep", "-l", "-E", "^<{7} "],
                                    capture_output=True, text=True).stdout.split()
        for path in conflicted:
            Path(path).write_text(keep_both_sides(Path(path).read_text()))
        progress(f"resolved {len(conflicted)} files")
    for path, content in plan.get("write", {}).items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
    for path in plan.get("delete", []):
        Path(path).unlink()
    subprocess.run(["git", "add", "-A"], check=True)
    if plan.get("force"):  # paths git ignores, added anyway (as an agent may)
        subprocess.run(["git", "add", "-f", "--", *plan["force"]], check=True)
    if subprocess.run(["git", "diff", "--cached", "--quiet"]).returncode != 0:
        subprocess.run([*GIT, "commit", "-q", "--no-edit", "-m",
                        plan.get("message", "scripted work")], check=True)
    progress("committed [outputs: 1]")
    results = {"status": "done", "summary": "scripted", "files_modified": [],
               "do_not_revert": False, **plan.get("results", {})}
    tmp = Path(os.environ["SWARM_RESULTS_FILE"] + ".tmp")
    tmp.write_text(json.dumps(results))
    os.replace(tmp, os.environ["SWARM_RESULTS_FILE"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
