"""Merge forecast: will each attempt branch merge cleanly into the target, and into each other?

Computed with ``git merge-tree --write-tree`` (no work tree touched), cached by commit pair so
only branches (or a target) that moved are recomputed. Runs off the supervisor's loop; the loop
records a ``forecast`` event only when a task's forecast changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from swarmtui.engine.integrate.ledger import LedgerEntry, find_reverts
from swarmtui.engine.intents import ForecastsSettled
from swarmtui.engine.messages import ForecastDone
from swarmtui.engine.runtime import treemark
from swarmtui.engine.runtime.git import Git, GitError
from swarmtui.engine.runtime.worktrees import common_dir
from swarmtui.engine.scope import out_of_scope
from swarmtui.model import Event, EventKind, TaskState

if TYPE_CHECKING:
    from swarmtui.engine.ports import Ports


@dataclass(frozen=True)
class Candidate:
    task: str
    branch: str
    head: str
    files: tuple[str, ...]  # declared scope


class Forecaster:
    def __init__(self, git: Git) -> None:
        self.git = git
        self._target_cache: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = {}
        self._pair_cache: dict[tuple[str, str], bool] = {}
        self._changed_cache: dict[tuple[str, str], list[str]] = {}
        self._removed_cache: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._ancestor_cache: dict[tuple[str, str], bool] = {}

    def _behind(self, head: str, target: str) -> bool:
        """``head`` is an ancestor of ``target`` (nothing to merge). Commits never change, so
        neither does the answer: while a fleet spawns, every pass asked it of every branch
        again (1,027 ``merge-base`` processes in one run at 500 agents); a branch still at its
        start commit is its own answer."""
        if head == target:
            return True
        key = (head, target)
        if key not in self._ancestor_cache:
            self._ancestor_cache[key] = self.git.is_ancestor(head, target)
        return self._ancestor_cache[key]

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
            if self._behind(c.head, target):
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


REFS_FULL_EVERY = 30  # passes (about a minute) between reads of unmoved refs all the same


@dataclass
class _Refs:
    """The swarm branches' heads and the target's tip as last read, and the refs' mark then."""

    mark: int | None = None
    target_branch: str = ""
    heads: dict[str, str] | None = None
    target: str | None = None
    reused: int = 0

    def read(self, git: Git, target_branch: str) -> tuple[dict[str, str], str | None]:
        common = common_dir(git.root)
        # Taken before git runs: a ref moved after it moves the next mark.
        mark = treemark.refs_mark(common) if common is not None else None
        if (mark is not None and mark == self.mark and self.heads is not None
                and target_branch == self.target_branch and self.reused + 1 < REFS_FULL_EVERY):
            self.reused += 1
            return self.heads, self.target
        heads = git.heads("refs/heads/swarm/")
        target = git.rev(target_branch)
        self.mark, self.target_branch, self.heads, self.target = mark, target_branch, heads, target
        self.reused = 0
        return heads, target


class ForecastDriver:
    """Keeps every live branch's forecast current, off the loop.

    Every couple of seconds (and at once after a change that matters: results, a pass, a
    merge) a git worker reads the branch heads and the target tip in one call each; only when
    something moved does it run merge-tree for what changed (the Forecaster caches by commit
    pair). Those two calls are skipped while the repository's refs keep their mark
    (``runtime/treemark.py``: a stat of every loose ref and ``packed-refs``), except every
    ``REFS_FULL_EVERY``th pass. The loop records a ``forecast`` event only when a task's
    forecast changed.
    ``settled`` says a pass has completed since the last change, so a run does not count as
    finished before the forecasts of its passed tasks are those of their final commits.
    """

    def __init__(self, ports: Ports, ledger: list[LedgerEntry]) -> None:
        self.ports = ports
        self.ledger = ledger
        self.forecaster = Forecaster(ports.git)
        self.running = False
        self._next = 0.0
        self._sig: tuple[Any, ...] = ()
        self._dirty_seq = 0
        self._pass_seq = -1
        self._refs = _Refs()  # read and written by the one pass under way, on its worker

    def heard(self, ev: Event) -> None:
        if ev.kind in _MOVES:
            self._dirty_seq = ev.seq
            self._next = 0.0

    def settled(self, it: ForecastsSettled) -> bool:
        return not self.running and self._pass_seq >= self._dirty_seq

    def _candidates(self) -> list[tuple[str, str, tuple[str, ...]]]:
        st = self.ports.state
        out = []
        for t in st.tasks.values():
            if t.state not in _LIVE or t.attempt <= t.attempt_base:
                continue
            rec = st.attempts.get(f"{t.id}-{t.attempt}")
            if rec is None or not rec.started:
                continue
            out.append((t.id, rec.branch, t.spec.files))
        return out

    def step(self, now: float) -> None:
        st = self.ports.state
        if self.running or now < self._next or not st.target:
            return
        self._next = now + max(self.ports.config.heartbeat.tick, 2.0)
        cands = self._candidates()
        seq = st.last_seq
        if not cands:
            self._pass_seq = seq
            return
        from swarmtui.engine.messages import ForecastDone

        self.running = True
        target_branch = st.target
        ledger = list(self.ledger)
        last_sig = self._sig
        forecaster = self.forecaster
        git = self.ports.git
        refs = self._refs

        def work() -> ForecastDone:
            heads, target = refs.read(git, target_branch)
            live = [Candidate(task=tid, branch=br, head=heads[br], files=files)
                    for tid, br, files in cands if br in heads]
            sig = (target, tuple((c.task, c.head) for c in live), len(ledger), seq)
            if sig[:3] == last_sig[:3]:
                return ForecastDone(sig, None)  # nothing moved since the last pass
            result = forecaster.forecast(target_branch, live, ledger)
            for c in live:
                if c.task in result:
                    result[c.task] = {**result[c.task], "head": c.head,
                                      "target_commit": target or ""}
            return ForecastDone(sig, result)

        self.ports.submit(self.ports.workers.git, work, lambda e: ForecastDone((), None))

    def done(self, msg: ForecastDone) -> None:
        from swarmtui.model import payloads as p

        self.running = False
        if not msg.sig:
            return  # the pass failed; the next one tries again
        self._sig = msg.sig
        self._pass_seq = msg.sig[3]
        if msg.result is None:
            return
        for tid, fc in msg.result.items():
            t = self.ports.state.tasks.get(tid)
            if t is None:
                continue
            pl = p.Forecast(target=fc.get("target"), files=list(fc.get("files") or []),
                            conflicts_with=list(fc.get("conflicts_with") or []),
                            out_of_scope=list(fc.get("out_of_scope") or []),
                            reverts=[p.Revert.model_validate(r) for r in fc.get("reverts") or []],
                            head=str(fc.get("head") or ""),
                            target_commit=str(fc.get("target_commit") or ""),
                            error=str(fc.get("error") or ""))
            new = {"target": pl.target, "files": pl.files, "conflicts_with": pl.conflicts_with,
                   "out_of_scope": pl.out_of_scope,
                   "reverts": [r.model_dump() for r in pl.reverts], "head": pl.head,
                   "target_commit": pl.target_commit}
            if t.forecast != new:
                self.ports.emit(pl, tid, t.attempt)


_LIVE = frozenset({TaskState.RUNNING, TaskState.VERIFYING, TaskState.PASSED})
_MOVES = frozenset({EventKind.RESULTS, EventKind.VERIFY_PASSED, EventKind.TASK_MERGED,
                    EventKind.AGENT_EXITED, EventKind.MERGE_LANDED})
