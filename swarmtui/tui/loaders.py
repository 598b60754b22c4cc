"""What the detail tabs show, read from files and through the client (the store, git): blocking,
worker threads only.

Every loader is bounded: it reads the end of a file, not all of it, and the client caps a diff,
so a huge log or a runaway diff cannot stall the app or fill its memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.model import TaskView
from swarmtui.model.labels import STATE_LABEL, cause_label
from swarmtui.textsafe import term_safe
from swarmtui.tui.describe import merge_forecast
from swarmtui.tui.eventfmt import format_event
from swarmtui.tui.view import context_words

TEXT_CAP = 128 * 1024
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


def load_diff(client: RunClient, t: TaskView, target: Target) -> str:
    """The attempt's work since the commit it started from, then what its worktree has not
    committed yet (the client asks git; bounded and terminal-safe)."""
    if target.attempt <= t.attempt_base:
        return _no_attempt(t)
    start = (t.start_commit if t.attempt == target.attempt and t.start_commit
             else target.base) or "HEAD"
    return client.attempt_diff(target.task, target.attempt, start)


def _summary_lines(t: TaskView) -> list[str]:
    """What the projection knows about the task beyond its files: for the Result tab."""
    state = STATE_LABEL[t.state] + (f" ({t.reason})" if t.reason else "")
    out = [f"state: {state}"]
    if t.cause is not None:
        out.append(f"last failure: {cause_label(t.cause)}")
    if t.note:
        out.append(f"its agent CLI says: {t.note}")
    if t.denied:
        out.append(f"permissions it was denied: {', '.join(t.denied)} (g grants them)")
    if t.allow:
        out.append(f"permissions granted: {', '.join(t.allow)}")
    if t.summary:
        out.append(f"summary: {t.summary}")
    lines, problems = merge_forecast(t, "the target")
    out += [ln for ln in lines if ln.startswith(("forecast", "review"))]
    out += [f"merge: {p}" for p in problems if "only a passed task" not in p]
    if fill := context_words(t):
        out.append(f"context window: {fill}")
    if t.context:
        c = t.context
        out.append(f"prompt at start: {c.get('tokens')} of {c.get('window')} tokens "
                   f"({float(c.get('fraction') or 0):.0%}, {c.get('level')})")
    for model, u in sorted(t.models.items()):
        out.append(f"model {model}: {u.get('input', 0)} in, {u.get('output', 0)} out, "
                   f"${float(u.get('cost_usd', 0.0)):.2f}")
    return out


def load_result(client: RunClient, t: TaskView, target: Target) -> str:
    parts = ["\n".join(_summary_lines(t))]
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
    return term_safe("\n\n".join(parts), multiline=True)


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
