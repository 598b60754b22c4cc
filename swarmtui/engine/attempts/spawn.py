"""Starting attempts: the slot is taken in the log first, the slow parts run off the loop.

1. ``attempt_spawned`` is recorded (the attempt holds its slot from here on); a tick's spawns
   are one transaction, and step 2 begins only once it is durable;
2. a git worker gathers the handoff, writes the prompt, ``launch.json`` and ``env.json``, and
   creates the worktree (``Prepared``);
3. the tmux worker opens the window running the wrapper, with the others waiting then
   (``opening.py``: ``WindowsOpened``);
4. ``attempt_started`` is recorded with the commit the branch started from (a batch's in one
   transaction).

A supervisor that dies between 1 and 4 leaves a recorded attempt with no process, which recovery
settles as lost (not counted); the reverse order could leave an unrecorded agent running twice.
An attempt killed while it is being prepared is never started.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path

from swarmtui import faults
from swarmtui import protocol as P
from swarmtui.engine.accounts.choose import choose, waits
from swarmtui.engine.accounts.credential import NoCredential, credential, key_names, with_account
from swarmtui.engine.accounts.fallback import agent_for
from swarmtui.engine.adapters import claude_launch
from swarmtui.engine.adapters import launch as other_launch
from swarmtui.engine.attempts.carryover import relaunched_in_place
from swarmtui.engine.attempts.claudestart import claude_start
from swarmtui.engine.attempts.digest import crossed
from swarmtui.engine.attempts.envpolicy import agent_environment
from swarmtui.engine.attempts.failures import fail_if_current
from swarmtui.engine.attempts.handoffs import handoff_for
from swarmtui.engine.attempts.modes import interactive
from swarmtui.engine.attempts.opening import Opener
from swarmtui.engine.attempts.ownfiles import read_text, write_private
from swarmtui.engine.attempts.prompt import render_follow_up, render_prompt
from swarmtui.engine.attempts.spawnplan import Plan
from swarmtui.engine.integrate.ledger import LedgerEntry, relevant, render_for_prompt
from swarmtui.engine.intents import Ask, EndAttempt, GuardFor, RecordHeld, Spawn, SpawnMany
from swarmtui.engine.messages import Prepared, Started, WindowsOpened
from swarmtui.engine.ports import Ports
from swarmtui.engine.review.fit import Fit, fit, pick_files
from swarmtui.engine.runners.base import PrepareJob, ServerGone
from swarmtui.engine.sandbox.layout import SandboxError
from swarmtui.engine.sandbox.policy import inner_box_off, launch_extra
from swarmtui.engine.wrapper.launch import LaunchSpec
from swarmtui.model import AttemptRec, Cause, ExitHow, RunState, TaskView
from swarmtui.model import payloads as p

log = logging.getLogger(__name__)

class Spawner:
    """Owns ``Spawn``."""

    def __init__(self, ports: Ports, ask: Ask, ledger: list[LedgerEntry]) -> None:
        self.ports = ports
        self.ask = ask
        self.taken: set[str] = set()  # branch names that exist (or are being made)
        self.ledger = ledger
        self._start_commits: dict[str, str] = {}
        self._fits: dict[str, Fit] = {}  # prepared, window not open yet
        self._held: list[Plan] | None = None  # plans of a SpawnMany whose events are not durable
        self.opener = Opener(ports)

    def note_existing(self, branches: set[str]) -> None:
        self.taken |= branches

    def _number(self, t: TaskView) -> int:
        n = t.attempt + 1
        while (P.branch_name(t.id, n) in self.taken
               or P.worktree_dir(self.ports.repo, t.id, n).exists()
               or P.agent_dir(self.ports.repo, t.id, n).exists()):
            n += 1  # left over from an earlier run or by hand: never reuse it
        return n

    def spawn_it(self, it: Spawn) -> None:
        self.spawn(it.task)

    def spawn(self, t: TaskView) -> None:
        ports = self.ports
        st = ports.state
        if (account := choose(st, ports.config, t.spec, ports.now())) is None and waits(
                st, ports.config, t.spec, ports.now()):
            return  # none of its accounts is free now: it waits, pending
        agent = agent_for(ports.config, account, t.spec.agent)  # may be another CLI's
        where = ports.runner.place(t.spec.role, runner_load(st))
        if where is None:
            return  # no host has a free slot for its role now: it waits, pending
        n = self._number(t)
        prev = t.attempt if t.attempt > t.attempt_base else None
        start = st.target or st.base
        merge_in: str | None = None
        if prev is not None and t.resolve is not None:
            start = P.branch_name(t.id, prev)  # a resolver continues the task's own branch
            merge_in = st.target
        elif prev is not None and ports.config.retry.continue_from_previous:
            prev_branch = P.branch_name(t.id, prev)
            if prev_branch in self.taken:
                start = prev_branch
        aid = P.agent_id(t.id, n)
        branch = P.branch_name(t.id, n)
        self.taken.add(branch)
        prev_rec = st.attempts.get(P.agent_id(t.id, prev)) if prev is not None else None
        # A usage limit or a follow-up continues the agent's own session, in its worktree;
        # on another CLI's account a fresh session carries on in it with a handoff.
        cross = crossed(ports.config, t, prev_rec, agent)
        resume = t.resume_session if prev_rec is not None and t.resume_session else None
        resume = None if cross else resume
        worktree = str(ports.runner.worktree(t.id, n))
        reuse: str | None = None
        if resume and prev_rec is not None and Path(prev_rec.worktree).is_dir():
            worktree = reuse = prev_rec.worktree
        elif ((relaunched_in_place(t) or cross) and prev_rec is not None
              and Path(prev_rec.worktree).is_dir()):
            worktree = reuse = prev_rec.worktree  # a full context: a fresh session, same work
        elif resume:
            resume = None  # its worktree is gone: a fresh attempt with a handoff instead
        # What the handoff needs (the last attempt's reason, verify output, the operator's
        # note) is cleared by the spawn event: the worker gets a copy taken before it.
        before = copy.deepcopy(t)
        # Rules the operator allowed for the task's role in a live session hold for it too.
        before.allow = sorted({*before.allow, *st.granted.get(t.spec.role, [])})
        # The files a resolver was handed with conflict markers; an attempt that carries on
        # from its branch or worktree inherits them (verification refuses leftover markers).
        resolving = list((t.resolve or {}).get("conflicts") or []) if merge_in else []
        if not resolving and prev_rec is not None and (
                reuse or (prev is not None and start == P.branch_name(t.id, prev))):
            resolving = list(prev_rec.resolving)
        ports.emit(p.AttemptSpawned(window=aid, worktree=worktree, branch=branch,
                                  agent=agent, base=start, handoff=prev is not None,
                                  runner=where, resumes=resume, resolving=resolving,
                                  account=account.name if account else None,
                                  interactive=(inter := interactive(ports.config, t.spec, agent))
                                  ), t.id, n)
        ports.runner.track(aid, where)
        plan = Plan(task=before, attempt=n, prev=prev,
                    job=PrepareJob(task=before.id, attempt=n, branch=branch, start=start,
                                   merge_in=merge_in, reuse_worktree=reuse,
                                   merge_message=f"swarm: merge {st.target} into {t.id}"),
                    ledger=tuple(relevant(self.ledger, before.spec.files)),
                    env=dict(ports.agent_env),
                    prev_start_commit=prev_rec.start_commit if prev_rec else "",
                    base=st.base, target=st.target, worktree=worktree, resume_session=resume,
                    follow_up=before.follow_up,
                    api_key=ports.agent_env.get(ports.config.review.api_key_env) or None,
                    base_url=ports.agent_env.get(ports.config.review.base_url_env) or None,
                    guard=self.ask(GuardFor(judge=True)),
                    earlier=tuple(a.exit_record for a in st.attempts.values()
                                  if resume and a.task == t.id and a.session_id == resume
                                  and isinstance(a.exit_record, p.AgentExited)),
                    account=account, runner=where, agent=agent, crossed=cross,
                    interactive=inter)
        if self._held is not None:
            self._held.append(plan)  # prepared once the batch's events are durable
        else:
            self._submit(plan)

    def spawn_many(self, it: SpawnMany) -> None:
        """Every task's spawn, their events in one transaction; no preparation starts before
        it commits (a rolled-back batch leaves no worktree behind)."""
        self._held = []
        try:
            with self.ports.transaction():
                for t in it.tasks:
                    self.spawn(t)
                faults.point("spawn-batch")  # every spawn event written, none committed
            held = self._held
        finally:
            self._held = None
        for plan in held:
            self._submit(plan)

    def _submit(self, plan: Plan) -> None:
        aid = P.agent_id(plan.task.id, plan.attempt)
        self.ports.submit(self.ports.workers.git, lambda: self._prepare(plan),
                          lambda e: Prepared(aid, error=f"{type(e).__name__}: {e}",
                                             cause=Cause.LOST if isinstance(e, ServerGone)
                                             else Cause.COULD_NOT_START))

    # -- in the git worker ------------------------------------------------------------------

    def _prepare(self, plan: Plan) -> Prepared:
        ports = self.ports
        t = plan.task
        aid = P.agent_id(t.id, plan.attempt)
        agent = ports.config.agents.get(plan.agent or t.spec.agent)
        if agent is None:
            return Prepared(aid, error=f"agent {plan.agent or t.spec.agent!r} is not in the "
                            "run's config", cause=Cause.COULD_NOT_START)
        adir = ports.runner.agent_dir(t.id, plan.attempt)
        wt = Path(plan.worktree)
        old = os.umask(0o077)
        try:
            adir.mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(old)
        paths = {"progress": str(adir / P.PROGRESS_FILE), "results": str(adir / P.RESULTS_FILE),
                 "worktree": str(wt)}
        if plan.resume_session:
            # The session already holds the task; it is told what to do next and where its
            # files are now (this attempt's folder is new).
            prompt = render_follow_up(t.spec, plan.attempt, paths, plan.follow_up)
        else:
            handoff = handoff_for(ports, plan) if plan.prev is not None else None
            safe = plan.guard if plan.guard is not None else _as_is
            prompt = render_prompt(
                t.spec, plan.attempt, paths, role_text=read_text(ports.swarm / "roles" /
                                                                  f"{t.spec.role}.md"),
                rules_text=read_text(ports.swarm / "rules.md"), handoff=handoff,
                ledger_text=render_for_prompt(list(plan.ledger), safe=safe), safe=safe)
        write_private(adir / P.PROMPT_FILE, prompt)
        fit = None if plan.resume_session else self._fit(plan, prompt)
        write_private(adir / P.PROGRESS_FILE, "", exist_ok=True)
        protocol = {
            P.ENV_AGENT_ID: aid, P.ENV_TASK_ID: t.id, P.ENV_ATTEMPT: str(plan.attempt),
            P.ENV_ROLE: t.spec.role, P.ENV_DEPTH: str(t.spec.depth),
            P.ENV_REPO: str(ports.repo), P.ENV_WORKTREE: str(wt), P.ENV_AGENT_DIR: str(adir),
            P.ENV_PROMPT_FILE: str(adir / P.PROMPT_FILE), P.ENV_PROGRESS_FILE: paths["progress"],
            P.ENV_RESULTS_FILE: paths["results"], P.ENV_OUTPUT_LOG: str(adir / P.OUTPUT_LOG),
            P.ENV_STATE_DB: str(ports.swarm / P.STATE_DB),
        }
        env = agent_environment(plan.env, ports.config.run.pass_env, agent.env, protocol)
        if (acct := plan.account) is not None:
            try:  # its key, under the variable its CLI reads; no other account's
                env = with_account(env, acct, credential(acct, plan.env), ports.config.accounts,
                                   agent.command)
            except NoCredential as e:
                return Prepared(aid, error=str(e), cause=Cause.COULD_NOT_START)
        try:
            box = launch_extra(
                agent.sandbox, runner=plan.runner, repo=str(ports.repo), task=t.id,
                worktree=str(wt), branch=plan.job.branch,
                where=f"agents.{plan.agent or t.spec.agent}.sandbox",
                adapter=agent.adapter)
        except SandboxError as e:
            return Prepared(aid, error=str(e), cause=Cause.COULD_NOT_START)
        argv = list(agent.command)
        extra: dict[str, object] = {}
        if agent.adapter == "claude":
            argv, env, extra = claude_start(
                swarm=ports.swarm, aid=aid, agent=agent, adir=adir, argv=argv, env=env,
                verify=t.spec.verify, allow=list(t.allow), resume_session=plan.resume_session,
                interactive=plan.interactive)
        else:
            pc = agent.permissions
            argv, extra = other_launch.launch(
                agent.adapter, argv, mode=pc.mode,
                sandbox=pc.sandbox or inner_box_off(agent.adapter, box),
                directories=tuple(pc.directories), agent_dir=str(adir),
                resume_session=plan.resume_session, earlier=plan.earlier, env=env,
                allow=(*pc.allow, *claude_launch.verify_rule(plan.task.spec.verify),
                       *plan.task.allow), deny=tuple(pc.deny))
            env = other_launch.with_env(env, extra)
        extra["sandbox"] = box
        LaunchSpec(argv=argv, cwd=str(wt), env=env, prompt_via=agent.prompt_via,
                   prompt_file=str(adir / P.PROMPT_FILE),
                   heartbeat_file=str(ports.swarm / P.HEARTBEAT_FILE),
                   orphan_timeout=ports.config.heartbeat.orphan_timeout,
                   kill_grace=ports.config.run.kill_grace,
                   log_max_bytes=ports.config.run.log_max_bytes,
                   adapter=agent.adapter, extra=extra,
                   secret_names=[*agent.secret_env, *key_names(plan.account)],
                   # A resumed attempt carries on in a worktree that was set up already.
                   setup="" if plan.job.reuse_worktree else ports.config.worktree.setup,
                   setup_timeout=ports.config.worktree.setup_timeout).write(adir)
        if fit is not None and fit.level == "over" and ports.config.context.refuse_over and (
                not t.force_context):
            return Prepared(aid, error=f"the prompt does not fit: {fit.sentence}; split the "
                            f"task, narrow its files, or `swarmtui retry {t.id} --force`",
                            cause=Cause.TOO_LARGE, fit=fit)
        start_commit = ports.runner.prepare(plan.job)
        flags = tuple(plan.guard.flags) if plan.guard is not None else ()
        copied = None
        patterns = ports.config.worktree.copy_files
        if patterns and not plan.job.reuse_worktree:
            try:
                copied = ports.runner.copy_untracked(wt, patterns)
            except OSError as e:
                return Prepared(aid, error=f"could not copy {', '.join(patterns)} into the "
                                f"worktree: {e}", cause=Cause.SETUP_FAILED, fit=fit)
        return Prepared(aid, start_commit=start_commit, fit=fit, flags=flags, copied=copied)

    def _fit(self, plan: Plan, prompt: str) -> Fit:
        """How much of the model's window the prompt and the task's declared files take."""
        cc = self.ports.config.context
        picked = pick_files(self.ports.repo, list(plan.task.spec.files))
        use_api = cc.count_with_api and plan.api_key is not None
        return fit(prompt, list(picked.files), window=cc.window, warn_at=cc.warn_at,
                   api_key=plan.api_key if use_api else None,
                   base_url=plan.base_url if use_api else None,
                   overhead=picked.unread_bytes // 4)

    # -- back on the loop -------------------------------------------------------------------

    def _current(self, aid: str) -> TaskView | None:
        rec = self.ports.state.attempts.get(aid)
        if rec is None:
            return None
        t = self.ports.state.tasks.get(rec.task)
        if t is None or t.attempt != rec.attempt or t.state.value not in ("running",
                                                                           "verifying"):
            return None
        return t

    def _record_fit(self, task: str, attempt: int, f: Fit) -> None:
        self.ports.emit(p.ContextFit(tokens=f.tokens, window=f.window,
                                   fraction=round(f.fraction, 4), counted=f.counted,
                                   level=f.level, sentence=f.sentence), task, attempt)

    def _never_started(self, aid: str, error: str = "") -> None:
        rec = self.ports.state.attempts.get(aid)
        if rec is not None and rec.exit is None:
            self.ports.emit(p.AgentExited(how=ExitHow.NOT_STARTED, error=error or None),
                          rec.task, rec.attempt)

    def prepared(self, msg: Prepared) -> None:
        ports = self.ports
        rec = ports.state.attempts.get(msg.aid)
        if rec is None:
            return
        if msg.error:
            if msg.fit is not None:
                self._record_fit(rec.task, rec.attempt, msg.fit)
            what = (msg.error if msg.cause == Cause.TOO_LARGE else
                    f"worktree setup failed: {msg.error}" if msg.cause == Cause.SETUP_FAILED
                    else f"could not start: {msg.error}")
            fail_if_current(ports, rec.task, rec.attempt, msg.cause or Cause.COULD_NOT_START,
                            what)
            self._never_started(msg.aid, msg.error)
            return
        if self._current(msg.aid) is None:
            self._never_started(msg.aid, "ended before its window opened")
            return
        if msg.fit is not None:  # recorded with its start (one transaction for a batch)
            self._fits[msg.aid] = msg.fit
        if msg.flags:
            self.ask(RecordHeld(tuple(msg.flags), rec.task, rec.attempt))
        if msg.copied is not None:
            c = msg.copied
            ports.emit(p.WorktreeCopied(files=c.files[:200], missing=c.missing,
                                      skipped=c.skipped[:200]), rec.task, rec.attempt)
        self._start_commits[msg.aid] = msg.start_commit
        self.opener.open(msg.aid, rec.window, ports.runner.agent_dir(rec.task, rec.attempt),
                         Path(rec.worktree))

    def started(self, msg: Started) -> None:
        self.started_many(WindowsOpened((msg,)))

    def started_many(self, msg: WindowsOpened) -> None:
        """A batch's ``attempt_started`` events in one transaction (one fsync); then, per
        attempt, what follows a start (its reader; an end if it was killed meanwhile)."""
        ports = self.ports
        opened: list[tuple[Started, AttemptRec]] = []
        pending: list[tuple[Fit, AttemptRec]] = []  # context fits not yet recorded
        for m in msg.items:
            rec = ports.state.attempts.get(m.aid)
            if rec is None:
                continue
            if (f := self._fits.pop(m.aid, None)) is not None:
                if m.error:
                    self._record_fit(rec.task, rec.attempt, f)
                else:
                    pending.append((f, rec))
            if m.error:
                cause = Cause.LOST if m.server_gone else Cause.COULD_NOT_START
                fail_if_current(ports, rec.task, rec.attempt, cause, f"could not start: {m.error}")
                self._never_started(m.aid, m.error)
            else:
                opened.append((m, rec))
        with ports.transaction():
            for f, rec in pending:
                self._record_fit(rec.task, rec.attempt, f)
            for m, rec in opened:
                ports.emit(p.AttemptStarted(start_commit=self._start_commits.pop(m.aid, ""),
                                            pane_pid=m.pane_pid), rec.task, rec.attempt)
        for m, rec in opened:
            ports.files_of(rec.task, rec.attempt)
            if self._current(m.aid) is None:
                # Killed or cancelled while its window was opening: end it now.
                self.ask(EndAttempt(rec.task, rec.attempt))


def runner_load(st: RunState) -> dict[str, int]:
    """Attempts whose process may still exist, per runner (where the log says they run)."""
    load: dict[str, int] = {}
    for rec in st.open_attempts():
        load[rec.runner] = load.get(rec.runner, 0) + 1
    return load


def _as_is(text: str, source: str) -> str:
    return text
