"""The supervisor's loop: the queue, ``emit`` and the tick. Nothing else lives here.

One thread owns the run. Helpers (the file watcher, the tmux poller, git and verify workers)
post messages to the queue; the loop hands each to the part registered for its type, and every
``heartbeat.tick`` runs the parts' periodic steps in order. ``emit`` is the only way state
changes: the transition is checked, the event is appended to the store (durable on return) and
then folded into the in-memory projection with the same ``apply`` that replay uses, so the live
state always equals a replay of the log.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from swarmtui import faults
from swarmtui.engine.intents import Intent, NoOwner
from swarmtui.engine.messages import Message, Wake
from swarmtui.model import Event, Payload, RunState, apply, check_transition
from swarmtui.model.transitions import STATE_OF_EVENT
from swarmtui.store import Store, StoreBusy, StoreFull, UnreadablePayload

Listener = Callable[[Event], None]
R = TypeVar("R")
IntentT = TypeVar("IntentT", bound=Intent[Any])
BUSY_BACKOFF = (0.25, 4.0)  # seconds between probes of a busy store: first, most
log = logging.getLogger("swarmtui.loop")
M = TypeVar("M")


class Loop:
    def __init__(self, store: Store, state: RunState, run_id: int, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.state = state
        self.run_id = run_id
        self.clock = clock
        self.listeners: list[Listener] = []
        self._queue: queue.Queue[Message] = queue.Queue()
        self._handlers: dict[type[Any], Callable[[Any], None]] = {}
        self._owners: dict[type[Any], Callable[[Any], Any]] = {}
        self._tickers: list[Callable[[float], None]] = []
        self.stop_requested = threading.Event()
        self.thread_id: int | None = None
        self.tick_seconds: list[float] = []  # the last ticks' durations (for benchmarks)
        # Called when an append fails for lack of disk space; the loop keeps going.
        self.on_store_full: Callable[[StoreFull], None] = lambda e: None
        # Since when another process has held the store's write lock past the busy timeout
        # (None: it has not). While set, the loop handles nothing and probes the store with a
        # doubling backoff; queued messages wait in memory and are handled once it frees.
        self.store_busy: tuple[float, str] | None = None
        self.on_store_busy: Callable[[bool], None] = lambda busy: None
        self._busy_wait = BUSY_BACKOFF[0]
        self._heard: list[Event] | None = None  # events of the open transaction, told at commit
        self._busy_steps: list[Callable[[float], None]] = []

    # -- events ---------------------------------------------------------------------------

    def emit(self, payload: Payload, task: str | None = None,
             attempt: int | None = None) -> Event:
        """Validate, append (durable on return), fold, then tell listeners."""
        dst = STATE_OF_EVENT.get(payload.KIND)
        if dst is not None and task is not None and task in self.state.tasks:
            check_transition(task, self.state.tasks[task].state, dst)
        ev = self.store.append(payload, task, attempt, run=self.run_id, at=self.clock())
        self._fold(ev)
        return ev

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every event emitted in the block is one store transaction: durable together when the
        block ends, or none is. Emits fold at once (the block reads its own changes); listeners
        hear the events after the commit. On failure the projection is put back to the log."""
        if self._heard is not None:
            yield  # joins the open block
            return
        self._heard = []
        seq = self.state.last_seq
        try:
            with self.store.transaction():
                yield
        except BaseException:
            self._heard = None
            if self.state.last_seq != seq:
                self._restore()
            raise
        heard, self._heard = self._heard, None
        for ev in heard:
            self._tell(ev)

    def _restore(self) -> None:
        """The projection as the log has it, in place (parts hold the state object)."""
        fresh = self.store.replay(self.run_id)
        self.state.__dict__.clear()
        self.state.__dict__.update(fresh.__dict__)

    def _fold(self, ev: Event) -> None:
        """A written event into the projection, then to every listener."""
        apply(self.state, ev)
        if self._heard is not None:
            self._heard.append(ev)
        else:
            self._tell(ev)

    def _tell(self, ev: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(ev)
            except Exception:  # noqa: BLE001 - a broken printer must not stop the run
                pass

    def emit_many(self, items: list[tuple[Payload, str | None, int | None]]) -> list[Event]:
        """Events that change no task's state, in one transaction (one fsync): all are durable
        before the first is folded or heard of. Anything else is emitted one by one."""
        if len(items) < 2 or any(STATE_OF_EVENT.get(pl.KIND) is not None for pl, _, _ in items):
            return [self.emit(pl, task, attempt) for pl, task, attempt in items]
        events = self.store.append_many(items, run=self.run_id, at=self.clock())
        for ev in events:
            self._fold(ev)
        return events

    # -- intents --------------------------------------------------------------------------

    def owns(self, kind: type[IntentT], handler: Callable[[IntentT], Any]) -> None:
        """``handler`` answers every ``kind`` intent; an intent has exactly one owner."""
        if kind in self._owners:
            raise ValueError(f"{kind.__name__} already has an owner")
        self._owners[kind] = handler

    def ask(self, intent: Intent[R]) -> R:
        """Hand ``intent`` to its owner now, on this thread, and return its answer."""
        owner = self._owners.get(type(intent))
        if owner is None:
            raise NoOwner(type(intent).__name__)
        result: R = owner(intent)
        return result

    # -- messages -------------------------------------------------------------------------

    def on(self, kind: type[M], handler: Callable[[M], None]) -> None:
        self._handlers[kind] = handler

    def every_tick(self, step: Callable[[float], None], *, first: bool = False,
                   busy_ok: bool = False) -> None:
        """Run ``step`` each tick, after the steps registered before it (or before them all
        with ``first``: a check that may stop the run goes ahead of the parts it protects);
        ``busy_ok``: also while the store is busy (a step that never writes to the store,
        such as touching the heartbeat file agents watch)."""
        for steps, wanted in ((self._tickers, True), (self._busy_steps, busy_ok)):
            if wanted:
                steps.insert(0 if first else len(steps), step)

    def post(self, msg: Message) -> None:
        """Thread-safe: hand ``msg`` to the loop thread."""
        self._queue.put(msg)

    def wake(self, reason: str = "") -> None:
        self.post(Wake(reason))

    def dispatch(self, msg: Message) -> None:
        handler = self._handlers.get(type(msg))
        if handler is not None:
            seq = self.state.last_seq
            try:
                handler(msg)
            except StoreFull as e:
                self.on_store_full(e)
            except UnreadablePayload as e:
                log.error("%s: %s; the rest of the run goes on", type(msg).__name__, e)
            except StoreBusy as e:
                # Nothing of it was written: the message is handled again once the store
                # frees. (A handler that recorded part of its work before the lock came is
                # not repeated; what it missed its part re-derives, as after a restart.)
                self._busy(e)
                if self.state.last_seq == seq:
                    self._queue.put(msg)

    def _busy(self, e: StoreBusy) -> None:
        if self.store_busy is None:
            self.store_busy = (self.clock(), str(e))
            self._busy_wait = BUSY_BACKOFF[0]
            self.on_store_busy(True)

    def _wait_for_store(self) -> bool:
        """While the store is busy: probe it after a doubling backoff. True when it is free
        again (the loop carries on where it stopped)."""
        if self.stop_requested.wait(self._busy_wait):
            return False
        self._busy_wait = min(self._busy_wait * 2, BUSY_BACKOFF[1])
        return self._probe()

    def _probe(self) -> bool:
        for step in self._busy_steps:
            try:
                step(self.clock())
            except Exception:  # noqa: BLE001 - best effort while waiting
                pass
        if not self.store.writable():
            return False
        self.store_busy = None
        self.on_store_busy(False)
        return True

    def tick(self) -> None:
        faults.point("tick")
        if self.store_busy is not None and not self._probe():
            return
        start = time.monotonic()
        now = self.clock()
        for step in self._tickers:
            if self.stop_requested.is_set() or self.store_busy is not None:
                break
            try:
                step(now)
            except StoreFull as e:
                self.on_store_full(e)
            except UnreadablePayload as e:  # refused, not appended: one step, not the run
                log.error("tick step %s: %s; the rest of the run goes on",
                          getattr(step, "__qualname__", step), e)
            except StoreBusy as e:
                self._busy(e)
        self.tick_seconds.append(time.monotonic() - start)
        del self.tick_seconds[:-200]

    def drain(self) -> None:
        """Handle every message already queued (tests and shutdown)."""
        while self.store_busy is None:  # a busy store keeps what is queued for later
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                return
            self.dispatch(msg)

    def run(self, interval: float, *, done: Callable[[], bool] = lambda: False) -> None:
        """Tick every ``interval`` seconds and handle messages in between, until stopped or
        until ``done()`` holds after a tick."""
        self.thread_id = threading.get_ident()
        next_tick = 0.0
        while not self.stop_requested.is_set():
            if self.store_busy is not None:
                if self._wait_for_store():
                    next_tick = 0.0
                continue
            now = time.monotonic()
            if now >= next_tick:
                self.tick()
                next_tick = time.monotonic() + interval
                if done():
                    return
            try:
                msg = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                continue
            self.dispatch(msg)
