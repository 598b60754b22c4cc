"""Turning what an attempt's files say into events: progress lines, results, exit records.

Called when the watcher reports a change under an attempt's folder, when a results.json that
was still being written is due for another look, from a slow stat sweep every few seconds (so a
watcher that lost its folder blinds nothing: a worker stats the files, ``looks.py``, and only
what holds something new is read here), and whenever liveness needs the last word before
settling an attempt.
"""

from __future__ import annotations

import os

from swarmtui import protocol as P
from swarmtui.config.hosts import LOCAL_HOST
from swarmtui.engine.attempts.failures import fail_if_current
from swarmtui.engine.attempts.looks import READS_PER_TICK, Sweep, look, to_read
from swarmtui.engine.attempts.signalpayload import signal_payload
from swarmtui.engine.intents import (
    AfterExit,
    Ask,
    AttemptExited,
    ContextSignal,
    EndAttempt,
    ReadAttempt,
    ScreenText,
    SettleAttempt,
    StartVerify,
    SweepAttempts,
    WrapperAlive,
)
from swarmtui.engine.messages import FilesChanged, Recheck
from swarmtui.engine.ports import Ports, redactor_for
from swarmtui.engine.runtime import proc
from swarmtui.engine.runtime.files import Refused
from swarmtui.engine.runtime.ingest import ResultsSeen
from swarmtui.model import Cause, TaskState
from swarmtui.model import payloads as p
from swarmtui.model.kinds import Refusal
from swarmtui.model.state import AttemptRec
from swarmtui.store import StoreUnavailable
from swarmtui.textsafe import clean_text

RECHECK_S = 0.3
DRAIN_LOOKS = 64  # reads of 256 KiB per file when draining an attempt that exited


class AttemptReader:
    """Owns ``ReadAttempt``, ``SettleAttempt`` and ``SweepAttempts``."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        self.redact = redactor_for(ports)
        self._agents = ports.swarm / P.AGENTS_DIR
        self._sweep = Sweep()
        self._rechecks: set[str] = set()

    def changed(self, msg: FilesChanged) -> None:
        if msg.paths is None:
            self.sweep()
            return
        # Which files of which attempts changed, from the paths' text alone (a batch can hold
        # thousands of output.log writes: no Path objects per path).
        prefix = f"{self._agents}{os.sep}"
        changed: dict[str, set[str]] = {}
        for path in msg.paths:
            s = str(path)
            if not s.startswith(prefix):
                continue
            aid, _, name = s[len(prefix):].partition(os.sep)
            if aid and name != P.OUTPUT_LOG:  # the log is the pane's: it says nothing here
                changed.setdefault(aid, set()).add(name)
        st = self.ports.state
        self._read_batch([(rec, names) for aid, names in changed.items()
                          if (rec := st.attempts.get(aid)) is not None])

    def _read_batch(self, items: list[tuple[AttemptRec, set[str] | None]]) -> None:
        """Read what changed (``None``: every file) of several attempts: their progress lines
        first, written in one transaction, then each one's other files."""
        st = self.ports.state
        progress: list[tuple[p.Payload, str | None, int | None]] = []
        starts: dict[tuple[str, int], tuple[int, int]] = {}
        for rec, names in items:
            if names is None or P.PROGRESS_FILE in names:
                t = st.tasks.get(rec.task)
                if t is not None and t.attempt == rec.attempt and t.state == TaskState.RUNNING:
                    progress += self._progress_items(rec.task, rec.attempt, starts)
        if progress:
            self._emit_progress(progress, starts)
        for rec, names in items:
            if names is not None and not names - {P.PROGRESS_FILE}:
                continue
            if rec.id in st.attempts:
                # Progress read above need not be read again, but before settling an exit it
                # is; a change named by its folder alone (a new folder's files are not
                # reported one by one) calls for everything.
                read_above = names is None or P.PROGRESS_FILE in names
                self.read(rec.task, rec.attempt, skip_progress=(
                    read_above and (names is None or P.EXIT_FILE not in names)))

    def recheck(self, msg: Recheck) -> None:
        self._rechecks.discard(msg.aid)
        rec = self.ports.state.attempts.get(msg.aid)
        if rec is not None:
            self.read(rec.task, rec.attempt)

    def sweep_now_and_then(self, now: float) -> None:
        """Every ``SWEEP_S``: a worker looks at every open attempt's files (a change the watch
        missed), and the ticks after its look is back read what may hold something new, at
        most ``READS_PER_TICK`` attempts each (``looks.py``)."""
        sw = self._sweep
        if sw.planned():
            self._read_planned()
        if sw.due(now):
            swarm, aids, pool = self.ports.swarm, sorted(self._open_aids()), self.ports.workers
            sw.start(now, aids, lambda since: pool.files.submit(look, swarm, aids, since))
            if sw.planned():  # a full read (no look to wait for): its first part now
                self._read_planned()

    def _read_planned(self) -> None:
        """The next attempts of the sweep under way whose files may hold something unread."""
        st, sw = self.ports.state, self._sweep
        items: list[tuple[AttemptRec, set[str] | None]] = []
        while len(items) < READS_PER_TICK and (nxt := sw.next()) is not None:
            aid, stats = nxt
            rec = st.attempts.get(aid)
            if rec is None:
                continue
            f = self.ports.files_of(rec.task, rec.attempt)
            names: set[str] | None = None
            if stats is None:
                f.look_again()  # whatever its stat says
            else:
                t = st.tasks.get(rec.task)
                current = (t is not None and t.attempt == rec.attempt
                           and t.state == TaskState.RUNNING)
                names = to_read(f, stats, sw.since_ns, unrecorded=rec.exit is None,
                                unsettled=current and rec.exit_record is not None)
            if names is None or names:
                items.append((rec, names))
        self._read_batch(items)

    def sweep_attempts(self, it: SweepAttempts) -> None:
        self.sweep()

    def read_attempt(self, it: ReadAttempt) -> None:
        self.read(it.task, it.attempt, skip_progress=it.skip_progress)

    def settle_attempt(self, it: SettleAttempt) -> None:
        self.settle(it.task, it.attempt)

    def sweep(self) -> None:
        """Read every open attempt here (the watcher restarted, the run is stopping)."""
        st = self.ports.state
        self._read_batch([(rec, None) for aid in sorted(self._open_aids())
                          if (rec := st.attempts.get(aid)) is not None])

    def _open_aids(self) -> set[str]:
        st = self.ports.state
        aids = {a.id for a in st.open_attempts()}
        return aids | {P.agent_id(t.id, t.attempt) for t in st.tasks.values()
                       if t.state == TaskState.RUNNING}

    # -- one attempt ------------------------------------------------------------------------

    def read(self, task: str, attempt: int, *, skip_progress: bool = False) -> None:
        ports = self.ports
        t = ports.state.tasks.get(task)
        rec = ports.state.attempts.get(P.agent_id(task, attempt))
        if t is None or rec is None:
            return
        if t.attempt == attempt and t.state == TaskState.RUNNING:
            if not skip_progress:
                self._progress(task, attempt)
            self._signals(task, attempt)
            self._results(task, attempt)
        if ports.state.attempts[rec.id].exit is None:
            self._record_exit(task, attempt)
        self.settle(task, attempt)

    def _refused(self, task: str, attempt: int, name: str, e: Refused) -> None:
        f = self.ports.files_of(task, attempt)
        if name in f.refused:
            return
        f.refused.add(name)
        self.ports.emit(p.FileRefused(file=name, why=clean_text(str(e))[:1000], refusal=e.refusal,
                                    limit=e.limit), task, attempt)

    def _progress(self, task: str, attempt: int) -> None:
        starts: dict[tuple[str, int], tuple[int, int]] = {}
        self._emit_progress(self._progress_items(task, attempt, starts), starts)

    def _progress_items(self, task: str, attempt: int,
                        starts: dict[tuple[str, int], tuple[int, int]]
                        ) -> list[tuple[p.Payload, str | None, int | None]]:
        """The attempt's new progress lines as events to emit. Its read position moves on;
        where it was goes into ``starts``, for ``_emit_progress`` to move it back to if the
        lines cannot be written."""
        f = self.ports.files_of(task, attempt)
        starts[(task, attempt)] = (f.progress_n, f.progress_offset)
        if f.progress_since is None:  # no line was written before the spawn
            rec = self.ports.state.attempts.get(P.agent_id(task, attempt))
            f.progress_since = rec.spawned_at if rec is not None and rec.spawned_at else None
        try:
            items = f.new_progress(self.ports.now())
        except Refused as e:
            self._refused(task, attempt, P.PROGRESS_FILE, e)
            return []
        except OSError:
            return []
        redact = self.redact
        return [(p.Progress(status=redact(it.status), n=it.n, offset=it.offset,
                            outputs=it.outputs, reread=it.reread), task, attempt)
                for it in items]

    def _emit_progress(self, items: list[tuple[p.Payload, str | None, int | None]],
                       starts: dict[tuple[str, int], tuple[int, int]]) -> None:
        """One transaction for the progress lines of one wake-up."""
        try:
            self.ports.emit_many(items)
        except StoreUnavailable:  # full or busy: read again later
            for (task, attempt), (n0, off0) in starts.items():
                self.ports.files_of(task, attempt).rollback_progress(n0, off0)  # read again later
            raise

    def _signals(self, task: str, attempt: int) -> None:
        ports = self.ports
        f = ports.files_of(task, attempt)
        start = f.signals_offset
        try:
            lines = f.new_signals()
        except Refused as e:
            self._refused(task, attempt, P.SIGNALS_FILE, e)
            return
        except OSError:
            return
        try:
            for obj, offset in lines:
                if obj.get("kind") == "context":  # a reading, recorded when worth it
                    self.ask(ContextSignal(task, attempt, obj, offset))
                    continue
                pl = signal_payload(obj, offset, self.redact)
                if pl is None:
                    continue
                if isinstance(pl, p.TurnUsage):  # tokens only: priced here, from the table
                    from swarmtui.engine.adapters.prices import priced_turn

                    pl = priced_turn(pl, ports.config.prices)
                ports.emit(pl, task, attempt)
                if isinstance(pl, p.RateLimit) and pl.status == "rejected" and pl.resets_at:
                    self._usage_limited(task, attempt, pl.resets_at, pl.limit_type,
                                        "rate_limit_event")
        except StoreUnavailable:  # full or busy: read again later
            f.signals_offset = start
            raise

    def _usage_limited(self, task: str, attempt: int, until: float, limit_type: str,
                       source: str) -> None:
        ports = self.ports
        rec = ports.state.attempts.get(P.agent_id(task, attempt))
        account = (rec.account if rec is not None and rec.account
                   else ports.config.account_of(ports.task(task).spec.agent))
        cur = ports.state.usage_limits.get(account)
        if cur is None or cur.until < until:
            ports.emit(p.UsageLimited(until=until, account=account, limit_type=limit_type,
                                    source=source), task, attempt)

    def _results(self, task: str, attempt: int) -> None:
        ports = self.ports
        f = ports.files_of(task, attempt)
        try:
            seen = f.results(int(ports.now() * 1e9))
        except Refused as e:
            self._refused(task, attempt, P.RESULTS_FILE, e)
            return
        except OSError:
            return
        if seen is None:
            return
        if seen.wait:
            self._schedule_recheck(P.agent_id(task, attempt))
            return
        self._on_results(task, attempt, seen)

    def _schedule_recheck(self, aid: str) -> None:
        if aid in self._rechecks:
            return
        self._rechecks.add(aid)
        self.ports.workers.post_later(RECHECK_S, Recheck(aid))

    def _on_results(self, task: str, attempt: int, seen: ResultsSeen) -> None:
        ports = self.ports
        if seen.invalid:
            ports.emit(p.ResultsInvalid(error=seen.invalid), task, attempt)
            return
        res = seen.results
        if res is None:
            return
        ports.emit(p.Results(status=res.status, summary=self.redact(res.summary),
                           files_modified=list(res.files_modified),
                           do_not_revert=res.do_not_revert, outputs=res.outputs,
                           extra=res.extra), task, attempt)
        # Held now (and alerted) so the operator sees it at once, and the attempt's merge waits
        # for the operator (mergequeue); every prompt it would reach later screens it again.
        self.ask(ScreenText(res.summary, "results summary", task, attempt))
        t = ports.task(task)
        if res.status == "done":
            self.ask(StartVerify(t))
            return
        self.ask(EndAttempt(task, attempt))
        cause = Cause.REPORTED_BLOCKED if res.status == "blocked" else Cause.REPORTED_FAILED
        fail_if_current(ports, task, attempt, cause,
                        f"agent reported {res.status}: {res.summary[:200]}")

    def _record_exit(self, task: str, attempt: int) -> None:
        ports = self.ports
        f = ports.files_of(task, attempt)
        try:
            rec = f.exit_record()
        except Refused as e:
            self._refused(task, attempt, P.EXIT_FILE, e)
            return
        except OSError:
            return
        if rec is None or not self._exit_believed(task, attempt):
            return
        # Whatever its processes wrote before they ended (a hook's line just after the exit
        # record, say) belongs to the attempt: read every file to its end before settling.
        self._drain(task, attempt)
        from swarmtui.engine.attempts.liveness import exit_payload
        from swarmtui.engine.attempts.outcomes import priced

        pl = priced(exit_payload(rec), ports.config.prices)
        if pl.error or pl.outcome is not None:
            pl = pl.model_copy(update={
                "error": self.redact(pl.error) if pl.error else pl.error,
                "outcome": pl.outcome.model_copy(update={"message": self.redact(
                    pl.outcome.message)}) if pl.outcome is not None else None})
        ports.emit(pl, task, attempt)
        if pl.outcome is not None and pl.outcome.message:
            # Screened as it is ingested, like the summary: held, it holds the merge.
            self.ask(ScreenText(pl.outcome.message, "final message", task, attempt))
        self.ask(AttemptExited(task, attempt))

    def _exit_believed(self, task: str, attempt: int) -> bool:
        """An exit record is believed only once the attempt's processes are really gone: its
        wrapper (its pane, as tmux says) and the agent's process group. Anyone in the agent's
        folder can write exit.json; one written while the agent itself still runs (the wrapper
        writes its own only after the agent was reaped) is recorded as forged."""
        ports = self.ports
        rec = ports.state.attempts[P.agent_id(task, attempt)]
        f = ports.files_of(task, attempt)
        pgid = f.pgid()
        group = pgid is not None and ports.runner.group_alive(pgid, rec.window)
        if not group and not self.ask(WrapperAlive(rec)):
            return True
        if group and pgid is not None and rec.runner == LOCAL_HOST and proc.pid_alive(pgid):
            self._refused(task, attempt, P.EXIT_FILE, Refused(
                f"written while its agent (process {pgid}) still runs: not believed; the "
                "attempt ends when its processes do", Refusal.FORGED))
        return False

    def _drain(self, task: str, attempt: int) -> None:
        """Read the running attempt's progress and signals to their end (bounded)."""
        t = self.ports.state.tasks.get(task)
        if t is None or t.attempt != attempt or t.state != TaskState.RUNNING:
            return
        f = self.ports.files_of(task, attempt)
        for _ in range(DRAIN_LOOKS):
            before = (f.progress_offset, f.signals_offset)
            self._progress(task, attempt)
            self._signals(task, attempt)
            if (f.progress_offset, f.signals_offset) == before:
                return

    def settle(self, task: str, attempt: int) -> None:
        """The agent of the task's running attempt has exited: its results.json is as complete
        as it will get, so read it now; without one the attempt failed, for the reason its
        exit record gives. (Also after a restart that fell between the two.)"""
        ports = self.ports
        t = ports.state.tasks.get(task)
        rec = ports.state.attempts.get(P.agent_id(task, attempt))
        if (t is None or rec is None or rec.exit_record is None or t.attempt != attempt
                or t.state != TaskState.RUNNING):
            return
        f = ports.files_of(task, attempt)
        try:
            seen = f.results(int(ports.now() * 1e9), final=True)
        except Refused as e:
            self._refused(task, attempt, P.RESULTS_FILE, e)
            seen = None
        except OSError:
            seen = None
        if seen is not None and not seen.wait:
            self._on_results(task, attempt, seen)
            t = ports.task(task)
            if t.attempt != attempt or t.state != TaskState.RUNNING:
                return
        pl = rec.exit_record
        if pl.usage_limited_until is not None:
            self._usage_limited(task, attempt, pl.usage_limited_until, pl.limit_type,
                                "exit record")
        self.ask(AfterExit(t, pl, rec.session_id, f.results_refusal))
