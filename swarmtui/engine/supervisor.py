"""The supervisor: one loop that owns the run.

It is the only writer of events. Other threads (the file watcher, verify runners) hand their
findings to the loop through a queue; the loop turns them into events, applies inbox commands in
order, checks liveness with one tmux call per tick, classifies health, and dispatches waiting
tasks within the slot budgets. Every state change is first checked against the state machine,
then written to the store, then applied to the in-memory projection, so the projection always
equals a replay of the log.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.agentfiles import AgentFileError, parse_progress_line, parse_results
from swarmtui.config import Config
from swarmtui.engine import scheduler
from swarmtui.engine.forecast import Candidate, Forecaster
from swarmtui.engine.ledger import LedgerEntry, entries_from_events, relevant, render_for_prompt
from swarmtui.engine.merge import Merger, MergeJob, MergeOutcome, identity_env
from swarmtui.engine.health import HealthPolicy, classify_running, result_is_stale
from swarmtui.engine.prompt import Handoff, render_prompt
from swarmtui.engine.screen import screen
from swarmtui.engine.runtime.git import GitError, GitPlumbing, GitRepo
from swarmtui.engine.runtime.tmux import PaneInfo, Tmux, TmuxError, TmuxServerGone
from swarmtui.engine.runtime.watch import DirWatcher
from swarmtui.engine.verify import VerifyOutcome, run_verify
from swarmtui.render import alert_text
from swarmtui.engine.wrap import LaunchSpec
from swarmtui.errors import InputError, SwarmError
from swarmtui.model import (
    ACTIVE,
    TERMINAL,
    Event,
    Health,
    RunState,
    RunStatus,
    TaskSpec,
    TaskState,
    TaskView,
    apply,
    check_transition,
    next_state,
)
from swarmtui.store import Command, Store
from swarmtui.tasks import make_task_id, validate_new_task

Listener = Callable[[Event], None]

# Failure reasons that start a fresh attempt automatically (kills wait for the operator).
AUTO_RETRY = ("crashed", "stuck", "verify failed", "agent reported failed", "lost", "orphan",
              "could not start", "integration failed", "usage limited")
# An agent that reports "blocked" needs a human: retrying blindly repeats it.
NEEDS_OPERATOR = ("agent reported blocked",)


@dataclass
class Live:
    """What the loop tracks for an attempt whose process may still exist."""

    task: str
    attempt: int
    agent_dir: Path
    worktree: Path
    window: str
    progress_offset: int = 0
    progress_n: int = 0
    results_sig: tuple[float, int] | None = None
    exit_settled: bool = False
    pane_seen: bool = False
    last_productive_at: float = field(default_factory=time.time)
    fingerprint: tuple[Any, ...] = ()
    next_fp_check: float = 0.0
    kill_started: float | None = None
    verifying: bool = False
    results_done_at: float | None = None


def free_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Supervisor:
    def __init__(self, repo: Path, config: Config, store: Store, tmux: Tmux, *,
                 supervisor_argv_hint: str = "") -> None:
        self.repo = Path(repo)
        self.config = config
        self.store = store
        self.tmux = tmux
        self.git = GitRepo(self.repo)
        self.plumbing = GitPlumbing(self.repo)
        self.ledger: list[LedgerEntry] = []
        self.merge_queue: deque[MergeJob] = deque()
        self.merging: MergeJob | None = None
        m = config.merge
        self.merger = Merger(self.repo, self.plumbing, method=m.method, gate=m.verify,
                             revert_on_failure=m.revert_on_failure,
                             allow_out_of_scope=m.allow_out_of_scope,
                             verify_timeout=config.verify.timeout,
                             tail_bytes=config.verify.tail_bytes)
        self.forecaster = Forecaster(self.plumbing)
        self._forecast_running = False
        self._forecast_sig: tuple[Any, ...] = ()
        self._next_forecast = 0.0
        self.swarm = P.swarm_dir(self.repo)
        self.state = RunState()
        self.run_id = 0
        self.lives: dict[str, Live] = {}  # by agent id
        self.listeners: list[Listener] = []
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.watcher: DirWatcher | None = None
        self.stop_requested = threading.Event()
        self.exit_when_done = False
        self.finished_ok: bool | None = None
        self.close_session_on_exit = False
        self._deferred: set[int] = set()
        self.alerts = 0
        self.last_alert = ""
        self._status_line = ""
        self._budget_alerted = False
        self._failure_times: list[float] = []
        self._memory_alerted = False
        self._server_gone_reported = False
        hb = config.heartbeat
        self.health_policy = HealthPolicy(
            interval=hb.progress_interval, quiet_after=hb.quiet_after,
            stuck_after=hb.stuck_after, unproductive_after=hb.unproductive_after,
            stale_result_after=hb.stale_result_after)
        self.slot_policy = scheduler.SlotPolicy(
            max_agents=config.slots.max_agents, reserve=config.slots.reserve,
            reserve_priority=config.slots.reserve_priority, pools=dict(config.slots.pools))

    # -- events ---------------------------------------------------------------------------

    def emit(self, kind: str, task: str | None = None, attempt: int | None = None,
             **data: Any) -> Event:
        probe = Event(seq=0, time=time.time(), kind=kind, task=task, attempt=attempt, data=data,
                      run=self.run_id)
        dst = next_state(self.state, probe)
        if dst is not None and task is not None:
            check_transition(task, self.state.tasks[task].state, dst)
        ev = self.store.append_event(kind, task, attempt, data, run=self.run_id)
        apply(self.state, ev)
        text = alert_text(ev)
        if text is not None:
            self._alert(ev, text)
        for listener in self.listeners:
            try:
                listener(ev)
            except Exception:  # noqa: BLE001 - a broken printer must not stop the run
                pass
        return ev

    # -- start: new run or resume -------------------------------------------------------------

    def open_run(self, tasks: list[TaskSpec], tasks_file: str) -> str:
        """Start a new run or resume the unfinished one; returns "new" or "resumed"."""
        self.swarm.mkdir(parents=True, exist_ok=True)
        (self.swarm / P.AGENTS_DIR).mkdir(exist_ok=True)
        self.git.ensure_excluded(f"/{P.SWARM_DIR}/")
        self._load_ledger()
        current = self.store.current_run()
        prior = self.store.replay(current) if current else None
        if prior is not None and prior.status not in (RunStatus.FINISHED, RunStatus.STOPPED):
            self.run_id = current
            self.state = prior
            self.emit("run_resumed", pid=os.getpid())
            for spec in tasks:
                if spec.id not in self.state.tasks:
                    self._add_task(spec)
            self._recover()
            return "resumed"
        base = self.git.head_commit()
        target = self.config.merge.target or self.git.current_branch() or ""
        self.run_id = current + 1
        self.state = RunState()
        self.emit("run_started", run=self.run_id, repo=str(self.repo), base=base, target=target,
                  tasks_file=tasks_file, pid=os.getpid())
        used = self._attempts_used()
        for spec in tasks:
            self._add_task(spec, attempt_base=used.get(spec.id, 0))
        return "new"

    def attach_to_run(self) -> None:
        """Take over the newest run's state without starting or resuming it (used by commands
        that act under the lock while no supervisor runs, e.g. `merge` after a headless run)."""
        self.run_id = self.store.current_run()
        self.state = self.store.replay(self.run_id)
        self._load_ledger()

    def _load_ledger(self) -> None:
        self.ledger = entries_from_events(self.store.events(0, kind="task_merged"))

    def _attempts_used(self) -> dict[str, int]:
        """Highest attempt number per task id over all runs, so branch names never repeat."""
        used: dict[str, int] = {}
        for ev in self.store.iter_events():
            if ev.kind == "attempt_spawned" and ev.task and ev.attempt:
                used[ev.task] = max(used.get(ev.task, 0), ev.attempt)
        return used

    def _add_task(self, spec: TaskSpec, attempt_base: int = 0) -> None:
        self.emit("task_added", spec.id, spec=spec.to_dict(), attempt_base=attempt_base)

    def _recover(self) -> None:
        """Adopt attempts still alive after a supervisor restart; settle the ones that ended."""
        panes = self._panes_or_none() or {}
        for t in list(self.state.tasks.values()):
            if t.state not in ACTIVE:
                continue
            live = self._live_for(t)
            self.lives[P.agent_id(t.id, t.attempt)] = live
            live.progress_n = t.progress_lines
            live.progress_offset = _offset_after_lines(live.agent_dir / P.PROGRESS_FILE,
                                                       t.progress_lines)
            alive = live.window in panes
            if alive:
                live.pane_seen = True
            self.emit("attempt_adopted", t.id, t.attempt, window=live.window, alive=alive)
            if t.state == TaskState.VERIFYING:
                self._start_verify(t, live)
        # Whatever happened while we were away is read from the files now.
        for live in list(self.lives.values()):
            self._read_agent_files(live)

    def _live_for(self, t: TaskView) -> Live:
        aid = P.agent_id(t.id, t.attempt)
        return Live(task=t.id, attempt=t.attempt, agent_dir=P.agent_dir(self.repo, t.id, t.attempt),
                    worktree=P.worktree_dir(self.repo, t.id, t.attempt), window=aid)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Run until stopped (or, with ``exit_when_done``, until every task is terminal)."""
        self.watcher = DirWatcher(self.swarm / P.AGENTS_DIR,
                                  lambda paths: self.inbox.put(("files", paths)))
        self.watcher.start()
        tick = self.config.heartbeat.tick
        next_tick = 0.0
        try:
            while not self.stop_requested.is_set():
                now = time.time()
                if now >= next_tick:
                    self.tick()
                    next_tick = time.time() + tick
                    if self.exit_when_done and self.finished_ok is not None:
                        return
                try:
                    kind, payload = self.inbox.get(timeout=max(0.0, next_tick - time.time()))
                except queue.Empty:
                    continue
                self._handle(kind, payload)
        finally:
            if self.watcher is not None:
                self.watcher.stop()
            if self.close_session_on_exit:
                self.tmux.kill_session()

    def _handle(self, kind: str, payload: Any) -> None:
        if kind == "files":
            by_agent: dict[str, Live] = {}
            for path in payload:
                try:
                    rel = Path(path).relative_to(self.swarm / P.AGENTS_DIR)
                except ValueError:
                    continue
                live = self.lives.get(rel.parts[0]) if rel.parts else None
                if live is not None:
                    by_agent[rel.parts[0]] = live
            for live in by_agent.values():
                self._read_agent_files(live)
        elif kind == "verify":
            self._verify_done(*payload)
        elif kind == "merged":
            self._merge_done(*payload)
        elif kind == "forecast":
            self._forecast_done(*payload)
        elif kind == "wake":
            pass

    def tick(self) -> None:
        now = time.time()
        self._touch_heartbeat()
        self._apply_commands()
        if self.stop_requested.is_set():
            return
        panes = self._panes_or_none()
        if panes is not None:
            self._check_liveness(panes, now)
        self._check_health(now)
        self._propagate_dead_dependencies()
        self._dispatch(now, panes)
        self._maybe_merge()
        self._maybe_forecast(now)
        self._check_finished()
        if panes is not None:
            self._update_status_line()

    def _alert(self, ev: Event, text: str) -> None:
        """Count it for the tmux status line and hand it to ``notify.command``, if any."""
        self.alerts += 1
        self.last_alert = text
        argv = list(self.config.notify.command)
        if not argv:
            return
        env = {**os.environ, "SWARM_ALERT_KIND": ev.kind, "SWARM_ALERT_TASK": ev.task or "",
               "SWARM_ALERT_TEXT": text, "SWARM_REPO": str(self.repo)}
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as e:
            self.last_alert = f"notify.command failed: {e}"
            return
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it, never block

    def _update_status_line(self) -> None:
        """swarmtui's tmux status line: slots and alerts, visible from every agent window."""
        used = sum(1 for t in self.state.tasks.values() if t.state in ACTIVE)
        limited = self.state.usage_limited_until
        state = ("breaker open" if self.state.breaker_open else
                 "paused" if self.state.paused else
                 f"usage-limited until {time.strftime('%H:%M', time.localtime(limited))}"
                 if limited else str(self.state.status))
        line = (f"{state} | slots {used}/{self.config.slots.max_agents} | "
                f"{self.alerts} alert{'s' if self.alerts != 1 else ''}")
        if self.last_alert:
            line += f" | {self.last_alert[:60]}"
        if line == self._status_line:
            return
        try:
            self.tmux.set_option("status-right", line.replace("#", "##"))
            self._status_line = line
        except TmuxError:
            pass

    def _touch_heartbeat(self) -> None:
        hb = self.swarm / P.HEARTBEAT_FILE
        try:
            os.utime(hb)
        except FileNotFoundError:
            hb.touch()

    # -- tmux liveness -------------------------------------------------------------------------

    def _panes_or_none(self) -> dict[str, PaneInfo] | None:
        try:
            panes = self.tmux.list_panes()
        except TmuxServerGone:
            self._server_gone()
            return None
        except TmuxError:
            return None
        self._server_gone_reported = False
        return panes

    def _server_gone(self) -> None:
        """swarmtui's tmux server vanished: every running attempt went with it."""
        running = [t for t in self.state.tasks.values() if t.state == TaskState.RUNNING]
        if not running:
            return
        if not self._server_gone_reported:
            self.emit("tmux_server_gone", count=len(running))
            self._server_gone_reported = True
        for t in running:
            live = self.lives.get(P.agent_id(t.id, t.attempt))
            if live is not None:
                # A result written before the server died still counts; the exit record (the
                # wrapper saw SIGHUP) is only the symptom, so it is read after this verdict.
                self._read_progress(t, live)
                self._read_results(t, live)
                if self.state.tasks[t.id].state != TaskState.RUNNING:
                    continue
            self._fail(self.state.tasks[t.id], "lost: the tmux server went away",
                       health=Health.LOST, counts=False)

    def _check_liveness(self, panes: dict[str, PaneInfo], now: float) -> None:
        for aid, live in list(self.lives.items()):
            pane = panes.get(live.window)
            if pane is not None and not pane.dead:
                live.pane_seen = True
                if live.kill_started is not None and (
                        now - live.kill_started > self.config.run.kill_grace + 2 * self.config.heartbeat.tick):
                    # The wrapper did not end in time; close the window (SIGHUP to all in it).
                    self.tmux.kill_window(live.window)
                    try:
                        os.killpg(pane.pane_pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                continue
            # The pane is gone: the wrapper has written exit.json unless it was killed hard.
            self._read_agent_files(live)
            t = self.state.tasks.get(live.task)
            if (t is not None and t.state == TaskState.RUNNING and t.attempt == live.attempt
                    and not (live.agent_dir / P.EXIT_FILE).exists()):
                self.emit("agent_exited", t.id, t.attempt, code=None, signal=None,
                          reason="pane vanished without exit.json")
                self._fail(t, "crashed: the pane vanished without an exit record",
                           health=Health.CRASHED)
            if not live.verifying:
                del self.lives[aid]

    # -- agent files ------------------------------------------------------------------------------

    def _read_agent_files(self, live: Live) -> None:
        t = self.state.tasks.get(live.task)
        if t is None:
            return
        current = t.attempt == live.attempt
        if current and t.state == TaskState.RUNNING:
            self._read_progress(t, live)
            self._read_results(t, live)
        self._read_exit(live)

    def _read_progress(self, t: TaskView, live: Live) -> None:
        path = live.agent_dir / P.PROGRESS_FILE
        try:
            with open(path, "rb") as f:
                f.seek(live.progress_offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return  # no complete line yet
        live.progress_offset += end + 1
        for raw in data[: end + 1].decode("utf-8", "replace").splitlines():
            line = parse_progress_line(raw)
            if line is None:
                continue
            live.progress_n += 1
            self.emit("progress", t.id, t.attempt, status=line.status[:500],
                      outputs=line.outputs, n=live.progress_n)

    def _read_results(self, t: TaskView, live: Live) -> None:
        path = live.agent_dir / P.RESULTS_FILE
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        sig = (st.st_mtime, st.st_size)
        if sig == live.results_sig:
            return
        live.results_sig = sig
        try:
            res = parse_results(path.read_text(), where=str(path.relative_to(self.repo)))
        except (AgentFileError, OSError, UnicodeDecodeError) as e:
            self.emit("results_invalid", t.id, t.attempt, error=str(e))
            return
        self.emit("results", t.id, t.attempt, **res.to_dict())
        verdict = screen(res.summary)
        if verdict.flagged:
            # Recorded and alerted; later prompts quote this summary as data, never as prose.
            self.emit("injection_flagged", t.id, t.attempt, source="results summary",
                      flags=list(verdict.flags), excerpt=res.summary[:200])
        live.results_done_at = time.time()
        if res.status == "done":
            self._start_verify(self.state.tasks[t.id], live)
        else:
            self._end_process(live)
            self._fail(self.state.tasks[t.id],
                       f"agent reported {res.status}: {res.summary[:200]}")

    def _read_exit(self, live: Live) -> None:
        if live.exit_settled:
            return
        path = live.agent_dir / P.EXIT_FILE
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return  # written atomically, so this is a partial read race; next event retries
        live.exit_settled = True
        t = self.state.tasks.get(live.task)
        if t is None:
            return
        self.emit("agent_exited", t.id, live.attempt, **{
            k: data.get(k) for k in ("code", "signal", "reason", "tokens", "cost_usd", "error")
            if data.get(k) is not None})
        if t.attempt != live.attempt or t.state != TaskState.RUNNING:
            return
        # Results are the canonical truth; an exit without them is a failure of the attempt.
        reason = data.get("reason") or "exited"
        until = data.get("usage_limited_until")
        if until is not None:
            # Not the agent's fault and not the task's: wait for the limit, then try again.
            until = float(until)
            if (self.state.usage_limited_until or 0.0) < until:
                self.emit("usage_limited", t.id, live.attempt, until=until)
            self._fail(t, "usage limited: the agent CLI hit its usage limit", counts=False,
                       not_before=until)
        elif reason == "orphan":
            self._fail(t, "orphan: the agent ended itself when the supervisor went silent",
                       health=Health.ORPHAN)
        else:
            how = (f"signal {data['signal']}" if data.get("signal") else
                   f"exit code {data.get('code')}")
            self._fail(t, f"crashed: the agent ended ({how}) without writing results.json",
                       health=Health.CRASHED)

    # -- verification ----------------------------------------------------------------------------

    def _start_verify(self, t: TaskView, live: Live) -> None:
        if t.state != TaskState.VERIFYING:
            self.emit("verify_started", t.id, t.attempt, command=t.spec.verify or "")
        live.verifying = True
        command = t.spec.verify
        if not command:
            self.inbox.put(("verify", (t.id, t.attempt, VerifyOutcome(
                passed=True, code=0, tail="no verify command: accepted on the agent's word",
                seconds=0.0))))
            return
        cfg = self.config.verify

        def work() -> None:
            try:
                out = run_verify(command, live.worktree, timeout=cfg.timeout,
                                 tail_bytes=cfg.tail_bytes, log_path=live.agent_dir / P.VERIFY_LOG)
            except Exception as e:  # noqa: BLE001 - reported as a failed verification
                out = VerifyOutcome(passed=False, code=None, tail=f"verify could not run: {e}",
                                    seconds=0.0)
            self.inbox.put(("verify", (t.id, live.attempt, out)))

        threading.Thread(target=work, name=f"verify-{t.id}", daemon=True).start()

    def _verify_done(self, task: str, attempt: int, out: VerifyOutcome) -> None:
        live = self.lives.get(P.agent_id(task, attempt))
        if live is not None:
            live.verifying = False
        t = self.state.tasks.get(task)
        if t is None or t.attempt != attempt or t.state != TaskState.VERIFYING:
            return
        if out.passed:
            self.emit("verify_passed", task, attempt, code=out.code, tail=out.tail,
                      seconds=round(out.seconds, 2))
            if self.config.merge.auto:
                self.enqueue_merge(self.state.tasks[task], auto=True, source="auto")
        else:
            self.emit("verify_failed", task, attempt, code=out.code, tail=out.tail,
                      seconds=round(out.seconds, 2), timed_out=out.timed_out)
            self._fail(t, f"verify failed (exit {out.code})" if not out.timed_out
                       else "verify failed (timed out)")

    # -- failures, retries, breaker ------------------------------------------------------------

    def _fail(self, t: TaskView, reason: str, *, health: Health | None = None,
              counts: bool = True, auto_retry: bool = True,
              not_before: float | None = None) -> None:
        data: dict[str, Any] = {"reason": reason, "counts": counts}
        if health is not None:
            data["health"] = str(health)
        self.emit("attempt_failed", t.id, t.attempt, **data)
        t = self.state.tasks[t.id]
        if counts:  # kills and lost attempts pass counts=False: not the agent's failure
            self._note_failure()
        if reason.startswith(NEEDS_OPERATOR):
            self.emit("task_dead", t.id, t.attempt,
                      reason=f"{reason} (needs an operator: `swarmtui retry {t.id} --note ...`)")
            return
        if not auto_retry or not reason.startswith(AUTO_RETRY):
            return
        limit = t.spec.max_attempts or self.config.retry.max_attempts
        if t.failures >= limit:
            self.emit("task_dead", t.id, t.attempt,
                      reason=f"gave up after {t.failures} failed attempts; last: {reason}")
            return
        delay = self.config.retry_delay(max(t.failures, 1)) if counts else 0.0
        if not_before is not None:
            delay = max(delay, not_before - time.time())
        self.emit("task_requeued", t.id, t.attempt, reason=reason,
                  not_before=time.time() + delay, delay_s=round(delay, 1))

    def _note_failure(self) -> None:
        now = time.time()
        period = self.config.breaker.period
        self._failure_times = [x for x in self._failure_times if now - x <= period]
        self._failure_times.append(now)
        if (len(self._failure_times) > self.config.breaker.max_failures
                and not self.state.breaker_open):
            self.emit("breaker_opened",
                      reason=f"{len(self._failure_times)} failures within "
                             f"{period:.0f}s (max {self.config.breaker.max_failures}); "
                             "spawning paused until `swarmtui resume`")

    # -- health ----------------------------------------------------------------------------------

    def _check_health(self, now: float) -> None:
        for t in list(self.state.tasks.values()):
            if t.state == TaskState.RUNNING:
                live = self.lives.get(P.agent_id(t.id, t.attempt))
                if live is None or live.results_done_at is not None:
                    continue
                self._update_productivity(t, live, now)
                v = classify_running(self.health_policy, now, t.started_at or now,
                                     t.last_progress_at, live.last_productive_at)
                if v.health != t.health:
                    self.emit("health", t.id, t.attempt, health=str(v.health), **v.evidence)
                if v.health == Health.STUCK and self.config.heartbeat.auto_kill:
                    self._kill(live, "stuck: no progress for "
                               f"{self.config.heartbeat.stuck_after} intervals", health=Health.STUCK)
            elif t.state == TaskState.PASSED and t.health != Health.STALE_RESULT:
                if result_is_stale(self.health_policy, now, t.result_at):
                    self.emit("health", t.id, t.attempt, health=str(Health.STALE_RESULT),
                              waiting_s=round(now - (t.result_at or now), 1),
                              note="passed result waiting to be merged")

    def _update_productivity(self, t: TaskView, live: Live, now: float) -> None:
        """Once per progress interval, look at outputs, diff and log size; any change counts as
        productive. The git call is bounded to one per agent per interval."""
        if now < live.next_fp_check:
            return
        live.next_fp_check = now + self.health_policy.interval
        try:
            log_size = (live.agent_dir / P.OUTPUT_LOG).stat().st_size
        except FileNotFoundError:
            log_size = 0
        try:
            ds = self.git.diff_stat(live.worktree, t.start_commit or self.state.base)
            diff = (ds.files, ds.insertions, ds.deletions, self.git.head_of(live.worktree))
        except (GitError, Exception):  # noqa: BLE001 - a vanished worktree is just "no diff"
            diff = ()
        if diff and (t.diff is None or (diff[0], diff[1], diff[2]) != (
                t.diff["files"], t.diff["insertions"], t.diff["deletions"])):
            self.emit("diff", t.id, t.attempt, files=diff[0], insertions=diff[1],
                      deletions=diff[2])
        fp = (t.outputs, diff, log_size)
        if fp != live.fingerprint:
            live.fingerprint = fp
            live.last_productive_at = now

    # -- killing ---------------------------------------------------------------------------------

    def _end_process(self, live: Live) -> None:
        """Ask the wrapper to end the agent: it TERMs the agent's group, KILLs after grace."""
        if live.kill_started is not None:
            return
        live.kill_started = time.time()
        try:
            pid = int((live.agent_dir / P.WRAP_PID_FILE).read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            self.tmux.kill_window(live.window)

    def _kill(self, live: Live, reason: str, *, health: Health | None = None,
              auto_retry: bool = True) -> None:
        t = self.state.tasks[live.task]
        self._end_process(live)
        if t.state in ACTIVE and t.attempt == live.attempt:
            self._fail(t, reason, health=health, auto_retry=auto_retry,
                       counts=not reason.startswith("killed"))

    # -- dispatch --------------------------------------------------------------------------------

    def _propagate_dead_dependencies(self) -> None:
        for t in list(self.state.tasks.values()):
            if t.state not in (TaskState.PENDING, TaskState.BLOCKED):
                continue
            for dep in t.spec.depends_on:
                d = self.state.tasks.get(dep)
                if d is not None and d.state in (TaskState.DEAD, TaskState.CANCELLED):
                    self.emit("task_dead", t.id, reason=f"dependency {dep} is {d.state}")
                    break
                if (d is not None and self.config.merge.auto and d.state == TaskState.PASSED
                        and d.merge_note and not self._merge_pending(dep)):
                    # Auto-merge refused it: this task would build on work that is not there.
                    self.emit("task_dead", t.id, reason=f"dependency {dep} passed but was not "
                              f"merged ({d.merge_note[:120]}); merge it, then retry {t.id}")
                    break

    def _dispatch(self, now: float, panes: dict[str, PaneInfo] | None) -> None:
        dispatch = not (self.state.paused or self.state.breaker_open)
        limited = self.state.usage_limited_until
        if limited is not None:
            if now < limited:
                dispatch = False
            else:
                self.emit("usage_limit_lifted", until=limited)
        budget = self.config.budget.max_cost_usd
        if budget > 0:
            spent = sum(t.cost_usd for t in self.state.tasks.values())
            if spent >= budget:
                dispatch = False
                if not self._budget_alerted:
                    self.emit("budget_exhausted", spent_usd=round(spent, 4), budget_usd=budget)
                    self._budget_alerted = True
        mem = free_memory_bytes()
        floor = self.config.slots.min_free_memory
        memory_ok = mem is None or mem >= floor
        if not memory_ok and not self._memory_alerted:
            self.emit("memory_low", available=mem, floor=floor)
            self._memory_alerted = True
        elif memory_ok:
            self._memory_alerted = False
        # Attempts already failed in the log but whose process has not gone yet still hold a
        # slot: kill before spawn, so max_agents is never exceeded.
        lingering = sum(1 for lv in self.lives.values()
                        if self.state.tasks[lv.task].state not in ACTIVE
                        and not lv.exit_settled and lv.pane_seen)
        policy = self.slot_policy
        if lingering:
            policy = scheduler.SlotPolicy(max_agents=policy.max_agents - lingering,
                                          reserve=policy.reserve,
                                          reserve_priority=policy.reserve_priority,
                                          pools=policy.pools)
        plan = scheduler.plan(self.state, policy, now, dispatch=dispatch and panes is not None
                              or (dispatch and self._ensure_session()), memory_ok=memory_ok,
                              require_merged=self.config.merge.auto)
        for tid, reason in plan.block.items():
            self.emit("task_blocked", tid, reason=reason)
        for tid in plan.unblock:
            if tid not in plan.start:
                self.emit("task_unblocked", tid)
        for tid in plan.start:
            self._spawn(self.state.tasks[tid])

    def _ensure_session(self) -> bool:
        """Recreate the session (headless runs, or after the server was killed)."""
        try:
            if not self.tmux.has_session():
                self.tmux.new_session(
                    [sys.executable, "-m", "swarmtui", "events", "--follow", "--repo",
                     str(self.repo)], cwd=self.repo)
            return True
        except TmuxError as e:
            self.emit("tmux_error", error=str(e))
            return False

    def _spawn(self, t: TaskView) -> None:
        if not self._ensure_session():
            return
        attempt = t.attempt + 1
        while (self.git.branch_exists(P.branch_name(t.id, attempt))
               or P.worktree_dir(self.repo, t.id, attempt).exists()
               or P.agent_dir(self.repo, t.id, attempt).exists()):
            attempt += 1  # left over from an earlier run or by hand: never reuse it
        aid = P.agent_id(t.id, attempt)
        adir = P.agent_dir(self.repo, t.id, attempt)
        wt = P.worktree_dir(self.repo, t.id, attempt)
        prev = t.attempt if t.attempt > t.attempt_base else None
        # Start from the target's tip, so an attempt sees whatever has been merged so far.
        start = self.plumbing.rev(self.state.target) if self.state.target else None
        start = start or self.state.base
        resolve = t.resolve if prev is not None else None
        if resolve is not None:
            start = P.branch_name(t.id, prev)  # a resolver continues the task's own branch
        elif prev is not None and self.config.retry.continue_from_previous:
            prev_branch = P.branch_name(t.id, prev)
            if self.git.branch_exists(prev_branch):
                start = prev_branch
        agent = self.config.agents[t.spec.agent]
        adir.mkdir(parents=True, exist_ok=True)
        paths = {"progress": str(adir / P.PROGRESS_FILE), "results": str(adir / P.RESULTS_FILE)}
        handoff = self._handoff(t, prev, resolve) if prev is not None else None
        prompt = render_prompt(t.spec, attempt, paths, role_text=self._read_opt(
            self.swarm / "roles" / f"{t.spec.role}.md"), rules_text=self._read_opt(
            self.swarm / "rules.md"), handoff=handoff,
            ledger_text=render_for_prompt(relevant(self.ledger, t.spec.files)))
        (adir / P.PROMPT_FILE).write_text(prompt)
        (adir / P.PROGRESS_FILE).touch()
        env = {
            P.ENV_AGENT_ID: aid, P.ENV_TASK_ID: t.id, P.ENV_ATTEMPT: str(attempt),
            P.ENV_ROLE: t.spec.role, P.ENV_DEPTH: str(t.spec.depth), P.ENV_REPO: str(self.repo),
            P.ENV_WORKTREE: str(wt), P.ENV_AGENT_DIR: str(adir),
            P.ENV_PROMPT_FILE: str(adir / P.PROMPT_FILE),
            P.ENV_PROGRESS_FILE: paths["progress"], P.ENV_RESULTS_FILE: paths["results"],
            P.ENV_OUTPUT_LOG: str(adir / P.OUTPUT_LOG),
            P.ENV_STATE_DB: str(self.swarm / P.STATE_DB),
            **agent.env,
        }
        LaunchSpec(argv=list(agent.command), cwd=str(wt), env=env, prompt_via=agent.prompt_via,
                   prompt_file=str(adir / P.PROMPT_FILE),
                   heartbeat_file=str(self.swarm / P.HEARTBEAT_FILE),
                   orphan_timeout=self.config.heartbeat.orphan_timeout,
                   kill_grace=self.config.run.kill_grace,
                   log_max_bytes=self.config.run.log_max_bytes,
                   adapter=agent.adapter).write(adir)
        try:
            self.git.add_worktree(wt, P.branch_name(t.id, attempt), start)
        except GitError as e:
            self.emit("attempt_spawned", t.id, attempt, window=aid, worktree=str(wt),
                      branch=P.branch_name(t.id, attempt), agent=t.spec.agent)
            self._fail(self.state.tasks[t.id], f"could not start: {e}")
            return
        if resolve is not None:
            # Leave the target merged in with its conflict markers for the resolver to finish.
            self.plumbing.merge_in_worktree(wt, self.state.target,
                                            f"swarm: merge {self.state.target} into {t.id}",
                                            env=identity_env(self.repo))
        # Record the attempt before its process exists: a crash between the two leaves a
        # recorded attempt with no pane, which recovery settles as crashed and retries. The
        # reverse order could leave an unrecorded agent running twice.
        self.emit("attempt_spawned", t.id, attempt, window=aid, worktree=str(wt),
                  branch=P.branch_name(t.id, attempt), base=start, agent=t.spec.agent,
                  handoff=handoff is not None, start_commit=self.plumbing.rev(start) or "")
        live = Live(task=t.id, attempt=attempt, agent_dir=adir, worktree=wt, window=aid)
        self.lives[aid] = live
        try:
            self.tmux.new_window(aid, [sys.executable, "-m", "swarmtui", "wrap", str(adir)],
                                 cwd=wt)
            live.pane_seen = True
        except TmuxError as e:
            live.exit_settled = True
            self._fail(self.state.tasks[t.id], f"could not start: tmux: {e}")

    @staticmethod
    def _read_opt(path: Path) -> str:
        try:
            return path.read_text()
        except OSError:
            return ""

    def _handoff(self, t: TaskView, prev: int,
                 resolve: dict[str, Any] | None = None) -> Handoff:
        adir = P.agent_dir(self.repo, t.id, prev)
        progress = self._read_opt(adir / P.PROGRESS_FILE).splitlines()[-10:]
        summary = ""
        try:
            summary = parse_results(self._read_opt(adir / P.RESULTS_FILE)).summary
        except AgentFileError:
            pass
        diff = ""
        wt = P.worktree_dir(self.repo, t.id, prev)
        if wt.exists():
            diff = self.git.diff_stat_text(wt, t.start_commit or self.state.base)
        return Handoff(previous_attempt=prev, reason=t.reason,
                       previous_branch=P.branch_name(t.id, prev), progress_tail=progress,
                       summary=summary, diff_stat=diff, verify_tail=t.verify_tail,
                       note=t.retry_note, target=self.state.target,
                       conflicts=list((resolve or {}).get("conflicts") or []),
                       their_intent=list((resolve or {}).get("theirs") or []))

    # -- finishing -------------------------------------------------------------------------------

    def _check_finished(self) -> None:
        tasks = list(self.state.tasks.values())
        done = bool(tasks) and all(t.state in TERMINAL for t in tasks)
        # Finished also means quiet: no verification or merge in flight, and every process
        # that was ended has been seen to exit (its exit record is in the log).
        lingering = any(lv.pane_seen and not lv.exit_settled for lv in self.lives.values())
        if done and not lingering and not any(lv.verifying for lv in self.lives.values()) and not (
                self.merge_queue or self.merging):
            ok = all(t.state in (TaskState.PASSED, TaskState.MERGED) for t in tasks)
            if self.finished_ok is None:
                self.finished_ok = ok
                if self.exit_when_done and self.state.status != RunStatus.FINISHED:
                    self.emit("run_finished", ok=ok,
                              summary={s: sum(1 for t in tasks if t.state == s)
                                       for s in sorted({str(t.state) for t in tasks})})
        else:
            self.finished_ok = None

    # -- inbox commands --------------------------------------------------------------------------

    def _apply_commands(self) -> None:
        for cmd in self.store.pending_commands():
            if cmd.id in self._deferred:
                continue
            if self.stop_requested.is_set():
                return  # after `down`, later commands wait for the next supervisor
            try:
                status, result = self._apply(cmd)
            except SwarmError as e:
                status, result = "failed", {"error": str(e)}
            except Exception as e:  # noqa: BLE001 - one bad command must not kill the run
                status, result = "failed", {"error": f"{type(e).__name__}: {e}"}
            if status == "deferred":
                # Answered when the work is done (a merge waits in the queue); mark it taken
                # so the next tick does not apply it again.
                self._deferred.add(cmd.id)
                continue
            self._answer(cmd.id, cmd.kind, cmd.source, status, result)

    def _answer(self, cid: int, kind: str, source: str, status: str,
                result: dict[str, Any]) -> None:
        self._deferred.discard(cid)
        self.store.finish_command(cid, status, result)
        self.emit("command_applied", result.get("task"), id=cid, command=kind,
                  source=source, status=status, result=result)

    def _apply(self, cmd: Command) -> tuple[str, dict[str, Any]]:
        a = cmd.args
        k = cmd.kind
        if k == "pause":
            if not self.state.paused:
                self.emit("dispatch_paused", by=cmd.source)
            return "done", {"message": "dispatch paused; running agents continue"}
        if k == "resume":
            if self.state.paused or self.state.breaker_open:
                self.emit("dispatch_resumed", by=cmd.source)
            self._failure_times.clear()
            return "done", {"message": "dispatch resumed"}
        if k == "add":
            spec = self._spec_from_args(a, manual=True, source=cmd.source)
            self._add_task(spec)
            return "done", {"task": spec.id, "message": f"added {spec.id}"}
        if k == "spawn":
            return self._apply_spawn(cmd)
        if k == "down":
            self.stop(keep_agents=bool(a.get("keep_agents")))
            return "done", {"message": "run stopped"}
        tid = a.get("task", "")
        t = self.state.tasks.get(tid)
        if t is None:
            return "failed", {"task": tid, "error": f"no task {tid!r} in this run"}
        if k == "kill":
            if t.state not in ACTIVE:
                return "failed", {"task": tid, "error": f"{tid} is {t.state}, not running"}
            live = self.lives.get(P.agent_id(t.id, t.attempt)) or self._live_for(t)
            self.lives.setdefault(live.window, live)
            self._kill(live, "killed by operator", auto_retry=False)
            return "done", {"task": tid, "message": f"killed {tid}; worktree kept; "
                            f"`swarmtui retry {tid}` starts a fresh attempt"}
        if k == "retry":
            note = str(a.get("note") or "")
            if t.state in ACTIVE:
                live = self.lives.get(P.agent_id(t.id, t.attempt)) or self._live_for(t)
                self.lives.setdefault(live.window, live)
                self._kill(live, "killed for a retry by operator", auto_retry=False)
                t = self.state.tasks[tid]
            if t.state not in (TaskState.FAILED, TaskState.DEAD, TaskState.PASSED):
                return "failed", {"task": tid, "error": f"{tid} is {t.state}; nothing to retry"}
            self.emit("task_requeued", tid, t.attempt, reason=t.reason or "retry by operator",
                      note=note, not_before=0.0, manual=True)
            return "done", {"task": tid, "message": f"{tid} queued for a fresh attempt"}
        if k == "cancel":
            if t.state in (TaskState.PASSED, TaskState.MERGED, TaskState.CANCELLED):
                return "refused", {"task": tid, "reason": f"{tid} is {t.state}; nothing to "
                                   "cancel"}
            if t.state in ACTIVE:
                live = self.lives.get(P.agent_id(t.id, t.attempt)) or self._live_for(t)
                self.lives.setdefault(live.window, live)
                self._kill(live, "killed: cancelled by operator", auto_retry=False)
            self.emit("task_cancelled", tid, reason=f"cancelled by {cmd.source}")
            return "done", {"task": tid, "message": f"cancelled {tid}; its worktree and branch "
                            "are kept until `swarmtui gc`"}
        if k == "merge":
            if t.state != TaskState.PASSED:
                return "refused", {"task": tid, "reason": f"{tid} is {t.state}; only a passed "
                                   "task can be merged"}
            if self._merge_pending(tid):
                return "refused", {"task": tid, "reason": f"{tid} is already in the merge queue"}
            self.enqueue_merge(t, auto=False, source=cmd.source, command_id=cmd.id)
            return "deferred", {}
        if k == "resolve":
            return self._apply_resolve(t)
        if k == "verify":
            if t.result_status != "done" or t.state not in (TaskState.PASSED, TaskState.FAILED):
                return "failed", {"task": tid, "error": f"{tid} has no finished result to verify "
                                  f"(state {t.state})"}
            live = self.lives.get(P.agent_id(t.id, t.attempt)) or self._live_for(t)
            live.exit_settled = True
            self.lives.setdefault(live.window, live)
            self._start_verify(t, live)
            return "done", {"task": tid, "message": f"verifying {tid}"}
        return "failed", {"error": f"unknown command {k!r}"}

    def _spec_from_args(self, a: dict[str, Any], *, manual: bool, source: str,
                        parent: TaskView | None = None) -> TaskSpec:
        prompt = str(a.get("prompt") or "").strip()
        if not prompt:
            raise InputError("a task needs a prompt")
        tid = a.get("id") or make_task_id(prompt, self.state.tasks.keys())
        # A sub-agent does not inherit its parent's role (an orchestrator's children are
        # workers unless it asks otherwise); its agent CLI it does inherit.
        role = a.get("role") or self.config.run.default_role
        agent = a.get("agent") or (parent.spec.agent if parent else self.config.run.default_agent)
        spec = TaskSpec(
            id=tid, title=a.get("title") or prompt.splitlines()[0][:60], prompt=prompt,
            role=role, agent=agent, files=tuple(a.get("files") or ()),
            verify=a.get("verify") or None, depends_on=tuple(a.get("depends_on") or ()),
            max_attempts=a.get("max_attempts"), priority=int(a.get("priority") or 0),
            source=source, parent=parent.id if parent else None,
            depth=(parent.spec.depth + 1) if parent else 0, manual=manual)
        validate_new_task(spec, existing=self.state.tasks.keys(), roles=self.config.roles,
                          agents=self.config.agents.keys(), where=f"swarmtui {source}")
        return spec

    def _apply_spawn(self, cmd: Command) -> tuple[str, dict[str, Any]]:
        a = cmd.args
        req = str(a.get("requester") or "")
        parent = self.state.tasks.get(req)

        def refuse(reason: str) -> tuple[str, dict[str, Any]]:
            self.emit("spawn_refused", req or None, reason=reason, requester=req,
                      prompt=str(a.get("prompt", ""))[:200])
            return "refused", {"task": req or None, "reason": reason}

        if parent is None:
            return refuse(f"requester {req!r} is not a task of this run")
        if parent.state not in ACTIVE:
            return refuse(f"requester {req} is {parent.state}, not running")
        depth = parent.spec.depth + 1
        if depth > self.config.slots.max_depth:
            return refuse(f"depth {depth} exceeds slots.max_depth = {self.config.slots.max_depth}")
        budget = self.config.slots.subtree_budget
        node: TaskView | None = parent
        while node is not None:
            used = self._descendants(node.id)
            if used + 1 > budget:
                return refuse(f"subtree budget of {node.id} exhausted ({used} of {budget} "
                              "sub-agents used; slots.subtree_budget)")
            node = self.state.tasks.get(node.spec.parent) if node.spec.parent else None
        spec = self._spec_from_args(a, manual=True, source=f"spawn:{req}", parent=parent)
        self._add_task(spec)
        return "done", {"task": spec.id, "parent": req, "message": f"spawned {spec.id}"}

    def _descendants(self, tid: str) -> int:
        n = 0
        stack = list(self.state.tasks[tid].children)
        while stack:
            c = stack.pop()
            n += 1
            stack.extend(self.state.tasks[c].children if c in self.state.tasks else [])
        return n

    # -- merge queue -----------------------------------------------------------------------------

    def _merge_job(self, t: TaskView, *, auto: bool, source: str,
                   command_id: int | None = None) -> MergeJob:
        files: list[str] = []
        dnr = False
        try:
            res = parse_results(self._read_opt(P.agent_dir(self.repo, t.id, t.attempt)
                                               / P.RESULTS_FILE))
            files, dnr = list(res.files_modified), res.do_not_revert
        except AgentFileError:
            pass
        return MergeJob(task=t.id, attempt=t.attempt, title=t.spec.title,
                        branch=P.branch_name(t.id, t.attempt),
                        target=self.state.target, summary=t.summary, files_modified=files,
                        do_not_revert=dnr, scope=t.spec.files, auto=auto,
                        command_id=command_id, source=source)

    def _merge_pending(self, tid: str) -> bool:
        return any(j.task == tid for j in self.merge_queue) or (
            self.merging is not None and self.merging.task == tid)

    def enqueue_merge(self, t: TaskView, *, auto: bool, source: str,
                      command_id: int | None = None) -> None:
        job = self._merge_job(t, auto=auto, source=source, command_id=command_id)
        self.merge_queue.append(job)
        self.emit("merge_queued", t.id, t.attempt, auto=auto, by=source,
                  position=len(self.merge_queue))

    def _maybe_merge(self) -> None:
        """Merges run one at a time, in a worker thread (an integration check can be long)."""
        if self.merging is not None or not self.merge_queue:
            return
        job = self.merge_queue.popleft()
        self.merging = job
        ledger = list(self.ledger)

        def work() -> None:
            try:
                out = self.merger.merge(job, ledger)
            except Exception as e:  # noqa: BLE001 - reported as a refused merge
                out = MergeOutcome("refused", f"merge failed: {type(e).__name__}: {e}")
            self.inbox.put(("merged", (job, out)))

        threading.Thread(target=work, name=f"merge-{job.task}", daemon=True).start()

    def merge_now(self, t: TaskView, source: str) -> MergeOutcome:
        """Merge synchronously under the lock (no supervisor loop running)."""
        job = self._merge_job(t, auto=False, source=source)
        self.merging = job
        out = self.merger.merge(job, list(self.ledger))
        self._merge_done(job, out)
        return out

    def _merge_done(self, job: MergeJob, out: MergeOutcome) -> None:
        self.merging = None
        t = self.state.tasks.get(job.task)
        current = t is not None and t.attempt == job.attempt and t.state == TaskState.PASSED
        data = out.to_dict()
        if out.status == "merged" and t is not None:
            if current:
                ev = self.emit("task_merged", job.task, job.attempt, branch=job.branch,
                               target=job.target, method=self.config.merge.method,
                               summary=job.summary, files_modified=job.files_modified,
                               do_not_revert=job.do_not_revert, added=out.added,
                               commit=out.commit, verify_tail=out.verify_tail,
                               landed_despite_failure=out.landed_despite_failure,
                               noop=out.noop)
                self.ledger.extend(entries_from_events([ev]))
                if out.landed_despite_failure:
                    self.emit("integration_failed", job.task, job.attempt, tail=out.verify_tail,
                              reason="merge.verify failed; landed anyway "
                                     "(merge.revert_on_failure = false)")
                self._write_back_feature(self.state.tasks[job.task])
            else:  # the task moved on meanwhile; the commit still landed, so say so
                self.emit("merge_landed", job.task, job.attempt, commit=out.commit,
                          note=f"merged while the task was {t.state}")
            status, msg = "done", f"merged {job.task} into {job.target} ({(out.commit or '')[:10]})"
        elif out.status == "integration_failed" and t is not None:
            self.emit("integration_failed", job.task, job.attempt, tail=out.verify_tail,
                      reason=out.reason)
            if current:
                self._fail(t, f"integration failed: {out.reason}")
            status, msg = "failed", out.reason
        else:
            self.emit("merge_refused", job.task, job.attempt, **{
                k: v for k, v in data.items() if k in ("reason", "conflicts", "dirty",
                                                        "out_of_scope", "reverts")})
            status, msg = "refused", out.reason
        if job.command_id is not None:
            self._answer(job.command_id, "merge", job.source, status,
                         {"task": job.task, "message": msg, "reason": out.reason,
                          "commit": out.commit, "conflicts": out.conflicts, "dirty": out.dirty})

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
            self.emit("feature_writeback_failed", t.id, file=str(path), index=idx, error=str(e))
            return
        self.emit("feature_passed", t.id, file=str(path), index=idx)

    def _apply_resolve(self, t: TaskView) -> tuple[str, dict[str, Any]]:
        if t.state != TaskState.PASSED:
            return "refused", {"task": t.id, "reason": f"{t.id} is {t.state}; resolve is for "
                               "a passed task whose merge conflicts"}
        target = self.plumbing.rev(self.state.target)
        head = self.plumbing.rev(P.branch_name(t.id, t.attempt))
        conflicts = list(t.conflicts)
        if target and head:
            mt = self.plumbing.merge_tree(target, head)
            conflicts = list(mt.conflicts)
        if not conflicts:
            return "refused", {"task": t.id, "reason": f"{t.id} merges cleanly into "
                               f"{self.state.target}; nothing to resolve"}
        theirs = [f"{e.task}: {e.summary.strip() or '(no summary)'}" for e in self.ledger
                  if set(e.files) & set(conflicts)]
        self.emit("task_requeued", t.id, t.attempt, reason="resolving merge conflicts with "
                  f"{self.state.target} in {', '.join(conflicts)}", not_before=0.0,
                  manual=True, resolve={"conflicts": conflicts, "theirs": theirs[-10:]})
        return "done", {"task": t.id, "message": f"resolver attempt queued for {t.id} "
                        f"({len(conflicts)} conflicting files)"}

    # -- forecast --------------------------------------------------------------------------------

    def _maybe_forecast(self, now: float) -> None:
        if self._forecast_running or now < self._next_forecast or not self.state.target:
            return
        self._next_forecast = now + max(self.config.heartbeat.tick, 2.0)
        live = [t for t in self.state.tasks.values()
                if t.state in (TaskState.RUNNING, TaskState.VERIFYING, TaskState.PASSED)
                and t.attempt > t.attempt_base]
        if not live:
            return
        try:
            heads = self.plumbing.heads("refs/heads/swarm/")
            target = self.plumbing.rev(self.state.target)
        except GitError:
            return
        cands = [Candidate(task=t.id, branch=P.branch_name(t.id, t.attempt),
                           head=heads[P.branch_name(t.id, t.attempt)], files=t.spec.files)
                 for t in live if P.branch_name(t.id, t.attempt) in heads]
        sig = (target, tuple((c.task, c.head) for c in cands), len(self.ledger))
        if sig == self._forecast_sig:
            return  # nothing moved since the last forecast
        self._forecast_running = True
        ledger = list(self.ledger)
        target_branch = self.state.target

        def work() -> None:
            try:
                result = self.forecaster.forecast(target_branch, cands, ledger)
            except Exception:  # noqa: BLE001 - a forecast is advisory; try again next time
                result = None
            self.inbox.put(("forecast", (sig, result)))

        threading.Thread(target=work, name="forecast", daemon=True).start()

    def _forecast_done(self, sig: tuple[Any, ...], result: dict[str, dict[str, Any]] | None
                       ) -> None:
        self._forecast_running = False
        if result is None:
            return
        self._forecast_sig = sig
        for tid, fc in result.items():
            t = self.state.tasks.get(tid)
            if t is None:
                continue
            if t.forecast != {k: fc.get(k) for k in ("target", "files", "conflicts_with",
                                                     "out_of_scope", "reverts")}:
                self.emit("forecast", tid, t.attempt, **fc)

    # -- stop ------------------------------------------------------------------------------------

    def stop(self, *, keep_agents: bool = False) -> None:
        """End the run: kill every agent (unless kept), record each, end the session."""
        if not keep_agents:
            for t in list(self.state.tasks.values()):
                if t.state in ACTIVE:
                    live = self.lives.get(P.agent_id(t.id, t.attempt)) or self._live_for(t)
                    self.lives.setdefault(live.window, live)
                    self._kill(live, "killed: the run was stopped (swarmtui down)",
                               auto_retry=False)
            deadline = time.time() + self.config.run.kill_grace + 1
            while time.time() < deadline and any(
                    not (lv.agent_dir / P.EXIT_FILE).exists() for lv in self.lives.values()
                    if lv.pane_seen and not lv.exit_settled):
                time.sleep(0.05)  # bounded wait for wrappers to record their exits
            for lv in list(self.lives.values()):
                self._read_exit(lv)
        self.emit("run_stopped", keep_agents=keep_agents)
        # The session goes last, after the loop has answered the command: window 0 may be
        # this very process.
        self.close_session_on_exit = not keep_agents
        self.stop_requested.set()


def _offset_after_lines(path: Path, n: int) -> int:
    """Byte offset just past the first ``n`` complete non-empty lines of ``path``."""
    if n <= 0:
        return 0
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    seen = 0
    pos = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        pos += len(line)
        if line.strip():
            seen += 1
            if seen >= n:
                return pos
    return pos


__all__ = ["Supervisor", "Live", "free_memory_bytes"]
