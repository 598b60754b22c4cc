"""The agents table: which rows it holds, in which order, and what repaints when the feed
brings changes or the clock moves.

A change rebuilds that row's strip and repaints that one line; filtering and sorting reorder
the rows (cheap: strips are kept). Columns grow (up to their cap) as values do; a shorter value
is noticed by a re-measure every few seconds, not at once. When the clock moves, only the lines
on screen whose RUN or AGE now read differently ("12s" to "13s"; "1h02m" stays for a minute)
are painted again, and only those cells; rows off screen cost nothing until they scroll in.
How a row is drawn is ``tablebase.py``'s.
"""

from __future__ import annotations

import itertools
import time

from rich.cells import cell_len
from rich.text import Text

from swarmtui.tui.tablebase import GAP, SHOWN_WHEN_USED, RowsView, layout
from swarmtui.tui.view import AGE, COLUMN_INDEX, COLUMNS, RUNTIME, Row

__all__ = ["GAP", "AgentsTable", "layout"]

REMEASURE = 5.0  # seconds between looks for columns that could be narrower


class AgentsTable(RowsView):
    """The fleet's rows as the feed sends them, filtered and sorted."""

    def cell(self, task: str, column: str) -> Text:
        """A cell as shown (text and style); for tests and the benchmark."""
        row = self.rows_by_task[task]
        i = next(n for n, c in enumerate(COLUMNS) if c.key == column)
        c = row.shown(self.now)[i]
        if not c.parts:
            return Text(c.text, style=self._style(c.style) or "")
        return Text.assemble(*((s, self._style(k) or "") for s, k in c.parts))

    def matches(self, row: Row) -> bool:
        if self.attention_only and not row.needs_you:
            return False
        return not self.filter_text or all(w in row.search for w in self.filter_text.split())

    def _shrink(self) -> bool:
        """Measure the columns again from the rows there are now: a value that got shorter
        (the long forecast of a task since merged) gives its width back to LAST PROGRESS.
        At most every few seconds: new widths repaint every row."""
        self._measured = time.monotonic()
        natural = [len(c.label) for c in COLUMNS]
        for row in self.rows_by_task.values():
            for i, n in enumerate(self._lengths(row)):
                natural[i] = max(natural[i], n)
        if natural == self.natural:
            return False
        self.natural = natural
        return True

    def _lengths(self, row: Row) -> list[int]:
        """How wide each of ``row``'s values is as shown now (up to its column's cap): the
        feed measured all but RUN and AGE."""
        out = list(row.lengths)
        run, age = row.times(self.now)
        out[RUNTIME], out[AGE] = cell_len(run), cell_len(age)
        return out

    def _grow(self, row: Row) -> bool:
        """Widen columns for ``row``'s values (never narrower); True when any grew."""
        grew = False
        for i, n in enumerate(self._lengths(row)):
            if n and i in self.hidden:
                self.hidden.discard(i)
                grew = True
            if n > self.natural[i]:
                self.natural[i] = n
                grew = True
        return grew

    def apply(self, changed: dict[str, Row], removed: list[str], *, reset: bool = False,
              now: float | None = None) -> None:
        """Bring the table up to date with the feed's changes (and its clock: ``now``)."""
        keep = self.selected_task
        then = self.now
        if now is not None:
            self.now = now
        if reset:
            self.rows_by_task, self.order, self._strips = {}, [], {}
            self.natural = [len(c.label) for c in COLUMNS]
            self.hidden = set(SHOWN_WHEN_USED)
        reorder = bool(removed)
        grew = False
        repaint: list[str] = []
        for tid in removed:
            self.rows_by_task.pop(tid, None)
            self._strips.pop(tid, None)
        if reset or removed:
            self.marked = [m for m in self.marked if m in self.rows_by_task]
        mode = self.sort_mode
        for tid, row in changed.items():
            old = self.rows_by_task.get(tid)
            self.rows_by_task[tid] = row
            self._strips.pop(tid, None)
            # A new id can need a wider ID column to stay apart from the others once cut.
            grew = self._grow(row) or old is None or grew
            if old is None or self.matches(old) != self.matches(row) or \
                    old.sort_key(mode, then) != row.sort_key(mode, self.now):
                reorder = True
            else:
                repaint.append(tid)
        moved: list[str] = []
        if self.now != then:
            moved = self._clock_moved(then)
            grew = self._clock_grew(moved) or grew
            reorder = reorder or self._clock_reorders()
        if not grew and time.monotonic() - self._measured >= REMEASURE:
            grew = self._shrink()
        if grew or reset:
            grew = self._relayout()
        if reorder or grew:
            self._reorder(keep)
            return
        shown = {t: i for i, t in enumerate(self.order)}
        for tid in repaint:
            if tid in shown:
                self._repaint_row(shown[tid])
        for tid in set(moved) - set(repaint):
            self._repaint_clock(shown[tid])

    def _clock_reorders(self) -> bool:
        """Whether the clock moved rows in the sort by runtime (a running attempt overtakes
        one that ended); no other order moves with the clock."""
        if self.sort_mode != "runtime":
            return False
        mode, now = self.sort_mode, self.now
        shown = [self.rows_by_task[t] for t in self.order]
        return any(a.sort_key(mode, now) > b.sort_key(mode, now)
                   for a, b in itertools.pairwise(shown))

    def _clock_moved(self, then: float) -> list[str]:
        """The rows on screen whose RUN or AGE read differently now than at ``then``."""
        top = self.scroll_offset.y
        on_screen = self.order[top:top + max(0, self.scrollable_content_region.height - 1)]
        return [t for t in on_screen
                if self.rows_by_task[t].times(then) != self.rows_by_task[t].times(self.now)]

    def _reorder(self, keep: str | None) -> None:
        rows = [r for r in self.rows_by_task.values() if self.matches(r)]
        mode, now = self.sort_mode, self.now
        rows.sort(key=lambda r: r.sort_key(mode, now))
        self.order = [r.task for r in rows]
        self._resize_virtual()
        if not self.moved:
            index = 0
        else:
            index = self.order.index(keep) if keep in self.order else min(
                self.cursor_row, max(0, len(self.order) - 1))
        self._set_cursor(index)
        self.refresh()

    def set_sort(self, mode: str) -> None:
        self.sort_mode = mode
        self._reorder(self.selected_task)

    def set_filter(self, text: str) -> None:
        self.filter_text = text.lower().strip()
        self._reorder(self.selected_task)

    def set_attention_only(self, on: bool) -> None:
        self.attention_only = on
        self._reorder(self.selected_task)

    def set_off(self, off: set[int]) -> None:
        """Turn columns off (ID stays): their width goes to LAST PROGRESS."""
        self.off = set(off) - {COLUMN_INDEX["id"]}
        self._relayout()
        self._resize_virtual()
        self.refresh()

    def toggle_mark(self, task: str) -> None:
        """Mark or unmark a row (its leading cell shows ▌)."""
        if task in self.marked:
            self.marked.remove(task)
        else:
            self.marked.append(task)
        self._strips.pop(task, None)
        if task in self.order:
            self._repaint_row(self.order.index(task))

    def clear_marks(self) -> None:
        marked, self.marked = self.marked, []
        for task in marked:
            self._strips.pop(task, None)
        self.refresh()
