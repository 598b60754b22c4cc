"""Watching running agents: quiet, stuck, unproductive and stale results, from the log's
timestamps and a productivity sample taken off the loop.

The classification is pure (``health.classify_running``); this part feeds it. The productivity
sample (the worktree's diff and the output log's size) runs in a git worker at most once per
``progress_interval`` per agent, staggered by agent so a fleet spawned at once is not sampled in
one burst, and once more when the agent writes its results (so the DIFF column is final). A
sample first takes the worktree's mark (``runtime/treemark.py``: a stat of every entry, about
0.3 ms against 8 ms of CPU for the three git processes); when it equals the last sample's, the
last diff stands and no git runs, except every ``FULL_EVERY``th sample and for results.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.attempts.failures import fail_if_current
from swarmtui.engine.health.classify import HealthPolicy, classify_running, result_is_stale
from swarmtui.engine.health.drift import record_drift
from swarmtui.engine.health.vitals import ContextLimits, overlay
from swarmtui.engine.intents import Ask, CheckReadiness, EndAttempt
from swarmtui.engine.messages import Sampled
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime import treemark
from swarmtui.engine.runtime.files import stat_under
from swarmtui.engine.runtime.git import GitError
from swarmtui.engine.runtime.worktrees import common_dir
from swarmtui.model import Cause, Event, EventKind, Health, TaskState, TaskView
from swarmtui.model import payloads as p
from swarmtui.model.steering import waits_on_operator


@dataclass
class Productivity:
    next_sample: float
    last_productive_at: float
    fingerprint: tuple[object, ...] = ()
    sampling: bool = False
    last: Sampled | None = None  # the last sample that ran git, and how many reused it since
    reused: int = 0


# A sample whose mark has not moved still runs git every this many samples (a belt beside the
# mark's braces: a clock stepped back could hide a write from it).
FULL_EVERY = 10


_GIT = frozenset({".git"})


class Watchdog:
    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        hb = ports.config.heartbeat
        self.policy = HealthPolicy(interval=hb.progress_interval, quiet_after=hb.quiet_after,
                                   stuck_after=hb.stuck_after,
                                   unproductive_after=hb.unproductive_after,
                                   stale_result_after=hb.stale_result_after)
        self.prod: dict[str, Productivity] = {}
        # Readiness beside liveness: the context fill and the task's check (health/vitals.py).
        self.context_limits = ContextLimits(warn=hb.context_warn, act=hb.context_act)

    def heard(self, ev: Event) -> None:
        if ev.kind == EventKind.RESULTS and ev.task and ev.attempt:
            self._sample(ev.task, ev.attempt, force=True)

    def step(self, now: float) -> None:
        for t in list(self.ports.state.tasks.values()):
            if t.state == TaskState.RUNNING:
                self._running(t, now)
            elif (t.state == TaskState.PASSED and t.health != Health.STALE_RESULT
                  and result_is_stale(self.policy, now, t.result_at)):
                # No note: the label ("waiting to merge") and the wait say it all; a note
                # restating them made every line that shows both say it twice.
                evidence = p.HealthEvidence(waiting_s=round(now - (t.result_at or now), 1))
                self.ports.emit(p.HealthChanged(health=Health.STALE_RESULT, evidence=evidence),
                              t.id, t.attempt)

    def _running(self, t: TaskView, now: float) -> None:
        ports = self.ports
        aid = P.agent_id(t.id, t.attempt)
        rec = ports.state.attempts.get(aid)
        if rec is None or not rec.started or t.result_at is not None:
            return
        if t.setup_running:
            # The worktree's setup runs before the agent (bounded by its own timeout, which
            # the wrapper enforces): silence now says nothing about the agent.
            self.prod.pop(aid, None)
            return
        # The agent's clock starts when it does: after the setup, if there was one.
        began = max(t.started_at or now, t.setup_done_at or 0.0)
        prod = self.prod.get(aid)
        if prod is None:
            # Stagger: each agent's first sample lands somewhere in its first interval.
            frac = (zlib.crc32(aid.encode()) % 1000) / 1000
            prod = self.prod[aid] = Productivity(
                next_sample=now + self.policy.interval * frac, last_productive_at=began)
        if now >= prod.next_sample:
            prod.next_sample = now + self.policy.interval
            self._sample(t.id, t.attempt)
        self.ask(CheckReadiness(t, began, now))
        if waits_on_operator(t):
            prod.last_productive_at = now  # its clock starts again once answered
            return
        # A sign of life from the agent CLI (an API retry, a hook) counts like a progress
        # line: three minutes of 529s are not silence.
        heard = t.last_heard_at if t.last_heard_at is not None else t.last_progress_at
        v = classify_running(self.policy, now, began, heard, prod.last_productive_at)
        v = overlay(v, t, self.context_limits)
        if v.health != t.health:
            ports.emit(p.HealthChanged(health=v.health, evidence=p.HealthEvidence(**v.evidence)),
                     t.id, t.attempt)
        if v.health == Health.STUCK and ports.config.heartbeat.auto_kill:
            self.ask(EndAttempt(t.id, t.attempt))
            fail_if_current(ports, t.id, t.attempt, Cause.STUCK,
                            f"stuck: no progress for {ports.config.heartbeat.stuck_after} "
                            "intervals", health=Health.STUCK)

    def _sample(self, task: str, attempt: int, *, force: bool = False) -> None:
        ports = self.ports
        aid = P.agent_id(task, attempt)
        rec = ports.state.attempts.get(aid)
        if rec is None or not rec.started:
            return
        prod = self.prod.get(aid)
        last: Sampled | None = None
        if prod is not None:
            if prod.sampling and not force:
                return
            prod.sampling = True
            if not force and prod.reused + 1 < FULL_EVERY:
                last = prod.last
        wt = Path(rec.worktree)
        base = rec.start_commit or ports.state.base
        branch = rec.branch
        git = ports.git
        swarm = ports.swarm

        def work() -> Sampled:
            st = stat_under(swarm, f"{P.AGENTS_DIR}/{aid}/{P.OUTPUT_LOG}")
            size = st.size if st is not None else 0
            common = common_dir(git.root)
            files = treemark.worktree_files(common, wt, branch) if common and branch else None
            # Taken before git runs: a write after it moves the next mark (at worst one more
            # sample), never hides in this one.
            mark = treemark.mark(wt, files, skip_top=_GIT) if files is not None else None
            if mark is not None and last is not None and last.mark == mark:
                return replace(last, log_size=size, reused=True)
            try:
                ds = git.diff_stat(wt, base)
                head = git.head_of(wt)
            except GitError:
                return Sampled(task, attempt, files=None, insertions=0, deletions=0, head="",
                               log_size=size)
            return Sampled(task, attempt, files=ds.files, insertions=ds.insertions,
                           deletions=ds.deletions, head=head, log_size=size, paths=ds.paths,
                           mark=mark)

        ports.submit(ports.workers.git, work, lambda e: Sampled(task, attempt, None, 0, 0, "", 0))

    def sampled(self, s: Sampled) -> None:
        ports = self.ports
        aid = P.agent_id(s.task, s.attempt)
        prod = self.prod.get(aid)
        t = ports.state.tasks.get(s.task)
        if t is None or t.attempt != s.attempt:
            self.prod.pop(aid, None)
            return
        if s.files is not None:
            diff = {"files": s.files, "insertions": s.insertions, "deletions": s.deletions}
            if t.diff != diff:
                ports.emit(p.Diff(files=s.files, insertions=s.insertions, deletions=s.deletions,
                                head=s.head), s.task, s.attempt)
            record_drift(ports, ports.task(s.task), s.paths)  # the last sample too
        if prod is None:
            return
        prod.sampling = False
        if s.files is None:
            prod.last, prod.reused = None, 0
        elif s.reused:
            prod.reused += 1
        else:
            prod.last, prod.reused = s, 0
        fp = (t.outputs, s.files, s.insertions, s.deletions, s.head, s.log_size)
        if fp != prod.fingerprint:
            prod.fingerprint = fp
            prod.last_productive_at = ports.now()
