"""What the detail tabs show, read from files, git and the store (blocking: worker threads only).

Every loader is bounded: it reads the end of a file, not all of it, and caps a diff, so a huge
log or a runaway diff cannot stall the app or fill its memory.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.model import TaskView
from swarmtui.render import format_event

TEXT_CAP = 128 * 1024
DIFF_LINES = 3000
EVENT_LINES = 400


@dataclass(frozen=True)
class Target:
    """The task (and attempt) the detail panel shows."""

    task: str
    attempt: int
    base: str

    @property
    def agent_id(self) -> str:
        return P.agent_id(self.task, self.attempt)


def read_end(path: Path, cap: int = TEXT_CAP) -> str | None:
    """The last ``cap`` bytes of a file (from a line start), or None when it does not exist."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - cap))
            data = f.read()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if size > cap:
        cut = data.find(b"\n")
        data = b"[... earlier lines not shown ...]\n" + (data[cut + 1:] if cut >= 0 else data)
    return data.decode("utf-8", errors="replace")


def _no_attempt(t: TaskView) -> str:
    return f"{t.id} has not started yet ({t.state}{': ' + t.reason if t.reason else ''})."


def load_progress(client: RunClient, t: TaskView, target: Target) -> str:
    if target.attempt <= t.attempt_base:
        return _no_attempt(t)
    text = read_end(client.agent_dir(target.task, target.attempt) / P.PROGRESS_FILE)
    if not text:
        return f"{target.agent_id}: no progress lines yet."
    return text.rstrip("\n")


def _git(cwd: Path, *args: str) -> tuple[int, str]:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, str(e)
    return proc.returncode, proc.stdout if proc.returncode == 0 else proc.stderr


def load_diff(client: RunClient, t: TaskView, target: Target) -> str:
    """``git diff --stat`` then the full diff of the attempt's worktree against the run base."""
    if target.attempt <= t.attempt_base:
        return _no_attempt(t)
    wt = client.worktree(target.task, target.attempt)
    if not wt.is_dir():
        return f"{target.agent_id}: no worktree at {wt} (removed, or not created yet)."
    base = target.base or "HEAD"
    code, stat = _git(wt, "diff", "--stat", base)
    if code != 0:
        return f"git diff failed in {wt}:\n{stat}"
    _, untracked = _git(wt, "ls-files", "--others", "--exclude-standard")
    _, full = _git(wt, "diff", base)
    lines = full.splitlines()
    more = ""
    if len(lines) > DIFF_LINES:
        more = f"\n[... {len(lines) - DIFF_LINES} more lines not shown ...]"
        lines = lines[:DIFF_LINES]
    head = stat.rstrip() or "no changes against the base"
    extra = ""
    if untracked.strip():
        extra = "\nuntracked files:\n" + "\n".join("  " + u for u in untracked.splitlines())
    return f"{head}{extra}\n\n" + "\n".join(lines) + more


def load_result(client: RunClient, t: TaskView, target: Target) -> str:
    parts = [f"state: {t.state}" + (f" ({t.reason})" if t.reason else "")]
    if t.summary:
        parts.append(f"summary: {t.summary}")
    if target.attempt > t.attempt_base:
        d = client.agent_dir(target.task, target.attempt)
        res = read_end(d / P.RESULTS_FILE, 64 * 1024)
        if res is None:
            parts.append(f"{P.RESULTS_FILE}: not written yet")
        else:
            try:
                res = json.dumps(json.loads(res), indent=2, ensure_ascii=False)
            except ValueError:
                pass  # shown as written: the agent's file is the evidence
            parts.append(f"{P.RESULTS_FILE}:\n{res}")
        if t.spec.verify:
            parts.append(f"verify: {t.spec.verify}")
        log = read_end(d / P.VERIFY_LOG, 16 * 1024)
        if log:
            parts.append(f"{P.VERIFY_LOG}:\n{log.rstrip()}")
        elif t.verify_tail:
            parts.append(f"verify output:\n{t.verify_tail.rstrip()}")
        ex = read_end(d / P.EXIT_FILE, 8 * 1024)
        if ex:
            parts.append(f"{P.EXIT_FILE}: {' '.join(ex.split())}")
    return "\n\n".join(parts)


def load_prompt(client: RunClient, t: TaskView, target: Target) -> str:
    if target.attempt > t.attempt_base:
        text = read_end(client.agent_dir(target.task, target.attempt) / P.PROMPT_FILE)
        if text is not None:
            return text.rstrip("\n")
    return f"(no {P.PROMPT_FILE} yet; the task as declared:)\n\n{t.spec.prompt}"


def load_events(client: RunClient, t: TaskView, target: Target) -> str:
    evs = client.task_events(target.task, limit=EVENT_LINES)
    return "\n".join(format_event(e) for e in evs) or "no events"


LOADERS = {"progress": load_progress, "diff": load_diff, "result": load_result,
           "prompt": load_prompt, "events": load_events}
