"""The do-not-revert ledger: what merged work says about itself, carried into later prompts.

Entries come from ``task_merged`` events of every run in the repository (the store keeps them
all). Matching and the revert check are pure functions over entries and diffs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from swarmtui.engine.guard.screen import quote_for_prompt
from swarmtui.engine.scope import scopes_overlap
from swarmtui.model import Event

# Bound what one merge stores about the lines it added (per file, and files per entry).
MAX_LINES_PER_FILE = 400
MAX_FILES = 200


@dataclass(frozen=True)
class LedgerEntry:
    task: str
    run: int
    time: float
    commit: str
    summary: str
    files: tuple[str, ...]
    do_not_revert: bool
    added: dict[str, list[str]] = field(default_factory=dict)

    def to_json_obj(self) -> dict[str, Any]:
        return {"task": self.task, "run": self.run, "time": self.time, "commit": self.commit,
                "summary": self.summary, "files": list(self.files),
                "do_not_revert": self.do_not_revert}


def entries_from_events(events: Iterable[Event]) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    for ev in events:
        if ev.kind != "task_merged" or not ev.task:
            continue
        d = ev.data
        out.append(LedgerEntry(
            task=ev.task, run=ev.run, time=ev.time, commit=str(d.get("commit", "")),
            summary=str(d.get("summary", "")), files=tuple(d.get("files_modified") or ()),
            do_not_revert=bool(d.get("do_not_revert")), added=dict(d.get("added") or {})))
    return out


def trim_added(added: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keep the meaningful added lines (non-blank), bounded, for later revert checks."""
    out: dict[str, list[str]] = {}
    for path in sorted(added)[:MAX_FILES]:
        lines = [ln for ln in added[path] if ln.strip()][:MAX_LINES_PER_FILE]
        if lines:
            out[path] = lines
    return out


def relevant(entries: Iterable[LedgerEntry], scope: Iterable[str]) -> list[LedgerEntry]:
    """Do-not-revert entries whose files a task with ``scope`` may touch. A task that declared
    no scope may touch anything, so it gets them all."""
    scope = list(scope)
    # The agent's own files_modified may be incomplete; the lines it added say where it was.
    return [e for e in entries if e.do_not_revert and (not scope or scopes_overlap(
        scope, [*e.files, *e.added]))]


def render_for_prompt(entries: list[LedgerEntry], limit: int = 20,
                      safe: Callable[[str, str], str] = quote_for_prompt) -> str:
    if not entries:
        return ""
    lines = ["## Intentional changes: do not revert", "",
             "These changes were merged on purpose by earlier tasks. Keep them; build on them.", ""]
    for e in entries[-limit:]:
        files = ", ".join(e.files[:8]) + (" ..." if len(e.files) > 8 else "")
        summary = safe(e.summary.strip() or "(no summary)",
                       f"the summary of merged task {e.task}")
        lines.append(f"- {e.task} ({e.commit[:10]}): {summary} [files: {files}]")
    return "\n".join(lines) + "\n"


def find_reverts(entries: Iterable[LedgerEntry], removed: dict[str, list[str]]
                 ) -> list[dict[str, Any]]:
    """Which do-not-revert entries a diff undoes: lines it removes that an entry added."""
    hits: list[dict[str, Any]] = []
    for e in entries:
        if not e.do_not_revert:
            continue
        for path, lines in e.added.items():
            gone = {ln.strip() for ln in removed.get(path, ()) if ln.strip()}
            undone = [ln for ln in lines if ln.strip() in gone]
            if undone:
                hits.append({"task": e.task, "file": path, "lines": len(undone),
                             "example": undone[0][:120]})
    return hits
