"""Merge forecast: will each attempt branch merge cleanly into the target, and into each other?

Computed with ``git merge-tree --write-tree`` (no work tree touched), cached by commit pair so
only branches (or a target) that moved are recomputed. Runs off the supervisor's loop; the loop
records a ``forecast`` event only when a task's forecast changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from swarmtui.engine.ledger import LedgerEntry, find_reverts
from swarmtui.engine.runtime.git import GitError, GitPlumbing
from swarmtui.engine.scope import normalise


@dataclass(frozen=True)
class Candidate:
    task: str
    branch: str
    head: str
    files: tuple[str, ...]  # declared scope


def out_of_scope(changed: list[str], scope: tuple[str, ...]) -> list[str]:
    """Changed paths that no declared glob matches (fnmatch's * also crosses '/')."""
    if not scope:
        return []
    pats = [normalise(p) for p in scope]  # the same reading of globs as the scope lock
    return [f for f in changed if not any(fnmatchcase(f, p) for p in pats)]


class Forecaster:
    def __init__(self, git: GitPlumbing) -> None:
        self.git = git
        self._target_cache: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = {}
        self._pair_cache: dict[tuple[str, str], bool] = {}
        self._changed_cache: dict[tuple[str, str], list[str]] = {}
        self._removed_cache: dict[tuple[str, str], dict[str, list[str]]] = {}

    def _vs_target(self, target: str, head: str) -> tuple[bool, tuple[str, ...]]:
        key = (target, head)
        if key not in self._target_cache:
            mt = self.git.merge_tree(target, head)
            self._target_cache[key] = (mt.clean, mt.conflicts)
        return self._target_cache[key]

    def _pair(self, a: str, b: str) -> bool:
        key = (a, b) if a < b else (b, a)
        if key not in self._pair_cache:
            self._pair_cache[key] = self.git.merge_tree(*key).clean
        return self._pair_cache[key]

    def _changed(self, target: str, head: str) -> list[str]:
        key = (target, head)
        if key not in self._changed_cache:
            self._changed_cache[key] = self.git.changed_files(target, head)
        return self._changed_cache[key]

    def _removed(self, target: str, head: str) -> dict[str, list[str]]:
        key = (target, head)
        if key not in self._removed_cache:
            self._removed_cache[key] = self.git.diff_lines(target, head)[1]
        return self._removed_cache[key]

    def forecast(self, target_branch: str, cands: list[Candidate],
                 ledger: list[LedgerEntry]) -> dict[str, dict[str, Any]]:
        """Forecast per task id; tasks whose branch has no commits beyond the target get
        ``target: None``."""
        target = self.git.rev(target_branch)
        out: dict[str, dict[str, Any]] = {}
        if target is None:
            return out
        live: list[Candidate] = []
        for c in cands:
            if self.git.is_ancestor(c.head, target):
                out[c.task] = {"target": None, "files": [], "conflicts_with": [],
                               "out_of_scope": [], "reverts": []}
            else:
                live.append(c)
        for c in live:
            try:
                clean, files = self._vs_target(target, c.head)
                changed = self._changed(target, c.head)
                reverts = find_reverts(ledger, self._removed(target, c.head)) if ledger else []
            except GitError as e:
                out[c.task] = {"target": None, "files": [], "conflicts_with": [],
                               "out_of_scope": [], "reverts": [], "error": str(e)}
                continue
            others = [o.task for o in live if o.task != c.task and not self._pair(c.head,
                                                                                  o.head)]
            out[c.task] = {"target": "clean" if clean else "conflict", "files": list(files),
                           "conflicts_with": sorted(others),
                           "out_of_scope": out_of_scope(changed, c.files), "reverts": reverts}
        return out
