"""Writes `.swarm/status.json` (``swarmtui/statusfile.py``), so `status` need not fold the log.

When the run has changed: at most once a second by itself, and soon after a nudge (a `status`
reader that found the file behind the log nudges, like any command). A change made only of an
agent's chatter (progress lines, signs of life, context fill: most of a busy fleet's log) waits
up to ``CHATTER_EVERY_S`` unasked: a reader finds the file behind then and nudges, as it
would for any event written since the last file (at 500 agents the log moves every few ms).

The view is built on the loop thread, where the state cannot change under it (15 to 40 ms at
500 tasks on this project's loaded 2-core box: ``bench/status.py`` prints it); turning it into
the file's text and writing it, as long again, run on the snapshot worker, one write at a
time. Writes asked for are at least ``ASKED_GAP`` apart, and further when the view is slow to
build (``SHARE``): readers, or an agent nudging in a loop, can take no more than a tenth of the
loop's time.

The file stands for the log only while the projection is the fold of every row of the run: a row
this supervisor did not write (its seq skips one: a foreign writer, a hand-made row) or could
not read (``Store.skipped``) ends the file for this supervisor's life, and `status` reads the
log, which says what it finds there.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from swarmtui import __version__, statusfile
from swarmtui.config import Config
from swarmtui.engine.messages import Wake
from swarmtui.engine.ports import Ports
from swarmtui.engine.run.statusview import Anchor, valid_until, view
from swarmtui.model import Event, EventKind, RunState

EVERY_S = 1.0  # a changed run is written this often with nobody asking
CHATTER_EVERY_S = 5.0  # and this often when only agents' chatter changed it
# Events that change little a reader acts on, and come by the thousand.
CHATTER = frozenset({EventKind.PROGRESS, EventKind.AGENT_ACTIVITY, EventKind.API_RETRY,
                     EventKind.CONTEXT_FILL})
ASKED_GAP = 0.1  # and no more often than this when readers ask
SHARE = 0.1  # nor so often that building views would take more of the loop than this

# The modules whose code decides what the view says: the fold, the rows and needs, accounts,
# adapters' capabilities, the config model, the store's rows and the file's own format. A reader
# uses the file only while every one of them is as the supervisor loaded it.
CODE = ("swarmtui.model", "swarmtui.render", "swarmtui.engine.run.statusview",
        "swarmtui.engine.accounts", "swarmtui.engine.adapters", "swarmtui.config",
        "swarmtui.store", "swarmtui.storerows", "swarmtui.legacy", "swarmtui.textsafe",
        "swarmtui.statusfile")


def code_identity() -> dict[str, Any]:
    """This process's package, version, and the size and time of each module in ``CODE``."""
    root = statusfile.package_root()
    files = []
    for name, mod in sorted(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if path is None or not any(name == c or name.startswith(c + ".") for c in CODE):
            continue
        try:
            st = os.stat(path)
            rel = Path(path).resolve().relative_to(root)
        except (OSError, ValueError):
            continue
        files.append([str(rel), st.st_size, st.st_mtime_ns])
    return {"root": str(root), "version": __version__, "files": files}


def document(state: RunState, config: Config, now: float, *, code: dict[str, Any],
             vouched: list[statusfile.Identity]
             ) -> tuple[dict[str, Any], dict[str, Any], list[Anchor]]:
    """What ``statusfile.write`` takes for ``state`` at ``now``: the file's head (who wrote
    it, for which log position; see ``statusfile.usable``), the view and its anchors."""
    obj, anchors = view(state, config, now)
    head = {"format": statusfile.FORMAT, "pid": os.getpid(), "run": state.run,
            "seq": state.last_seq, "at": now, "valid_until": valid_until(state, now),
            "zone": statusfile.zone(), "code": code, "vouched": vouched}
    return head, obj, anchors


class StatusWriter:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._seq = -1  # the log position of the last view handed to the worker
        self._at = float("-inf")
        self._asked = False
        self._job: Future[bool] | None = None
        self._code: dict[str, Any] | None = None
        self._vouched: list[statusfile.Identity] = []
        self._cost = 0.0  # seconds the last view took to build
        self._prev: int | None = ports.state.last_seq or None  # the newest event folded
        self._whole = True  # no row of the run is missing from the projection
        self._dropped = False
        self._news = True  # an event other than chatter since the last view
        self._recall = False  # a wake is arranged for when a reader's write may go

    def vouch(self, config: Path | None) -> None:
        """The config file this supervisor loaded without an error, as it is now: a reader
        whose own lookup finds this very file may skip loading it."""
        ident = statusfile.identity(config) if config is not None else None
        if ident is not None:
            self._vouched.append(ident)

    def heard(self, ev: Event) -> None:
        if self._prev is not None and ev.seq != self._prev + 1:
            self._whole = False  # someone else wrote the rows between
        self._prev = ev.seq
        if ev.kind not in CHATTER:
            self._news = True

    def step(self, now: float) -> None:
        self._maybe_write(now)

    def woken(self, msg: Wake) -> None:
        """A nudge: perhaps a reader waits for a file as new as the log (or the wake that
        ``_call_back`` arranged: either way this look arranges another if it must)."""
        self._asked = True
        self._recall = False
        self._maybe_write(self.ports.now())

    def _maybe_write(self, now: float) -> None:
        st = self.ports.state
        if not self._whole or self.ports.store.skipped:
            if not self._dropped:
                self._dropped = True
                self.ports.workers.store.submit(statusfile.remove, self.ports.swarm)
            return
        if not st.run or st.settings is None or st.last_seq == self._seq:
            self._asked = False
            return
        if self._job is not None and not self._job.done():
            if self._asked:  # one write at a time: look again when this one is done
                self._call_back(job=self._job)
            return
        gap = (max(ASKED_GAP, self._cost / SHARE) if self._asked
               else EVERY_S if self._news else CHATTER_EVERY_S)
        if now - self._at < gap:
            if self._asked:
                self._call_back(delay=gap - (now - self._at))
            return
        self._asked = False
        self.write(now)

    def _call_back(self, *, delay: float = 0.0, job: Future[bool] | None = None) -> None:
        """A reader waits (it nudged) but the write may not go yet: be woken when it may, when
        ``job`` (the write still running) is done or after ``delay``. Left to the next tick (up
        to a second away) the write came after the reader's wait had ended and sent it to the
        log, about one answer in three at 500 agents."""
        if self._recall:
            return
        self._recall = True
        wake = Wake("status file")
        if job is not None:
            job.add_done_callback(lambda _f: self.ports.workers.post(wake))
        else:
            self.ports.workers.post_later(min(max(delay, 0.01), 1.0), wake)

    def write(self, now: float) -> None:
        st = self.ports.state
        if self._code is None:
            self._code = code_identity()
        started = time.perf_counter()
        head, obj, anchors = document(st, self.ports.config, now, code=self._code,
                                      vouched=self._vouched)
        self._cost = time.perf_counter() - started
        self._seq, self._at, self._news = st.last_seq, now, False
        self._job = self.ports.workers.store.submit(statusfile.write, self.ports.swarm, head,
                                                    obj, anchors)
