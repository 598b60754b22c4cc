"""The agents table's drawing: a scroll view of rows rendered line by line from a cache of rows.

Textual's DataTable re-renders every visible cell after any change (its caches are keyed on one
counter for the whole table) and re-measures a whole column when a value gets shorter; with a
hundred agents reporting progress that is most of a CPU. This view keeps one rendered strip per
row: a change rebuilds that row's strip and repaints that one line, a cursor move repaints two
lines, and nothing else is touched. RUN and AGE are rendered as a line is painted, from the
feed's clock (``now``); a strip rendered with other RUN or AGE words is rendered again.
The widths fit the screen: LAST PROGRESS takes the spare width of a wide one; on a narrow one
TITLE, LAST PROGRESS and ID shrink first, and what still does not fit is a sideways scroll away
while ID stays put. Colours come from component classes styled in ``app.tcss``. What the rows
are, their order and when they change is ``table.py``'s.
"""


from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swarmtui.model import TaskState
from swarmtui.report.fmt import cut_middle, distinct_cut
from swarmtui.tui.view import AGE, COLUMN_INDEX, COLUMNS, RUNTIME, SORT_MODES, Row

GAP = 2  # spaces between columns
MARK = "▌"  # in the leading cell of a row marked with space
STYLE_CLASSES = (
    {f"state--{s}" for s in TaskState}
    | {"health--ok", "health--warn", "health--bad", "diff--add", "diff--del",
       "forecast--clean", "forecast--conflict", "cell--id", "table--header", "table--cursor",
       "table--cursor-blurred", "attention--urgent", "progress--bar", "table--mark"}
)
# How columns give up width when the screen is too narrow for all of them: (column, down to
# this many cells), in turn, so that no one column loses everything first.
SHRINK_STEPS = (("title", 12), ("merge", 14), ("role", 8), ("host", 8), ("progress", 24),
                ("id", 16), ("health", 12), ("progress", 16), ("title", 10), ("id", 10),
                ("role", 6), ("host", 6), ("health", 8), ("merge", 8))
PROGRESS = COLUMN_INDEX["progress"]
# Columns left out until some row has a value for them (context fill: only some agents say).
SHOWN_WHEN_USED = frozenset({COLUMN_INDEX["context"], COLUMN_INDEX["host"]})


def _floor(i: int, natural: int) -> int:
    col = COLUMNS[i]
    return min(natural, max(col.min_width, len(col.label))) if col.min_width else natural


def layout(natural: Sequence[int], visible: int, hidden: frozenset[int] = frozenset(),
           floors: dict[int, int] | None = None) -> list[int]:
    """Column widths for a table ``visible`` cells wide, from each column's natural width;
    ``hidden`` columns get 0 (they and their gap are left out); ``floors`` are widths a column
    never shrinks below (ID: wide enough that no two ids look the same once cut)."""
    floors = floors or {}
    widths = [0 if i in hidden else w for i, w in enumerate(natural)]
    # A leading space, and a gap after each column shown.
    room = visible - 1 - GAP * (len(widths) - len(hidden))
    spare = room - sum(widths)
    if spare >= 0:
        widths[PROGRESS] += spare  # a wide screen shows more of the progress line
        return widths
    for key, floor in SHRINK_STEPS:
        i = COLUMN_INDEX[key]
        if i in hidden:
            continue
        cut = min(widths[i] - max(floor, _floor(i, natural[i]), floors.get(i, 0)), -spare)
        if cut > 0:
            widths[i] -= cut
            spare += cut
        if spare >= 0:
            return widths
    # Not even that fits: LAST PROGRESS reaches the screen's edge and the columns after it are
    # a sideways scroll away.
    before = 1 + sum(w + GAP for w in widths[:PROGRESS] if w)
    widths[PROGRESS] = max(widths[PROGRESS], visible - before - GAP)
    return widths


def _fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width else ""
    return set_cell_size(text, width)


ID = COLUMN_INDEX["id"]
# Columns cut in the middle (``sub-t…anner-1``), not at the end: ids that share a prefix stay
# apart, and the ID column is kept wide enough (``distinct_cut``) that no two look the same.
MIDDLE_CUT = frozenset({ID})


class RowsView(ScrollView, can_focus=True):
    """The fleet, one row per task; the header stays put while the rows scroll."""

    COMPONENT_CLASSES: ClassVar[set[str]] = STYLE_CLASSES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
        Binding("left", "pan(-8)", "Scroll left", show=False),
        Binding("right", "pan(8)", "Scroll right", show=False),
    ]

    class Highlighted(Message):
        """The cursor is on another task (None: the table is empty)."""

        def __init__(self, task: str | None) -> None:
            super().__init__()
            self.task = task

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.rows_by_task: dict[str, Row] = {}  # every task, shown or filtered out
        self.order: list[str] = []  # the shown tasks, top to bottom
        self.filter_text = ""
        self.attention_only = False  # show only tasks that need the operator
        self.sort_mode = SORT_MODES[0]
        self.natural = [len(c.label) for c in COLUMNS]  # widest value so far (capped)
        self.hidden = set(SHOWN_WHEN_USED)  # no row has had a value for these yet
        self.off: set[int] = set()  # columns the operator turned off ([ui] columns, palette)
        self.widths = [0 if i in self.hidden else w for i, w in enumerate(self.natural)]
        self.cursor_row = 0
        # Until the operator moves the cursor it stays on the top row (what needs you most), not
        # on whichever task happened to be first when the table filled.
        self.moved = False
        self.rebuilt: list[str] = []  # tasks whose row was rendered again (tests, benchmark)
        self.now = 0.0  # the feed's clock: RUN and AGE are shown as of this
        self.marked: list[str] = []  # rows marked with space, in the order they were marked
        self.id_tail: int | None = None  # where ids are cut: what keeps every one apart
        # Each row's rendered line, with the RUN and AGE words it was rendered with.
        self._strips: dict[str, tuple[Strip, tuple[str, str]]] = {}
        self._styles: dict[str, Style] = {}
        self._base: Style | None = None  # the widget's own style (rich_style walks the DOM)
        self._regrow_asked = False
        self._header: Strip | None = None
        self._announced: str | None = None
        self._measured = time.monotonic()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _t: self.call_after_refresh(
            self.restyle))

    @property
    def row_count(self) -> int:
        return len(self.order)

    @property
    def selected_task(self) -> str | None:
        return self.order[self.cursor_row] if 0 <= self.cursor_row < len(self.order) else None

    def task_at(self, index: int) -> str:
        return self.order[index]

    def _style(self, name: str | None) -> Style | None:
        if not name:
            return None
        st = self._styles.get(name)
        if st is None:
            st = self.get_component_rich_style(name, partial=True)
            self._styles[name] = st
        return st

    @property
    def base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def restyle(self) -> None:
        """After a theme change every row is rendered again (the one full repaint there is)."""
        self._styles.clear()
        self._base = None
        self._strips.clear()
        self._header = None
        self.refresh()

    def on_focus(self) -> None:
        self._base = None
        self._repaint_row(self.cursor_row)

    def on_blur(self) -> None:
        self._base = None
        self._repaint_row(self.cursor_row)

    def _segments(self, cells: Sequence[tuple[Sequence[tuple[str, str | None]], int]],
                  base: Style, plain: bool, mark: bool = False) -> Strip:
        lead = Segment(MARK, base + (self._style("table--mark") or Style())) if mark else \
            Segment(" ", base)
        segs = [lead]
        for i, (parts, width) in enumerate(cells):
            if not width:
                continue  # a hidden column
            used = 0
            for text, cls in parts:
                room = width - used
                if room <= 0:
                    break
                shown = text if cell_len(text) <= room else (
                    cut_middle(text, room, self.id_tail if room == width else None)
                    if i in MIDDLE_CUT else _fit(text, room))
                style = base if plain or not cls else base + (self._style(cls) or Style())
                segs.append(Segment(shown, style))
                used += cell_len(shown)
            segs.append(Segment(" " * (width - used + GAP), base))
        return Strip(segs)

    def _row_strip(self, task: str, *, cursor: bool = False) -> Strip:
        row = self.rows_by_task[task]
        times = row.times(self.now)
        if not cursor:
            cached = self._strips.get(task)
            if cached is not None and cached[1] == times:
                return cached[0]
        if not self._regrow_asked and (len(times[0]) > self.natural[RUNTIME]
                                       or len(times[1]) > self.natural[AGE]):
            self._regrow_asked = True
            self.call_later(self._regrow)
        shown = row.shown(self.now)
        cells = [(c.parts or ((c.text, c.style),), w) for c, w in zip(shown, self.widths,
                                                                      strict=True)]
        mark = task in self.marked
        self.rebuilt.append(task)
        if cursor:
            return self._segments(cells, self._cursor_style(), plain=True, mark=mark)
        strip = self._segments(cells, self.base_style, plain=False, mark=mark)
        self._strips[task] = (strip, times)
        return strip

    def _cursor_style(self) -> Style:
        name = "table--cursor" if self.has_focus else "table--cursor-blurred"
        return self.get_component_rich_style(name)

    def _header_strip(self) -> Strip:
        if self._header is None:
            cells = [(((c.label, None),), w) for c, w in zip(COLUMNS, self.widths, strict=True)]
            self._header = self._segments(cells, self.base_style + (
                self._style("table--header") or Style()), plain=True)
        return self._header

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        x = self.scroll_offset.x
        if y == 0:
            strip = self._header_strip()
            base = self.base_style + (self._style("table--header") or Style())
        else:
            index = self.scroll_offset.y + y - 1
            base = self.base_style
            if not 0 <= index < len(self.order):
                return Strip.blank(width, base)
            on_cursor = index == self.cursor_row
            strip = self._row_strip(self.order[index], cursor=on_cursor)
            if on_cursor:
                base = self._cursor_style()
        if x == 0:
            return strip.crop_extend(0, width, base)
        fixed = min(width, 1 + self.widths[0] + GAP)  # the ID column does not scroll sideways
        return Strip.join([strip.crop(0, fixed),
                           strip.crop_extend(fixed + x, x + width, base)])

    def _content_width(self) -> int:
        return 1 + sum(w + GAP for w in self.widths if w)

    def _relayout(self) -> bool:
        """Fit the columns to the width on screen; True when any width changed."""
        visible = self.scrollable_content_region.width or self.size.width
        hidden = frozenset(self.hidden | self.off)
        floor, self.id_tail = distinct_cut(self.rows_by_task, COLUMNS[ID].min_width)
        floors = {ID: floor}
        widths = layout(self.natural, visible, hidden, floors) if visible > 0 else [
            0 if i in hidden else w for i, w in enumerate(self.natural)]
        if widths == self.widths:
            return False
        self.widths = widths
        self._strips.clear()
        self._header = None
        return True

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._content_width(), len(self.order) + 1)

    def _repaint_clock(self, index: int) -> None:
        """Repaint RUN and AGE of one line only: a second passing changes nothing else, and
        a terminal is sent only the cells that changed."""
        line = index - self.scroll_offset.y + 1
        if not 1 <= line < self.size.height:
            return
        if self.scroll_offset.x:
            self._repaint_row(index)  # scrolled sideways: where they are is not worth working out
            return
        x = 1 + sum(w + GAP for w in self.widths[:RUNTIME] if w)
        width = sum(w + GAP for w in self.widths[RUNTIME:AGE + 1] if w)
        self.refresh(Region(x, line, width, 1))

    def _repaint_row(self, index: int) -> None:
        line = index - self.scroll_offset.y + 1
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.size.width, 1))

    def _clock_grew(self, tasks: list[str]) -> bool:
        """Whether RUN or AGE of one of ``tasks`` got wider than its column as the clock
        moved ("59s" to "1m00s"). Rows off screen are measured when they are painted
        (``_row_strip``) and by the re-measure every few seconds."""
        grew = False
        for tid in tasks:
            run, age = self.rows_by_task[tid].times(self.now)
            for i, n in ((RUNTIME, cell_len(run)), (AGE, cell_len(age))):
                if n > self.natural[i]:
                    self.natural[i] = n
                    grew = True
        return grew

    def _regrow(self) -> None:
        """A row scrolled into view with a RUN or AGE wider than its column: widen it."""
        self._regrow_asked = False
        if self._clock_grew(list(self.rows_by_task)) and self._relayout():
            self._resize_virtual()
            self.refresh()

    def next_need(self) -> int | None:
        """The index of the next shown task that needs the operator, after the cursor (from the
        top when the cursor is on none), or None when no shown task does."""
        n = len(self.order)
        here = self.cursor_row
        start = here + 1 if 0 <= here < n and self.rows_by_task[self.order[here]].needs_you \
            else 0
        for k in range(n):
            i = (start + k) % n
            if self.rows_by_task[self.order[i]].needs_you:
                return i
        return None

    def select_index(self, index: int) -> None:
        self.moved = True
        self._set_cursor(index)

    def select_task(self, task: str) -> bool:
        if task not in self.order:
            return False
        self.moved = True
        self._set_cursor(self.order.index(task))
        return True

    def _set_cursor(self, index: int) -> None:
        index = max(0, min(index, len(self.order) - 1)) if self.order else 0
        old = self.cursor_row
        self.cursor_row = index
        self._repaint_row(old)
        self._repaint_row(index)
        self._scroll_to_cursor()
        task = self.selected_task
        if task != self._announced:
            self._announced = task
            self.post_message(self.Highlighted(task))

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        y = self.scroll_offset.y
        if self.cursor_row < y:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= y + rows_visible:
            self.scroll_to(y=self.cursor_row - rows_visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.moved = True
        self._set_cursor(self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self.moved = True
        self._set_cursor(self.cursor_row + delta * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.moved = True
        self._set_cursor(0)

    def action_last(self) -> None:
        self.moved = True
        self._set_cursor(len(self.order) - 1)

    def action_pan(self, delta: int) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x + delta), animate=False)

    def on_click(self, event: events.Click) -> None:
        at = event.get_content_offset(self)
        if at is not None and at.y >= 1:
            self.moved = True
            self._set_cursor(self.scroll_offset.y + at.y - 1)

    def on_resize(self) -> None:
        if self._relayout():
            self.refresh()
        self._resize_virtual()
        self._scroll_to_cursor()
