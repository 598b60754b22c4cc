"""The detail panel: the selected task in six tabs.

Progress, Diff, Result, Prompt and Events are loaded by a thread worker (files, git, SQLite)
when the selection or the tab changes, and again when the feed reports new events for the task.
Log is a live tail of the selected attempt's ``output.log``, started when its tab is shown and
stopped when the selection moves on: one tail at a time, bounded in what it reads at once and
in what it keeps on screen. Every view is a line-API log, so new text repaints only itself.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar, Self

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.timer import Timer
from textual.widgets import RichLog, TabbedContent, TabPane
from textual.worker import get_current_worker

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.model import TaskView
from swarmtui.model.labels import STATE_LABEL
from swarmtui.textsafe import term_safe
from swarmtui.tui import logfmt
from swarmtui.tui.loaders import LOADERS, Target
from swarmtui.tui.tail import Tail

TABS: tuple[tuple[str, str], ...] = (
    ("progress", "1 Progress"), ("log", "2 Log"), ("diff", "3 Diff"), ("result", "4 Result"),
    ("prompt", "5 Prompt"), ("events", "6 Events"),
)
LOG_LINES = 2000  # what the Log tab keeps; older lines scroll away
FIRST_LINES = 200  # shown when a log is opened: its newest lines (the file has the rest)
TAIL_INTERVAL = 0.25
# Tabs whose newest lines are at the bottom: show the end, and keep following it.
_FOLLOW = {"progress", "events"}


class InPlace(RichLog):
    """A line-API log whose box is set by the panel around it, never by its text. Textual
    lays out the whole screen whenever a log's scrollable size changes (and clearing and
    writing a text changes it twice); here a text change repaints this view only and moves
    its scrollbars, and only a scrollbar that appears or goes takes a layout pass."""

    _quiet = False  # inside ``in_place``: a size change of the text lays nothing out
    _resized = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        if layout and self._quiet:
            layout = False
            self._resized = True
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @contextmanager
    def in_place(self) -> Iterator[None]:
        """Change the text inside this; the view keeps its box (once it has been laid out)."""
        self._quiet = self._size_known and bool(self.container_size)
        self._resized = False
        try:
            yield
        finally:
            quiet, self._quiet = self._quiet, False
            if quiet and self._resized:
                # What a layout pass would do for this view: scrollbars and scroll limits.
                self._scroll_update(self.virtual_size)


class TextView(InPlace):
    """Read-only text that can be replaced. A line-API log rather than a Static in a scroll
    container: replacing the text repaints this view only, with no layout pass of the screen.
    Text that only grew at its end (a progress file, the events) has just its new lines
    rendered and drawn."""

    def __init__(self, *, wrap: bool = True, **kw: object) -> None:
        super().__init__(wrap=wrap, markup=False, highlight=False, auto_scroll=False,
                         min_width=20, **kw)  # type: ignore[arg-type]
        self._source = Text(end="")
        self._plain: str | None = None  # the text shown, when it was given as a string
        self._follow = False
        self._width = 0

    def _render_width(self, text: Text) -> int | None:
        """Wrap at the view's width (not the console's, which may lag a resize); unwrapped
        text gets its longest line, so nothing is cut."""
        view = max(self.min_width, self.scrollable_content_region.width)
        if not self.scrollable_content_region.width:
            return None  # not laid out yet: the log defers the write until it is
        if self.wrap:
            return view
        longest = max((cell_len(line) for line in text.plain.split("\n")), default=0)
        return max(view, min(longest, 1000))

    def on_resize(self, event: events.Resize) -> None:
        # Lines are wrapped when written: a new width needs them written again.
        width = self.scrollable_content_region.width
        if width != self._width and self._width and self.lines:
            # After the refresh: the console measures text against the new size only then.
            self.call_after_refresh(self._rewrap)
        self._width = width

    def _rewrap(self) -> None:
        """Write the text shown again at the view's width: the text shown when this runs, not
        when the resize came (a load for another task may have landed in between)."""
        text = self._plain if self._plain is not None else self._source
        self.set_text(text, follow=self._follow, fresh=self._follow, rewrap=True)

    @property
    def text(self) -> str:
        return "\n".join(line.text.rstrip() for line in self.lines)

    def set_text(self, text: str | Text, *, follow: bool, fresh: bool,
                 rewrap: bool = False) -> None:
        """Replace the text; keep the reader's place unless ``fresh`` (another task), and
        keep following the end if ``follow`` and the reader was there. ``rewrap``: the same
        text at a new width, written again in full."""
        at_end = self.scroll_y >= self.max_scroll_y - 1
        old = self._plain if not (fresh or rewrap) and self.lines and self.wrap else None
        if isinstance(text, str) and old is not None:
            if text == old and follow == self._follow:
                return  # reloaded, and nothing changed: nothing to draw
            if follow and self._follow and text.startswith(old + "\n"):
                self._grow(text, len(old) + 1, at_end)
                return
        y = self.scroll_y
        to_end = follow and (fresh or at_end)
        self._follow = follow
        self._source = text if isinstance(text, Text) else Text(text, end="")
        self._plain = text if isinstance(text, str) else None
        with self.in_place():
            self.clear()
            self.write(self._source, width=self._render_width(self._source),
                       scroll_end=to_end)
        if not to_end and not fresh:
            self.call_after_refresh(self.scroll_to, y=y, animate=False)

    def _grow(self, text: str, start: int, at_end: bool) -> None:
        """``text`` is the text shown plus lines at its end: write only those."""
        more = Text(text[start:], end="")
        self._source = Text(text, end="")
        self._plain = text
        with self.in_place():
            self.write(more, width=self._render_width(more), scroll_end=at_end)


class DiffView(TextView):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"diff--file", "diff--hunk", "diff--add",
                                             "diff--del"}

    def __init__(self, **kw: object) -> None:
        super().__init__(wrap=False, **kw)

    def styled(self, text: str) -> Text:
        styles: dict[str, Style] = {}
        out = Text(end="")
        for line in text.split("\n"):
            kind = logfmt.diff_kind(line)
            if kind is not None and kind not in styles:
                styles[kind] = self.get_component_rich_style(f"diff--{kind}", partial=True)
            out.append(line + "\n", styles[kind] if kind else "")
        out.rstrip()
        return out


class LogView(InPlace):
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"log--{k}" for k in (
        logfmt.TEXT, logfmt.TOOL, logfmt.RESULT, logfmt.ERROR, logfmt.META, logfmt.RAW)}

    def __init__(self, **kw: object) -> None:
        super().__init__(max_lines=LOG_LINES, wrap=True, markup=False, highlight=False,
                         auto_scroll=True, min_width=20, **kw)  # type: ignore[arg-type]
        self._source: deque[logfmt.LogLine] = deque(maxlen=LOG_LINES)
        self._width = 0

    def reset(self) -> None:
        with self.in_place():
            self.clear()
        self._source.clear()

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width and self._width:
            self.call_after_refresh(self.redo)
        self._width = width

    def redo(self) -> None:
        """Write the kept lines again (another width, another theme)."""
        if self._source:
            kept = list(self._source)
            self.reset()
            self.add(kept)

    def add(self, lines: list[logfmt.LogLine]) -> None:
        """Append lines with one write (one render), however many arrived at once."""
        if not lines:
            return
        self._source.extend(lines)
        styles: dict[str, Style] = {}
        text = Text(end="")
        for i, ln in enumerate(lines):
            if ln.kind not in styles:
                styles[ln.kind] = self.get_component_rich_style(f"log--{ln.kind}", partial=True)
            text.append(ln.text, styles[ln.kind])
            if i < len(lines) - 1:
                text.append("\n")
        width = self.scrollable_content_region.width
        with self.in_place():
            self.write(text, width=max(self.min_width, width) if width else None)


class DetailPanel(Vertical):
    """Shows one task; ``show`` is called on selection and on news about the task."""

    class Loaded(Message):
        def __init__(self, target: Target, tab: str, text: str) -> None:
            super().__init__()
            self.target, self.tab, self.text = target, tab, text

    class LogLines(Message):
        def __init__(self, target: Target, lines: list[logfmt.LogLine], reset: bool) -> None:
            super().__init__()
            self.target, self.lines, self.reset = target, lines, reset

    def __init__(self, client: Callable[[], RunClient | None], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._client = client
        self.task_view: TaskView | None = None
        self.target: Target | None = None
        self.loaded: dict[str, Target] = {}  # tab -> the target its content is current for
        self.shown: dict[str, Target] = {}  # tab -> the target it displays (maybe outdated)
        self._pending: Timer | None = None
        self._tailing: Target | None = None
        self._shown_titles: tuple[str, str] | None = None  # the border's, as last set

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for tab, title in TABS:
                with TabPane(title, id=f"tab-{tab}"):
                    if tab == "log":
                        yield LogView(id="view-log")
                    elif tab == "diff":
                        yield DiffView(id="view-diff")
                    else:
                        yield TextView(id=f"view-{tab}")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _t: self.call_after_refresh(
            self._theme_changed))

    def _theme_changed(self) -> None:
        """Colours are baked into written lines: write them again in the new theme's."""
        self.query_one(LogView).redo()
        self.loaded.clear()
        self.shown.clear()
        self._schedule(0)

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("tab-") or "progress"

    def activate(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._schedule(0)

    # -- what to show ----------------------------------------------------------------------------

    def show(self, task: TaskView | None, base: str, *, news: bool = False) -> None:
        """Show ``task`` (None: nothing selected); ``news``: the feed saw events for it."""
        self.task_view = task
        if task is None:
            self.target = None
            self._titles("no task selected", "")
            return
        target = Target(task.id, task.attempt, base)
        moved = target != self.target
        self.target = target
        tries = task.attempt - task.attempt_base
        title = f"{task.id}" + (f"-{task.attempt}" if tries > 0 else "") + \
            f" · {term_safe(task.spec.title)}"
        live = task.state in ("running", "verifying")
        self._titles(title, " · ".join(x for x in (
            STATE_LABEL[task.state], task.spec.role, task.ran_on or task.spec.agent,
            f"account {task.account}" if task.account else "",
            f"context {task.context_pct:.0f}%" if live and task.context_pct is not None
            else "",
            f"window {task.window}" if task.window and task.state in ("running", "verifying")
            else "") if x))
        if moved:
            self.loaded.clear()
            self._schedule(0.025)  # coalesce a run of cursor moves into one load
        elif news:
            self.loaded.clear()  # every tab may be stale now; the shown one reloads
            self._schedule(0.1)

    def _titles(self, title: str, subtitle: str) -> None:
        """Set the border's title and subtitle when they read differently: setting either
        repaints the whole panel, and a frame that repaints it and a table row renders every
        widget between them (the selected agent's progress did that every few seconds)."""
        if (title, subtitle) != self._shown_titles:
            self._shown_titles = (title, subtitle)
            self.border_title = title
            self.border_subtitle = subtitle

    def _schedule(self, delay: float) -> None:
        if self._pending is not None:
            self._pending.stop()
        self._pending = self.set_timer(delay, self._load_now) if delay else None
        if not delay:
            self._load_now()

    def _load_now(self) -> None:
        self._pending = None
        tab, target, task = self.active_tab, self.target, self.task_view
        if target != self._tailing:
            self._stop_tail()  # one tail at a time: the selected attempt's, once its tab is shown
        if target is None or task is None:
            return
        client = self._client()
        if client is None:
            return
        if tab == "log":
            if self._tailing != target:
                self._stop_tail()
                self.query_one(LogView).reset()
                self._tailing = target
                self._tail(client, target)
            return
        if self.loaded.get(tab) == target:
            return
        self._load(client, task, target, tab)

    def _stop_tail(self) -> None:
        self.workers.cancel_group(self, "tail")
        self._tailing = None

    # -- workers (threads) -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def _load(self, client: RunClient, task: TaskView, target: Target, tab: str) -> None:
        try:
            text = term_safe(LOADERS[tab](client, task, target), multiline=True)
        except Exception as e:  # noqa: BLE001 - a tab that cannot load says why
            text = term_safe(f"could not load {tab}: {type(e).__name__}: {e}")
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(target, tab, text))

    @work(thread=True, exclusive=True, group="tail")
    def _tail(self, client: RunClient, target: Target) -> None:
        worker = get_current_worker()
        if target.attempt <= 0:
            self.post_message(self.LogLines(target, [logfmt.LogLine("no attempt yet")], True))
            return
        tail = Tail(client.agent_dir(target.task, target.attempt) / P.OUTPUT_LOG,
                    initial_bytes=64 * 1024)
        announced = False
        keep = FIRST_LINES
        while not worker.is_cancelled:
            raw, reset = tail.read()
            lines = [ln for r in raw[-keep:] for ln in logfmt.readable(r)]
            keep = LOG_LINES
            if lines or reset:
                announced = True
                self.post_message(self.LogLines(target, lines[-LOG_LINES:], reset))
            elif not announced:
                announced = True
                self.post_message(self.LogLines(target, [logfmt.LogLine(
                    f"{target.agent_id}: no output yet", logfmt.META)], False))
            time.sleep(TAIL_INTERVAL)

    # -- results ---------------------------------------------------------------------------------

    def on_detail_panel_loaded(self, msg: Loaded) -> None:
        msg.stop()
        if msg.target != self.target:
            return  # the selection moved on meanwhile
        fresh = self.shown.get(msg.tab) != msg.target
        self.loaded[msg.tab] = self.shown[msg.tab] = msg.target
        if msg.tab == "diff":
            view = self.query_one(DiffView)
            view.set_text(view.styled(msg.text), follow=False, fresh=fresh)
        else:
            self.query_one(f"#view-{msg.tab}", TextView).set_text(
                msg.text, follow=msg.tab in _FOLLOW, fresh=fresh)

    def on_detail_panel_log_lines(self, msg: LogLines) -> None:
        msg.stop()
        if msg.target != self._tailing:
            return
        log = self.query_one(LogView)
        if msg.reset:
            log.reset()
        log.add(msg.lines)
