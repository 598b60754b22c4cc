"""The merge queue: one merge at a time, in a worker; the queue itself lives in the log.

``merge_queued`` adds a task, ``merge_started`` takes it off the front, and the outcome
(``task_merged``, ``merge_refused``, ``integration_failed`` or ``merge_landed``) ends it. A
supervisor that restarts finds the queue, and a merge that was in flight, in its projection and
carries on; a merge that landed before the crash is recognised (the branch is already on the
target) and recorded as merged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.integrate.ledger import LedgerEntry, entries_from_events
from swarmtui.engine.integrate.merge import MergeJob, MergeOutcome, Merger
from swarmtui.engine.integrate.protect import protected_globs
from swarmtui.engine.intents import (
    AnswerCommand,
    Ask,
    EnqueueMerge,
    FailAttempt,
    MergeHeld,
    MergePending,
    MergeWorking,
    ReviewMissing,
)
from swarmtui.engine.messages import MergeDone
from swarmtui.engine.ports import Ports
from swarmtui.model import Cause, MergeItem, TaskState, TaskView
from swarmtui.model import payloads as p


def run_protected(ports: Ports) -> tuple[str, ...]:
    """The protected globs of this run: ``merge.protected`` and the run's own files."""
    st = ports.state
    own = [st.tasks_file, (st.settings.config_path or "") if st.settings else ""]
    own += [str(t.spec.feature.get("file", "")) for t in st.tasks.values() if t.spec.feature]
    return protected_globs(ports.repo, ports.config.merge.protected, own)


class MergeQueue:
    """Owns ``EnqueueMerge``, ``MergePending``, ``ReviewMissing``, ``MergeHeld`` and
    ``MergeWorking``."""

    def __init__(self, ports: Ports, ask: Ask, ledger: list[LedgerEntry]) -> None:
        self.ports = ports
        self.ask = ask
        self.ledger = ledger
        m = ports.config.merge
        self.merger = Merger(ports.repo, ports.git, method=m.method, gate=m.verify,
                             revert_on_failure=m.revert_on_failure,
                             allow_out_of_scope=m.allow_out_of_scope,
                             verify_timeout=ports.config.verify.timeout,
                             tail_bytes=ports.config.verify.tail_bytes)
        self.working = False

    def enqueue_it(self, it: EnqueueMerge) -> None:
        self.enqueue(it.task, auto=it.auto, by=it.by, command_id=it.command_id)

    def is_pending(self, it: MergePending) -> bool:
        return self.pending(it.task)

    def missing_review(self, it: ReviewMissing) -> str:
        return self.review_missing(it.task)

    def held_reason(self, it: MergeHeld) -> str:
        return self.held(it.task, it.task.attempt)[2]

    def held(self, t: TaskView, attempt: int) -> tuple[str, str, str]:
        """(qid, state, why) of what ``attempt`` said about its work that the screen held and
        the operator has not approved; empty when there is none (or ``screen.hold_merge`` is
        off). Its agent may have read something hostile and obeyed it: the work waits."""
        if not self.ports.config.screen.hold_merge:
            return "", "", ""
        for qid, a in t.held_work.items():
            h = self.ports.state.quarantine.get(qid)
            if a != attempt or h is None or h.state == "approved":
                continue
            if h.state == "rejected":
                return qid, h.state, (f"the operator rejected its {h.source} ({qid}) as a "
                                      "possible prompt injection")
            return qid, h.state, (f"its {h.source} reads like a prompt injection: the merge "
                                  f"waits for `swarmtui approve {qid}`")
        return "", "", ""

    def _next(self) -> MergeItem | None:
        """The first queued item that may merge now. Held ones wait in the queue (approving
        their text lets them go); one whose text was rejected leaves it, refused."""
        st = self.ports.state
        for item in list(st.merge_queue):
            t = st.tasks.get(item.task)
            qid, state, why = self.held(t, item.attempt) if t is not None else ("", "", "")
            if not qid:
                return item
            if state == "rejected":
                self.ports.emit(p.MergeRefused(reason=why), item.task, item.attempt)
                if item.command_id is not None:
                    self.ask(AnswerCommand(item.command_id, "merge", item.by, "refused",
                                           {"task": item.task, "message": why, "reason": why}))
        return None

    def is_working(self, it: MergeWorking) -> bool:
        return self.working

    def pending(self, task: str) -> bool:
        st = self.ports.state
        return any(m.task == task for m in st.merge_queue) or (
            st.merging is not None and st.merging.task == task)

    def review_missing(self, t: TaskView) -> str:
        """Why ``t`` may not merge yet under ``merge.review`` ("" when it may)."""
        if not self.ports.config.merge.review:
            return ""
        r = t.review
        if r is None or r.get("attempt") != t.attempt:
            return (f"{t.id} needs an approving review first (merge.review = true): "
                    f"`swarmtui review {t.id}`")
        if r.get("verdict") != "approve":
            return f"{t.id}'s review says {r.get('verdict') or r.get('error')}: {r.get('summary')}"
        return ""

    def enqueue(self, t: TaskView, *, auto: bool, by: str, command_id: int | None = None
                ) -> None:
        self.ports.emit(p.MergeQueued(auto=auto, by=by, command_id=command_id), t.id, t.attempt)

    def job(self, item: MergeItem) -> MergeJob:
        t = self.ports.task(item.task)
        return MergeJob(task=t.id, attempt=item.attempt, title=t.spec.title,
                        branch=P.branch_name(t.id, item.attempt), target=self.ports.state.target,
                        summary=t.summary, files_modified=list(t.result_files),
                        do_not_revert=t.result_dnr, scope=t.spec.files, auto=item.auto,
                        command_id=item.command_id, source=item.by,
                        protected=run_protected(self.ports))

    def step(self, now: float) -> None:
        if self.working:
            return
        st = self.ports.state
        item = st.merging
        if item is None:
            if not st.merge_queue:
                return
            item = self._next()
            if item is None:
                return
            self.ports.emit(p.MergeStarted(), item.task, item.attempt)
        self.working = True
        job = self.job(item)
        ledger = list(self.ledger)

        def work() -> MergeDone:
            return MergeDone(job.task, job.attempt, self.merger.merge(job, ledger))

        self.ports.submit(self.ports.workers.git, work, lambda e: MergeDone(
            job.task, job.attempt, MergeOutcome("refused", f"merge failed: {type(e).__name__}: "
                                                f"{e}")))

    def merge_now(self, item: MergeItem) -> MergeOutcome:
        """Merge synchronously in this thread (no loop running; the caller holds the lock)."""
        self.ports.emit(p.MergeStarted(), item.task, item.attempt)
        job = self.job(item)
        out = self.merger.merge(job, list(self.ledger))
        self.done(MergeDone(job.task, job.attempt, out))
        return out

    def done(self, msg: MergeDone) -> None:
        self.working = False
        ports = self.ports
        out: MergeOutcome = msg.outcome
        st = ports.state
        item = st.merging
        t = st.tasks.get(msg.task)
        if t is None or item is None or item.task != msg.task:
            return
        current = t.attempt == msg.attempt and t.state == TaskState.PASSED
        status, text = self._record(t, item, out, current)
        if item.command_id is not None:
            self.ask(AnswerCommand(item.command_id, "merge", item.by, status, {
                "task": t.id, "message": text, "reason": out.reason, "commit": out.commit,
                "conflicts": out.conflicts, "dirty": out.dirty, "protected": out.protected,
                "untracked": out.untracked}))

    def _record(self, t: TaskView, item: MergeItem, out: MergeOutcome, current: bool
                ) -> tuple[str, str]:
        ports = self.ports
        if out.status == "merged":
            if current:
                ev = ports.emit(p.TaskMerged(
                    branch=P.branch_name(t.id, item.attempt), target=ports.state.target,
                    commit=out.commit or "", method=ports.config.merge.method, summary=t.summary,
                    files_modified=list(t.result_files), do_not_revert=t.result_dnr,
                    added=out.added, verify_tail=out.verify_tail,
                    landed_despite_failure=out.landed_despite_failure, noop=out.noop),
                    t.id, item.attempt)
                self.ledger.extend(entries_from_events([ev]))
                if out.landed_despite_failure:
                    ports.emit(p.IntegrationFailed(
                        reason="merge.verify failed; landed anyway (merge.revert_on_failure = "
                               "false)", tail=out.verify_tail, landed=True), t.id, item.attempt)
                self._write_back_feature(ports.task(t.id))
            else:
                ports.emit(p.MergeLanded(commit=out.commit or "",
                                       note=f"merged while the task was {t.state}"),
                         t.id, item.attempt)
            return "done", (f"merged {t.id} into {ports.state.target} "
                            f"({(out.commit or '')[:10]})")
        if out.status == "integration_failed":
            ports.emit(p.IntegrationFailed(reason=out.reason, tail=out.verify_tail),
                     t.id, item.attempt)
            if current:
                self.ask(FailAttempt(t.id, t.attempt, Cause.INTEGRATION_FAILED,
                                     f"integration failed: {out.reason}", any_state=True))
            return "failed", out.reason
        ports.emit(p.MergeRefused(reason=out.reason, conflicts=list(out.conflicts),
                                dirty=list(out.dirty), out_of_scope=list(out.out_of_scope),
                                protected=list(out.protected), untracked=list(out.untracked),
                                reverts=[p.Revert.model_validate(r) for r in out.reverts]),
                 t.id, item.attempt)
        return "refused", out.reason

    def _write_back_feature(self, t: TaskView) -> None:
        """A feature-list task that merged gets ``passes: true`` in its file, atomically."""
        feat = t.spec.feature
        if not feat:
            return
        path = Path(str(feat.get("file", "")))
        idx = int(feat.get("index", -1))
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, list) or not 0 <= idx < len(data):
                raise ValueError(f"entry {idx} not found")
            data[idx]["passes"] = True
            tmp = path.with_name(f".{path.name}.swarmtui.tmp")
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        except (OSError, ValueError, TypeError, KeyError) as e:
            self.ports.emit(p.FeatureWritebackFailed(file=str(path), index=idx, error=str(e)),
                          t.id)
            return
        self.ports.emit(p.FeaturePassed(file=str(path), index=idx), t.id)
