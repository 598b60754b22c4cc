"""The periodic sweep's look at open attempts' files: taken on a worker, taken up by the tick.

The sweep (every few seconds, so that a watcher that lost its folder blinds nothing) used to
open every protocol file of every open attempt on the loop thread: four opens per attempt, two
thousand at 500 agents, and on a loaded box one sweep held the loop for seconds. Now a worker
``stat``s the files (``look``: through ``runtime.files``, so a link or a FIFO is never followed
or opened) and the loop reads only the files that may hold something it has not read.

The look is a hint, never a verdict. A file is left unread only where reading it would find
nothing written before the look was asked for: its stat equals the one of its last read to the
end (``AttemptFiles.progress_read_to``; appends always change the size), or it was read to its
end after the look was asked for (``progress_read_since``: by the watcher, say). Every other
file, every file the worker could not look at, and every file of an attempt with an exit to
record or settle is read as the old sweep read it. Every ``FULL_EVERY``-th sweep asks no worker
and reads every open attempt's files whatever their stat (a rewrite that kept size, time and
inode, which no stat can see). The read positions stay with the loop: a read the store refused
moves its position back, so the next look finds the file new again.

Why the tick and not the loop's queue takes the look up: a look posted as a message waited
behind everything queued before it (on a loaded box at 500 agents, tens of seconds of the
watcher's batches), and one look at a time meant no sweep in between; an agent writing a line
every 2 s then had more than ``PROGRESS_LINES_EMITTED`` lines unread when its file was read,
and the flood rule folded the surplus into one event (tests/test_parts_sweep.py). Taken up by
the tick, a sweep's reads run every few seconds of the loop however long its queue is, at
most ``READS_PER_TICK`` attempts per tick so that no tick reads them all.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.runtime.files import FileStat, stat_under
from swarmtui.engine.runtime.ingest import AttemptFiles

SWEEP_S = 5.0
READS_PER_TICK = 100  # attempts whose files a tick reads for the sweep; the rest next tick
FULL_EVERY = 12  # every 12th sweep (about a minute) reads every file, the look unasked
LOOKED_FILES = (P.PROGRESS_FILE, P.SIGNALS_FILE, P.RESULTS_FILE, P.EXIT_FILE)
UNSEEN = "unseen"  # the worker could not look at the file: the loop reads it and says why
Stats = tuple[FileStat | str | None, ...]
log = logging.getLogger("swarmtui.reader")


@dataclass(frozen=True)
class Look:
    """Per open attempt, the stat of each of ``LOOKED_FILES`` (None: no such file; ``UNSEEN``:
    not looked at). ``since_ns``: the loop's monotonic clock when it asked for the look."""

    since_ns: int
    stats: tuple[tuple[str, Stats], ...]


def look(swarm: Path, aids: Sequence[str], since_ns: int) -> Look:
    """On a worker: the stat of each protocol file of each attempt. Facts only, no state."""
    out: list[tuple[str, Stats]] = []
    for aid in aids:
        stats: list[FileStat | str | None] = []
        for name in LOOKED_FILES:
            try:
                stats.append(stat_under(swarm, f"{P.AGENTS_DIR}/{aid}/{name}"))
            except (OSError, ValueError):  # refused (a link, a FIFO...) or unreadable
                stats.append(UNSEEN)
        out.append((aid, tuple(stats)))
    return Look(since_ns, tuple(out))


def to_read(f: AttemptFiles, stats: Stats, since_ns: int, *, unrecorded: bool,
            unsettled: bool) -> set[str] | None:
    """On the loop, no I/O: which of the attempt's files may hold something written before the
    look and not yet read (an empty set: none), or None for all of them: its exit.json is there
    and its exit not yet recorded (``unrecorded``), or its exit is recorded but not yet settled
    (``unsettled``); ``read`` then drains progress and signals before the exit, as ever."""
    progress, signals, results, exit_ = stats
    if unsettled or (unrecorded and exit_ is not None):
        return None
    names: set[str] = set()
    if progress == UNSEEN or (isinstance(progress, FileStat)
                              and not f.progress_read_to(progress)
                              and not f.progress_read_since(since_ns)):
        names.add(P.PROGRESS_FILE)
    if signals == UNSEEN or (isinstance(signals, FileStat)
                             and signals.size != f.signals_offset):
        names.add(P.SIGNALS_FILE)
    if results == UNSEEN or (isinstance(results, FileStat) and f.results_unseen(results)):
        names.add(P.RESULTS_FILE)
    return names


class Sweep:
    """The sweep's course on the loop: when the next is due, the look out on the worker, and
    the attempts still to be read for the one under way (one sweep at a time: a slow look or a
    long plan delays the next, never piles them up)."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.sweeps = 0
        self.since_ns = 0
        self._out: Future[Look] | None = None
        self._aids: tuple[str, ...] = ()
        self._left: deque[tuple[str, Stats | None]] = deque()

    def due(self, now: float) -> bool:
        return now >= self.next_at and self._out is None and not self._left

    def start(self, now: float, aids: Sequence[str],
              ask: Callable[[int], Future[Look]]) -> None:
        """Begin a sweep of ``aids``: a look asked of the worker (``ask``), or, every
        ``FULL_EVERY``-th time, a plan that reads every file of each."""
        self.next_at, self.sweeps = now + SWEEP_S, self.sweeps + 1
        self.since_ns, self._aids = time.monotonic_ns(), tuple(aids)
        if self.sweeps % FULL_EVERY == 0:
            self._left.extend((aid, None) for aid in self._aids)
        else:
            self._out = ask(self.since_ns)

    def planned(self) -> bool:
        """A look that came back becomes the plan (one that failed: a plan to read every
        file); True while attempts are left to read."""
        out = self._out
        if out is not None and out.done():
            self._out = None
            try:
                self._left.extend(out.result().stats)
            except BaseException as e:  # noqa: BLE001 - a failed look costs one full read
                log.warning("the sweep's look failed (%s: %s): reading every attempt",
                            type(e).__name__, e)
                self._left.extend((aid, None) for aid in self._aids)
        return bool(self._left)

    def next(self) -> tuple[str, Stats | None] | None:
        """The next attempt of the plan and its look (None: read all its files)."""
        return self._left.popleft() if self._left else None
