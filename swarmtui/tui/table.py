"""The agents table: one row per task, updated cell by cell.

Rows arrive from the feed as ``view.Row`` values; only cells whose value changed are written
(``update_cell``), so a hundred agents ticking their runtimes cost a hundred small writes, not a
rebuild. Filtering adds and removes rows; sorting reorders them in place. The cursor follows
its task through both. Colours come from component classes styled in ``app.tcss``.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from swarmtui.model import TaskState
from swarmtui.tui.view import COLUMNS, SORT_MODES, Cell, Row

STYLE_CLASSES = (
    {f"state--{s}" for s in TaskState}
    | {"health--ok", "health--warn", "health--bad", "diff--add", "diff--del",
       "forecast--clean", "forecast--conflict", "cell--id"}
)


class AgentsTable(DataTable[Text]):
    """The fleet, one row per task (row key = task id)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | STYLE_CLASSES
    # DataTable's own keys minus enter, which belongs to the screen's "jump" binding (remappable).
    inherit_bindings = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kw)  # type: ignore[arg-type]
        self.rows_by_task: dict[str, Row] = {}  # every task, shown or filtered out
        self.filter_text = ""
        self.sort_mode = SORT_MODES[0]
        self._styles: dict[str, Style] = {}

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col.label, key=col.key)
        self.app.theme_changed_signal.subscribe(self, lambda _t: self.call_after_refresh(
            self.restyle))

    # -- styles --------------------------------------------------------------------------------

    def _style(self, name: str | None) -> Style | str:
        if not name:
            return ""
        st = self._styles.get(name)
        if st is None:
            st = self.get_component_rich_style(name, partial=True)
            self._styles[name] = st
        return st

    def render_cell(self, cell: Cell) -> Text:
        if cell.parts:
            return Text.assemble(*((s, self._style(c)) for s, c in cell.parts))
        return Text(cell.text, style=self._style(cell.style), no_wrap=True, end="")

    def restyle(self) -> None:
        """After a theme change: every styled cell again (the one full rewrite there is)."""
        self._styles.clear()
        for key in list(self.rows):
            row = self.rows_by_task.get(key.value or "")
            if row is None:
                continue
            for col, cell in zip(COLUMNS, row.cells, strict=True):
                if cell.style or cell.parts:
                    self.update_cell(key, col.key, self.render_cell(cell))

    # -- rows ----------------------------------------------------------------------------------

    def matches(self, row: Row) -> bool:
        return not self.filter_text or all(w in row.search for w in self.filter_text.split())

    @property
    def selected_task(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return key.value

    def apply(self, changed: dict[str, Row], removed: list[str], *, reset: bool = False) -> None:
        """Bring the table up to date with the feed's changes."""
        keep = self.selected_task
        if reset:
            self.clear()
            self.rows_by_task = {}
        resort = False
        for tid in removed:
            self.rows_by_task.pop(tid, None)
            if self._shown(tid):
                self.remove_row(tid)
        for tid, row in changed.items():
            old = self.rows_by_task.get(tid)
            self.rows_by_task[tid] = row
            want = self.matches(row)
            if want and not self._shown(tid):
                self.add_row(*(self.render_cell(c) for c in row.cells), key=tid)
                resort = True
            elif not want and self._shown(tid):
                self.remove_row(tid)
            elif want and old is not None:
                for col, a, b in zip(COLUMNS, old.cells, row.cells, strict=True):
                    if a != b:
                        self.update_cell(tid, col.key, self.render_cell(b), update_width=True)
                resort = resort or old.sort_key(self.sort_mode) != row.sort_key(self.sort_mode)
        if resort:
            self._sort()
        self._restore(keep)

    def _shown(self, tid: str) -> bool:
        return tid in self.rows  # DataTable.rows is keyed by RowKey, which hashes like its str

    def _restore(self, task: str | None) -> None:
        if task is None:
            return
        try:
            idx = self.get_row_index(task)
        except RowDoesNotExist:
            return
        if idx != self.cursor_row:
            self.move_cursor(row=idx, animate=False, scroll=True)

    def _sort(self) -> None:
        mode = self.sort_mode
        rows = self.rows_by_task
        self.sort("id", key=lambda cell: rows[cell.plain].sort_key(mode)
                  if cell.plain in rows else ())

    def set_sort(self, mode: str) -> None:
        keep = self.selected_task
        self.sort_mode = mode
        self._sort()
        self._restore(keep)

    def set_filter(self, text: str) -> None:
        keep = self.selected_task
        self.filter_text = text.lower().strip()
        for tid, row in self.rows_by_task.items():
            want = self.matches(row)
            if want and not self._shown(tid):
                self.add_row(*(self.render_cell(c) for c in row.cells), key=tid)
            elif not want and self._shown(tid):
                self.remove_row(tid)
        self._sort()
        self._restore(keep)

    def select_task(self, task: str) -> bool:
        try:
            idx = self.get_row_index(task)
        except RowDoesNotExist:
            return False
        self.move_cursor(row=idx, animate=False, scroll=True)
        return True
