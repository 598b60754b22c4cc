"""The supervisor's parts, wired in one place: who owns each intent, who handles each message,
who hears each event, and the order of every tick.

Parts know nothing of each other; this module is the only one that names them all. Reading it
top to bottom is reading what a tick does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swarmtui.engine import intents as i
from swarmtui.engine import messages as m
from swarmtui.engine.attempts.liveness import Liveness
from swarmtui.engine.attempts.outcomes import Outcomes
from swarmtui.engine.attempts.reader import AttemptReader
from swarmtui.engine.attempts.spawn import Spawner
from swarmtui.engine.attempts.steering import Steering
from swarmtui.engine.attempts.watchdog import Watchdog
from swarmtui.engine.health.disk import DiskGuard
from swarmtui.engine.health.readiness import Readiness
from swarmtui.engine.health.window import ContextWatch
from swarmtui.engine.integrate.forecast import ForecastDriver
from swarmtui.engine.integrate.ledger import LedgerEntry
from swarmtui.engine.integrate.mergequeue import MergeQueue
from swarmtui.engine.integrate.resolver import Resolver
from swarmtui.engine.integrate.verification import Verifier
from swarmtui.engine.ports import Ports
from swarmtui.engine.review.reviews import Reviews
from swarmtui.engine.run.alerts import Alerts
from swarmtui.engine.run.dispatch import Dispatcher
from swarmtui.engine.run.finish import Finisher
from swarmtui.engine.run.holds import Holds
from swarmtui.engine.run.inbox import Commands
from swarmtui.engine.run.loop import Loop
from swarmtui.engine.run.snapshots import Snapshotter
from swarmtui.engine.run.statuswriter import StatusWriter


@dataclass
class Parts:
    """Every part of one run's supervisor (held here, and by nothing else)."""

    disk: DiskGuard
    holds: Holds
    inbox: Commands
    reader: AttemptReader
    outcomes: Outcomes
    liveness: Liveness
    verifier: Verifier
    window: ContextWatch
    readiness: Readiness
    watchdog: Watchdog
    spawner: Spawner
    merges: MergeQueue
    resolver: Resolver
    reviews: Reviews
    steering: Steering
    dispatcher: Dispatcher
    forecasts: ForecastDriver
    alerts: Alerts
    finisher: Finisher
    snapshots: Snapshotter
    status: StatusWriter


def build(ports: Ports, loop: Loop, ledger: list[LedgerEntry]) -> Parts:
    """Make the parts around ``loop`` and wire them. ``ledger`` is shared on purpose: a merge
    extends it and later prompts, forecasts and resolutions read it."""
    ask = loop.ask
    parts = Parts(
        disk=DiskGuard(ports),
        holds=Holds(ports),
        inbox=Commands(ports, ask, loop.stop_requested),
        reader=AttemptReader(ports, ask),
        outcomes=Outcomes(ports),
        liveness=Liveness(ports, ask),
        verifier=Verifier(ports, ask),
        window=ContextWatch(ports, ask),
        readiness=Readiness(ports),
        watchdog=Watchdog(ports, ask),
        spawner=Spawner(ports, ask, ledger),
        merges=MergeQueue(ports, ask, ledger),
        resolver=Resolver(ports, ask, ledger),
        reviews=Reviews(ports, ask),
        steering=Steering(ports, ask),
        dispatcher=Dispatcher(ports, ask),
        forecasts=ForecastDriver(ports, ledger),
        alerts=Alerts(ports),
        finisher=Finisher(ports, ask),
        snapshots=Snapshotter(ports),
        status=StatusWriter(ports),
    )
    _owners(loop, parts)
    _messages(loop, parts)
    _listeners(loop, parts)
    _tick(loop, parts)
    loop.on_store_full = parts.disk.full
    loop.on_store_busy = parts.alerts.store_busy
    return parts


def _owners(loop: Loop, p: Parts) -> None:
    """Each intent to the one part that owns it."""

    def leave(it: i.LeaveLoop) -> None:
        loop.stop_requested.set()
        loop.wake(it.why)

    owners: list[tuple[type[Any], Any]] = [
        (i.EndAttempt, p.liveness.end_attempt),
        (i.IsEnding, p.liveness.is_ending),
        (i.AttemptExited, p.liveness.exited),
        (i.WrapperAlive, p.liveness.wrapper_alive_now),
        (i.ReadAttempt, p.reader.read_attempt),
        (i.SettleAttempt, p.reader.settle_attempt),
        (i.SweepAttempts, p.reader.sweep_attempts),
        (i.AfterExit, p.outcomes.after_exit),
        (i.FailAttempt, p.outcomes.fail_attempt),
        (i.Spawn, p.spawner.spawn_it),
        (i.SpawnMany, p.spawner.spawn_many),
        (i.ContextSignal, p.window.signal),
        (i.CheckReadiness, p.readiness.step),
        (i.DiskIsFull, p.disk.full_now),
        (i.CheckDiskRecovered, p.disk.check_recovered),
        (i.StartVerify, p.verifier.start_verify),
        (i.VerifyRunning, p.verifier.any_running),
        (i.EnqueueMerge, p.merges.enqueue_it),
        (i.MergePending, p.merges.is_pending),
        (i.ReviewMissing, p.merges.missing_review),
        (i.MergeHeld, p.merges.held_reason),
        (i.MergeWorking, p.merges.is_working),
        (i.StartReview, p.reviews.start),
        (i.Steer, p.steering.steer),
        (i.SteerableNow, p.steering.steerable),
        (i.CheckResolve, p.resolver.check),
        (i.ForecastsSettled, p.forecasts.settled),
        (i.GuardFor, p.holds.guard_for),
        (i.RecordHeld, p.holds.record_held),
        (i.ScreenText, p.holds.screen_text),
        (i.DecideHeld, p.holds.decide_held),
        (i.AnswerCommand, p.inbox.answer_it),
        (i.StopRun, p.finisher.stop_run),
        (i.IsStopping, p.finisher.is_stopping),
        (i.LeaveLoop, leave),
    ]
    for kind, owner in owners:
        loop.owns(kind, owner)


def _messages(loop: Loop, p: Parts) -> None:
    """What the helpers (watcher, tmux poller, workers) post, to the part that handles it."""

    def woken(msg: m.Wake) -> None:
        p.inbox.woken(msg)  # a command, perhaps
        p.status.woken(msg)  # or a `status` reader waiting for a newer status file

    loop.on(m.Wake, woken)
    loop.on(m.FilesChanged, p.reader.changed)
    loop.on(m.Recheck, p.reader.recheck)
    loop.on(m.Panes, p.liveness.panes)
    loop.on(m.VerifyDone, p.verifier.done)
    loop.on(m.CheckDone, p.readiness.done)
    loop.on(m.Sampled, p.watchdog.sampled)
    loop.on(m.Prepared, p.spawner.prepared)
    loop.on(m.Started, p.spawner.started)
    loop.on(m.WindowsOpened, p.spawner.started_many)
    loop.on(m.MergeDone, p.merges.done)
    loop.on(m.ResolveChecked, p.resolver.checked)
    loop.on(m.Reviewed, p.reviews.done)
    loop.on(m.Steered, p.steering.done)
    loop.on(m.ForecastDone, p.forecasts.done)
    loop.on(m.StatusSet, p.alerts.status_set)


def _listeners(loop: Loop, p: Parts) -> None:
    """The parts that hear every event as it is written, in this order."""
    loop.listeners.extend([p.window.heard, p.watchdog.heard, p.dispatcher.heard,
                           p.forecasts.heard, p.alerts.heard, p.status.heard])


def _tick(loop: Loop, p: Parts) -> None:
    """A tick, in order: commands first (what the operator asked), then what agents wrote and
    whether they live, their health, merges, what may start, forecasts, the status line, the
    run's end, the snapshot and the status file. (The supervisor adds the footing check before
    all of these and the heartbeat file after.)"""
    for step in (p.inbox.step, p.reader.sweep_now_and_then, p.liveness.poll, p.window.step,
                 p.watchdog.step, p.merges.step, p.dispatcher.step, p.forecasts.step,
                 p.alerts.status, p.finisher.step, p.snapshots.step, p.status.step):
        loop.every_tick(step)
