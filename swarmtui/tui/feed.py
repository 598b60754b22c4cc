"""The feed: a worker thread that follows the run in the store and tells the UI what changed.

It polls the store (one indexed query for events after the last one seen), folds new events into
its own ``RunClient`` projection and, at most once per poll and only when the UI has applied the
previous update, posts one ``FeedUpdate`` carrying just the rows that differ from what the UI
already shows. A burst of a thousand events is therefore one message, and a slow UI gets fewer,
larger updates instead of a growing queue. Ages and runtimes are re-derived once a second.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from swarmtui.client import RunClient
from swarmtui.config import Config
from swarmtui.errors import SwarmError
from swarmtui.model import AttemptRec, RunState, TaskView
from swarmtui.tui.runview import AlertItem, Header, Slots, make_alerts, make_header, make_slots
from swarmtui.tui.view import Row, make_rows


@dataclass
class Update:
    header: Header
    slots: Slots
    rows: dict[str, Row]  # rows that are new or changed since the last update
    removed: list[str]
    tasks: dict[str, TaskView]  # copies of the tasks that new events touched
    alerts: tuple[AlertItem, ...] | None  # every open alert, newest first; None: unchanged
    news: list[AlertItem]  # alerts raised (or repeated) while we watched: toast them
    fresh: bool  # not the first update (alerts from before the app started are not news)
    touched: set[str] = field(default_factory=set)
    # Their current attempts' records (host, worktree, window), None before the first one.
    attempts: dict[str, AttemptRec | None] = field(default_factory=dict)
    reset: bool = False  # a new run: forget everything shown
    base: str = ""
    last_seq: int = 0


class FeedUpdate(Message):
    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class FeedFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def news_of(old: tuple[AlertItem, ...] | None, new: tuple[AlertItem, ...]) -> list[AlertItem]:
    """Alerts of ``new`` that were not open in ``old``, or that repeated since, oldest first."""
    seen = {a.id: a.count for a in old or ()}
    return [a for a in reversed(new) if seen.get(a.id, 0) < a.count and not a.acked]


class Feed:
    """Runs in one thread; only ``ready`` and ``wake`` are touched from the UI."""

    def __init__(self, repo: Path, config: Config, *, clock: Callable[[], float],
                 read_only: bool, client: RunClient | None = None,
                 poll: float = 0.15, tick: float = 1.0) -> None:
        self.repo = Path(repo)
        self.config = config
        self.clock = clock
        self.read_only = read_only
        self.client = client
        self.poll = poll
        self.tick = tick
        self.ready = threading.Event()  # set by the UI once it applied the last update
        self.ready.set()
        self.wake = threading.Event()  # set by the UI to poll now (after an action, say)
        self._shown: dict[str, Row] = {}
        self._shown_header: Header | None = None
        self._shown_slots: Slots | None = None
        self._shown_alerts: tuple[AlertItem, ...] | None = None
        self._touched: set[str] = set()
        self._first = True
        self._news = False  # events absorbed that the UI has not been sent yet
        self._reset = False
        self._run = -1
        self._live = False
        self._live_checked = 0.0
        self._built = 0.0
        self.posted = 0  # updates handed to the UI so far

    def open(self) -> RunClient:
        if self.client is None:
            self.client = RunClient(self.repo)
        return self.client

    def _absorb(self, client: RunClient) -> bool:
        """Fold every new event in; True when there were any."""
        got = False
        while True:
            new = client.refresh()
            if client.state.run != self._run:
                if self._run != -1:
                    self._reset = True
                    self._shown = {}
                    self._shown_alerts = None
                self._run = client.state.run
            self._touched.update(ev.task for ev in new if ev.task)
            got = got or bool(new)
            if len(new) < 5000:
                return got

    def _due(self) -> bool:
        """Whether an update may be built now: news, the once-a-second tick, or a first look;
        and the UI has applied the last one."""
        due = time.monotonic() - self._built >= self.tick
        if not (self._news or due or self._first or self._reset):
            return False
        return self.ready.is_set()  # else the UI is still busy: keep accumulating

    def _check_live(self, client: RunClient) -> None:
        if time.monotonic() - self._live_checked >= self.tick or self._first:
            self._live = client.supervisor_live()
            self._live_checked = time.monotonic()

    def step(self) -> Update | None:
        """Poll once; returns an update when there is news and the UI is ready for it."""
        client = self.open()
        if self._absorb(client):
            self._news = True
        self._check_live(client)
        if not self._due():
            return None
        self._built = time.monotonic()
        upd = self._build(client.state, self.clock())
        if upd is not None:
            self._sent(upd)
        else:
            self._news = False  # nothing the UI shows has changed
        return upd

    def _build(self, state: RunState, now: float) -> Update | None:
        rows = make_rows(state, self.config, now)
        changed = {k: r for k, r in rows.items() if self._shown.get(k) != r}
        removed = [k for k in self._shown if k not in rows]
        header = make_header(state, self.config, now, repo=self.repo.name, live=self._live,
                             read_only=self.read_only, rows=rows)
        slots = make_slots(state, self.config)
        alerts = make_alerts(state)
        alerts_changed = alerts != self._shown_alerts
        first = self._first or self._reset
        if not (changed or removed or self._touched or alerts_changed or first
                or header != self._shown_header or slots != self._shown_slots):
            return None
        touched = set(state.tasks) if first else self._touched & set(state.tasks)
        news = news_of(self._shown_alerts, alerts) if alerts_changed and not first else []
        self._shown = rows
        return Update(header=header, slots=slots, rows=changed, removed=removed,
                      tasks={k: copy.deepcopy(state.tasks[k]) for k in touched},
                      attempts={k: copy.copy(state.attempts.get(
                          f"{k}-{state.tasks[k].attempt}")) for k in touched},
                      alerts=alerts if alerts_changed or first else None, news=news,
                      fresh=not self._first, touched=touched, reset=self._reset,
                      base=state.base, last_seq=state.last_seq)

    def _sent(self, upd: Update) -> None:
        self._shown_header = upd.header
        self._shown_slots = upd.slots
        if upd.alerts is not None:
            self._shown_alerts = upd.alerts
        self._touched = set()
        self._news = False
        self._first = False
        self._reset = False
        self.ready.clear()
        self.posted += 1

    def run(self, post: Callable[[Message], object], stopped: Callable[[], bool]) -> None:
        try:
            self.open()
        except SwarmError as e:
            post(FeedFailed(str(e)))
            return
        last_error = ""
        while not stopped():
            try:
                upd = self.step()
                last_error = ""
            except Exception as e:  # noqa: BLE001 - say so once, and keep following the run
                upd = None
                err = f"{type(e).__name__}: {e}"
                if err != last_error:
                    post(FeedFailed(err))
                last_error = err
            if upd is not None:
                post(FeedUpdate(upd))
            self.wake.wait(self.poll)
            self.wake.clear()
