"""``swarmtui review ID``: a model reads the attempt before it merges.

The review runs in a worker (the diff from git, then one Messages API call through
``engine.review.Reviewer``); its verdict is a ``review`` event, its cost counted on the task.
No key, an API error or a timeout is a clear message and blocks nothing unless
``merge.review`` says merges need an approving review. With ``merge.auto`` and
``merge.review``, a task that passes is reviewed by itself and merged when approved.
"""

from __future__ import annotations

from swarmtui import protocol as P
from swarmtui.engine.intents import (
    AnswerCommand,
    Ask,
    EnqueueMerge,
    GuardFor,
    MergePending,
    RecordHeld,
    ReviewMissing,
    StartReview,
)
from swarmtui.engine.messages import Reviewed
from swarmtui.engine.ports import Ports
from swarmtui.engine.review.llm import Reviewer
from swarmtui.engine.review.request import ReviewInput
from swarmtui.engine.review.verdict import Review
from swarmtui.engine.runtime.git import GitError
from swarmtui.model import TaskState
from swarmtui.model import payloads as p

DIFF_BYTES = 2_000_000  # the diff read for a review, before it is cut to the token budget


class Reviews:
    """Owns ``StartReview``."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        cfg = ports.config.review
        price = ports.config.prices.get(cfg.model)
        self.reviewer = Reviewer(
            ports.agent_env.get(cfg.api_key_env) or None, cfg.model,
            base_url=ports.agent_env.get(cfg.base_url_env) or None, timeout=cfg.timeout,
            budget_tokens=cfg.budget_tokens,
            input_usd_per_mtok=price.input if price is not None else 3.0,
            output_usd_per_mtok=price.output if price is not None else 15.0)
        self.running: set[str] = set()

    def start(self, it: StartReview) -> None:
        t, cmd, then_merge = it.task, it.command, it.then_merge
        ports = self.ports
        aid = P.agent_id(t.id, t.attempt)
        rec = ports.state.attempts.get(aid)
        if rec is None:
            return
        self.running.add(aid)
        inp_base = (t.spec, t.summary, list(t.result_files))
        git, base = ports.git, rec.start_commit or ports.state.base
        branch, reviewer = rec.branch, self.reviewer
        guard = self.ask(GuardFor(judge=True))
        task, attempt = t.id, t.attempt
        cid, source = (cmd.id, cmd.source) if cmd is not None else (None, "auto")

        def work() -> Reviewed:
            try:
                diff = git.diff_text(base, branch, limit=DIFF_BYTES)
            except GitError as e:
                diff = f"(the diff could not be read: {e})"
            spec, summary, files = inp_base
            # The reviewer is a model too: what the agent wrote is screened on the way in.
            inp = ReviewInput.for_task(spec, summary=guard(summary, "the results summary"),
                                       changed_files=[guard(f, "a changed file name")
                                                      for f in files], diff=diff)
            return Reviewed(task, attempt, reviewer.review(inp), cid, source, then_merge,
                            tuple(guard.flags))

        ports.submit(ports.workers.verify, work, lambda e: Reviewed(
            task, attempt, Review(ok=False, error=f"review failed: {e}"), cid, source,
            then_merge))

    def done(self, msg: Reviewed) -> None:
        ports = self.ports
        self.running.discard(P.agent_id(msg.task, msg.attempt))
        if msg.flags:
            self.ask(RecordHeld(tuple(msg.flags), msg.task, msg.attempt))
        r: Review = msg.review
        ports.emit(p.ReviewRecorded(
            ok=r.ok, verdict=r.verdict, confidence=r.confidence, summary=r.summary,
            concerns=[{"file": c.file, "severity": c.severity, "text": c.text,
                       "line": c.line} for c in r.concerns],
            tokens_in=r.tokens_in, tokens_out=r.tokens_out, cost_usd=r.cost_usd,
            model=r.model, error=r.error or ""), msg.task, msg.attempt)
        if msg.command_id is not None:
            status = "done" if r.ok else "failed"
            text = (f"{msg.task}: {r.verdict} ({r.confidence:.0%}): {r.summary}" if r.ok
                    else f"no review: {r.error}")
            self.ask(AnswerCommand(msg.command_id, "review", msg.source, status,
                                   {"task": msg.task, "message": text, "verdict": r.verdict,
                                    "error": r.error or None}))
        t = ports.state.tasks.get(msg.task)
        if (msg.then_merge and t is not None and t.attempt == msg.attempt
                and t.state == TaskState.PASSED and not self.ask(ReviewMissing(t))
                and not self.ask(MergePending(t.id))):
            self.ask(EnqueueMerge(t, auto=True, by="auto"))
