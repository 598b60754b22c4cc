"""The feed: a worker thread that follows the run in the store and tells the UI what changed.

It polls the store (one indexed query for events after the last one seen), folds new events into
its own ``RunClient`` projection and, at most once per poll and only when the UI has applied the
previous update, posts one ``FeedUpdate`` carrying just the rows that differ from what the UI
already shows. A burst of a thousand events is therefore one message, and a slow UI gets fewer,
larger updates instead of a growing queue.

Only the rows of tasks that new events touched are built again (from their previous row when
only progress events touched them): a row holds no time in words (``view.Row``), so the seconds
passing change no row, and the table renders ages as it paints.
Every row is built again only when something they all depend on changes (a usage limit, a held
agent or text, an event of the run rather than of a task), when a usage limit lifts, and every
``FULL_EVERY`` seconds in case some other input moved. When the clock's second changes an update
goes out even without news (the top bar's elapsed time, the table's ages), with its ``now``:
the clock's last whole second, so that every age on screen turns in the same frame, once a
second, instead of each row's at its own fraction of a second in whichever frame comes next.
"""

from __future__ import annotations

import copy
import dataclasses
import math
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
from swarmtui.model.kinds import EventKind
from swarmtui.tui.runview import (
    AlertItem,
    Header,
    Slots,
    Tally,
    make_alerts,
    make_header,
    make_slots,
    tally,
)
from swarmtui.tui.view import Row, make_rows

FULL_EVERY = 10.0  # seconds (of the clock) between two builds of every row
# Kinds that change only their own task's row: no task's state, role, children, cost or merge
# (what the slots panel and the top bar's sums are made of). While only these arrive the feed
# keeps both instead of walking every task again (an idle fleet at 500 agents sends 250 of
# them a second). tests/test_tui_clock.py holds the list to the fold's tables.
ROW_ONLY = frozenset({EventKind.PROGRESS})


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
    now: float = 0.0  # the clock's whole second when it was built: ages are shown as of it


class FeedUpdate(Message):
    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class FeedFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def task_copy(t: TaskView) -> TaskView:
    """A copy of ``t`` the UI may keep while the feed folds on into the original: its lists
    and dicts are copied (folding changes them in place); everything else is immutable
    (strings, numbers, frozen specs and requests) and shared. ``copy.deepcopy`` walked every
    field of every touched task and was the feed's largest cost at 500 agents."""
    c = copy.copy(t)
    for name in _CONTAINERS:
        value = getattr(t, name)
        if isinstance(value, list):
            setattr(c, name, list(value))
        elif isinstance(value, dict):
            setattr(c, name, copy.deepcopy(value) if value else {})
    return c


# The fields of a task that can hold a list or a dict (by their declared types): the only ones
# ``task_copy`` looks at (a walk of every field was half its cost).
_CONTAINERS = tuple(f.name for f in dataclasses.fields(TaskView)
                    if "list[" in str(f.type) or "dict[" in str(f.type))


def shared_inputs(state: RunState) -> tuple[object, ...]:
    """What a task's row depends on besides its own task (``attention.need_of``): usage
    limits, agents held, texts held for review. When it changes every row is built again."""
    return (tuple(sorted((k, v.until, v.limit_type) for k, v in state.usage_limits.items())),
            tuple(sorted(state.held_agents.items())),
            tuple(sorted((h.qid, h.task or "", h.state) for h in state.quarantine.values())))


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
        self._deep: set[str] = set()  # touched by a kind not in ROW_ONLY: built from scratch
        self._everything = False  # an event of the run, not of a task: build every row
        self._sums: tuple[Tally, Slots] | None = None  # kept while only ROW_ONLY kinds come
        self._shared: tuple[object, ...] | None = None
        self._full_at = 0.0  # the clock at the last build of every row
        self._built_now = 0.0  # the clock at the last update
        self._first = True
        self._news = False  # events absorbed that the UI has not been sent yet
        self._reset = False
        self._run = -1
        self._live = False
        self._live_checked = 0.0
        self.posted = 0  # updates handed to the UI so far
        self.full_builds = 0  # builds of every row so far (tests and the benchmark count them)
        self.rows_built = 0  # rows built so far, in all

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
            for ev in new:
                if ev.task:
                    self._touched.add(ev.task)
                else:
                    self._everything = True
                if ev.kind not in ROW_ONLY:
                    self._sums = None
                    if ev.task:
                        self._deep.add(ev.task)
            got = got or bool(new)
            if len(new) < 5000:
                return got

    def _due(self, now: float) -> bool:
        """Whether an update may be built now: news, the clock's second changed, or a first
        look; and the UI has applied the last one."""
        due = int(now) != int(self._built_now)
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
        now = self.clock()
        if not self._due(now):
            return None
        upd = self._build(client.state, now)
        self._built_now = now
        if upd is not None:
            self._sent(upd)
        else:
            self._news = False  # nothing the UI shows has changed
        return upd

    def _rows(self, state: RunState, now: float) -> tuple[dict[str, Row], list[str]]:
        """The rows that differ from those shown and the tasks gone (``_shown`` becomes what
        the UI will show): only the rows of touched tasks are built and compared, unless
        every row may have changed."""
        shared = shared_inputs(state)
        lifted = any(self._built_now < lim.until <= now for lim in state.usage_limits.values())
        full = (self._first or self._reset or self._everything or lifted
                or shared != self._shared or now - self._full_at >= FULL_EVERY
                or now < self._full_at)
        self._shared = shared
        shown = self._shown
        if full:
            self._full_at = now
            self._everything = False
            self.full_builds += 1
            rows = make_rows(state, self.config, now)
            removed = [k for k in shown if k not in rows]
        else:
            rows = make_rows(state, self.config, now, only=self._touched, previous=shown,
                             progressed=self._touched - self._deep)
            removed = [k for k in self._touched if k in shown and k not in state.tasks]
        self.rows_built += len(rows)
        changed = {k: r for k, r in rows.items() if shown.get(k) != r}
        if full:
            self._shown = rows
        else:
            for k in removed:
                del shown[k]
            shown.update(changed)
        return changed, removed

    def _build(self, state: RunState, now: float) -> Update | None:
        full_before = self.full_builds
        changed, removed = self._rows(state, now)
        rows = self._shown
        if self._sums is None or self.full_builds != full_before:
            self._sums = (tally(state), make_slots(state, self.config))
        sums, slots = self._sums
        shown = float(math.floor(now))  # what the screen's ages and elapsed time count to
        header = make_header(state, self.config, shown, repo=self.repo.name, live=self._live,
                             read_only=self.read_only, rows=rows, sums=sums)
        alerts = make_alerts(state)
        alerts_changed = alerts != self._shown_alerts
        first = self._first or self._reset
        # A new second shows new ages (the table renders them from ``now``).
        ticking = int(now) != int(self._built_now) and any(
            r.run_since is not None or r.age_since is not None for r in rows.values())
        if not (changed or removed or self._touched or alerts_changed or first or ticking
                or header != self._shown_header or slots != self._shown_slots):
            return None
        touched = set(state.tasks) if first else self._touched & set(state.tasks)
        news = news_of(self._shown_alerts, alerts) if alerts_changed and not first else []
        return Update(header=header, slots=slots, rows=changed, removed=removed,
                      tasks={k: task_copy(state.tasks[k]) for k in touched},
                      # Progress moves no attempt record: the UI keeps the one it has.
                      attempts={k: copy.copy(state.attempts.get(
                          f"{k}-{state.tasks[k].attempt}")) for k in touched
                          if first or k in self._deep},
                      alerts=alerts if alerts_changed or first else None, news=news,
                      fresh=not self._first, touched=touched, reset=self._reset,
                      base=state.base, last_seq=state.last_seq, now=shown)

    def _sent(self, upd: Update) -> None:
        self._shown_header = upd.header
        self._shown_slots = upd.slots
        if upd.alerts is not None:
            self._shown_alerts = upd.alerts
        self._touched = set()
        self._deep = set()
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
