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
from swarmtui.engine.attempts.failures import fail
from swarmtui.engine.context import Ctx
from swarmtui.engine.integrate.ledger import LedgerEntry, entries_from_events
from swarmtui.engine.integrate.merge import MergeJob, MergeOutcome, Merger
from swarmtui.engine.integrate.protect import protected_globs
from swarmtui.engine.messages import MergeDone
from swarmtui.model import Cause, MergeItem, TaskState, TaskView
from swarmtui.model import payloads as p


def run_protected(ctx: Ctx) -> tuple[str, ...]:
    """The protected globs of this run: ``merge.protected`` and the run's own files."""
    st = ctx.state
    own = [st.tasks_file, (st.settings.config_path or "") if st.settings else ""]
    own += [str(t.spec.feature.get("file", "")) for t in st.tasks.values() if t.spec.feature]
    return protected_globs(ctx.repo, ctx.config.merge.protected, own)


class MergeQueue:
    def __init__(self, ctx: Ctx, ledger: list[LedgerEntry]) -> None:
        self.ctx = ctx
        self.ledger = ledger
        m = ctx.config.merge
        self.merger = Merger(ctx.repo, ctx.git, method=m.method, gate=m.verify,
                             revert_on_failure=m.revert_on_failure,
                             allow_out_of_scope=m.allow_out_of_scope,
                             verify_timeout=ctx.config.verify.timeout,
                             tail_bytes=ctx.config.verify.tail_bytes)
        self.working = False
        ctx.loop.on(MergeDone, self._done)
        ctx.loop.every_tick(self._step)

    def pending(self, task: str) -> bool:
        st = self.ctx.state
        return any(m.task == task for m in st.merge_queue) or (
            st.merging is not None and st.merging.task == task)

    def review_missing(self, t: TaskView) -> str:
        """Why ``t`` may not merge yet under ``merge.review`` ("" when it may)."""
        if not self.ctx.config.merge.review:
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
        self.ctx.emit(p.MergeQueued(auto=auto, by=by, command_id=command_id), t.id, t.attempt)

    def job(self, item: MergeItem) -> MergeJob:
        t = self.ctx.task(item.task)
        return MergeJob(task=t.id, attempt=item.attempt, title=t.spec.title,
                        branch=P.branch_name(t.id, item.attempt), target=self.ctx.state.target,
                        summary=t.summary, files_modified=list(t.result_files),
                        do_not_revert=t.result_dnr, scope=t.spec.files, auto=item.auto,
                        command_id=item.command_id, source=item.by,
                        protected=run_protected(self.ctx))

    def _step(self, now: float) -> None:
        if self.working:
            return
        st = self.ctx.state
        item = st.merging
        if item is None:
            if not st.merge_queue:
                return
            item = st.merge_queue[0]
            self.ctx.emit(p.MergeStarted(), item.task, item.attempt)
        self.working = True
        job = self.job(item)
        ledger = list(self.ledger)

        def work() -> MergeDone:
            return MergeDone(job.task, job.attempt, self.merger.merge(job, ledger))

        self.ctx.submit(self.ctx.workers.git, work, lambda e: MergeDone(
            job.task, job.attempt, MergeOutcome("refused", f"merge failed: {type(e).__name__}: "
                                                f"{e}")))

    def merge_now(self, item: MergeItem) -> MergeOutcome:
        """Merge synchronously in this thread (no loop running; the caller holds the lock)."""
        self.ctx.emit(p.MergeStarted(), item.task, item.attempt)
        job = self.job(item)
        out = self.merger.merge(job, list(self.ledger))
        self._done(MergeDone(job.task, job.attempt, out))
        return out

    def _done(self, msg: MergeDone) -> None:
        self.working = False
        ctx = self.ctx
        out: MergeOutcome = msg.outcome
        st = ctx.state
        item = st.merging
        t = st.tasks.get(msg.task)
        if t is None or item is None or item.task != msg.task:
            return
        current = t.attempt == msg.attempt and t.state == TaskState.PASSED
        status, text = self._record(t, item, out, current)
        if item.command_id is not None:
            ctx.commands.answer(item.command_id, "merge", item.by, status, {
                "task": t.id, "message": text, "reason": out.reason, "commit": out.commit,
                "conflicts": out.conflicts, "dirty": out.dirty, "protected": out.protected,
                "untracked": out.untracked})

    def _record(self, t: TaskView, item: MergeItem, out: MergeOutcome, current: bool
                ) -> tuple[str, str]:
        ctx = self.ctx
        if out.status == "merged":
            if current:
                ev = ctx.emit(p.TaskMerged(
                    branch=P.branch_name(t.id, item.attempt), target=ctx.state.target,
                    commit=out.commit or "", method=ctx.config.merge.method, summary=t.summary,
                    files_modified=list(t.result_files), do_not_revert=t.result_dnr,
                    added=out.added, verify_tail=out.verify_tail,
                    landed_despite_failure=out.landed_despite_failure, noop=out.noop),
                    t.id, item.attempt)
                self.ledger.extend(entries_from_events([ev]))
                if out.landed_despite_failure:
                    ctx.emit(p.IntegrationFailed(
                        reason="merge.verify failed; landed anyway (merge.revert_on_failure = "
                               "false)", tail=out.verify_tail, landed=True), t.id, item.attempt)
                self._write_back_feature(ctx.task(t.id))
            else:
                ctx.emit(p.MergeLanded(commit=out.commit or "",
                                       note=f"merged while the task was {t.state}"),
                         t.id, item.attempt)
            return "done", (f"merged {t.id} into {ctx.state.target} "
                            f"({(out.commit or '')[:10]})")
        if out.status == "integration_failed":
            ctx.emit(p.IntegrationFailed(reason=out.reason, tail=out.verify_tail),
                     t.id, item.attempt)
            if current:
                fail(ctx, ctx.task(t.id), Cause.INTEGRATION_FAILED,
                     f"integration failed: {out.reason}")
            return "failed", out.reason
        ctx.emit(p.MergeRefused(reason=out.reason, conflicts=list(out.conflicts),
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
            self.ctx.emit(p.FeatureWritebackFailed(file=str(path), index=idx, error=str(e)),
                          t.id)
            return
        self.ctx.emit(p.FeaturePassed(file=str(path), index=idx), t.id)
