"""The periodic sweep's look at open attempts' files: taken on a worker, judged on the loop.

The sweep (every few seconds, so that a watcher that lost its folder blinds nothing) used to
open every protocol file of every open attempt on the loop thread: four opens per attempt, two
thousand at 500 agents, and on a loaded box one sweep held the loop for seconds. Now a worker
``stat``s the files (``look``: through ``runtime.files``, so a link or a FIFO is never
followed or opened) and posts what it saw as a ``SweepLooked`` fact; the loop compares each
stat with what it has already read (``to_read``: no I/O) and reads, as before, only the files
that hold something new. The worker decides nothing and keeps no state: the read positions
stay with the loop, so a read that fails (a full disk) is simply found again by the next look.

A look can only make the loop read less where reading would have found nothing: a file equal
to its last full read, a signals file no longer than its read position, a results.json already
taken or unchanged since it was parsed, no exit.json. Everything else, and every file the
worker could not look at (refused, an error), is read on the loop exactly as the sweep read it,
in the same order (progress first, the exit record last, after draining the attempt's files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.engine.messages import LOOKED_FILES, SweepLooked
from swarmtui.engine.runtime.files import FileStat, stat_under
from swarmtui.engine.runtime.ingest import AttemptFiles

UNSEEN = "unseen"  # the worker could not look at the file: the loop reads it and says why


def look(swarm: Path, aids: Sequence[str]) -> SweepLooked:
    """On a worker: the stat of each protocol file of each attempt (None: no such file)."""
    out: list[tuple[str, tuple[FileStat | str | None, ...]]] = []
    for aid in aids:
        stats: list[FileStat | str | None] = []
        for name in LOOKED_FILES:
            try:
                stats.append(stat_under(swarm, f"{P.AGENTS_DIR}/{aid}/{name}"))
            except (OSError, ValueError):  # refused (a link, a FIFO...) or unreadable
                stats.append(UNSEEN)
        out.append((aid, tuple(stats)))
    return SweepLooked(tuple(out))


def to_read(f: AttemptFiles, stats: tuple[FileStat | str | None, ...], *,
            unrecorded: bool, unsettled: bool) -> set[str] | None:
    """On the loop, no I/O: which of the attempt's files may hold something not yet read
    (an empty set: none), or None for all of them: its exit.json is there and its exit not
    yet recorded (``unrecorded``), or its exit is recorded but not yet settled
    (``unsettled``); ``read`` then drains progress and signals before the exit, as ever."""
    progress, signals, results, exit_ = stats
    if unsettled or (unrecorded and exit_ is not None):
        return None
    names: set[str] = set()
    if progress == UNSEEN or (isinstance(progress, FileStat)
                              and not f.progress_read_to(progress)):
        names.add(P.PROGRESS_FILE)
    if signals == UNSEEN or (isinstance(signals, FileStat)
                             and signals.size != f.signals_offset):
        names.add(P.SIGNALS_FILE)
    if results == UNSEEN or (isinstance(results, FileStat) and f.results_unseen(results)):
        names.add(P.RESULTS_FILE)
    return names
