"""The detail panel: the selected task in six tabs.

Progress, Diff, Result, Prompt and Events are loaded by a thread worker (files, git, SQLite)
when the selection or the tab changes, and again when the feed reports new events for the task.
Log is a live tail of the selected attempt's ``output.log``, and only while its tab is shown:
one tail at a time, bounded both in what it reads and in what it keeps on screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import RichLog, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.model import TaskView
from swarmtui.tui import logfmt
from swarmtui.tui.loaders import LOADERS, Target
from swarmtui.tui.tail import Tail

TABS: tuple[tuple[str, str], ...] = (
    ("progress", "1 Progress"), ("log", "2 Log"), ("diff", "3 Diff"), ("result", "4 Result"),
    ("prompt", "5 Prompt"), ("events", "6 Events"),
)
LOG_LINES = 2000  # what the Log tab keeps; older lines scroll away
TAIL_INTERVAL = 0.25
# Tabs whose newest lines are at the bottom: show the end, and keep following it.
_FOLLOW = {"progress", "events"}


class TextView(VerticalScroll):
    """Scrollable text; keeps following the end if the user was already there."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="body", markup=False)

    def set_text(self, text: str | Text, *, follow: bool, fresh: bool) -> None:
        at_end = self.scroll_y >= self.max_scroll_y - 1
        self.query_one(".body", Static).update(text)
        if fresh:
            self.scroll_home(animate=False, immediate=True)
        if follow and (fresh or at_end):
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)


class DiffView(TextView):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"diff--file", "diff--hunk", "diff--add",
                                             "diff--del"}

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


class LogView(RichLog):
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"log--{k}" for k in (
        logfmt.TEXT, logfmt.TOOL, logfmt.RESULT, logfmt.ERROR, logfmt.META, logfmt.RAW)}

    def __init__(self, **kw: object) -> None:
        super().__init__(max_lines=LOG_LINES, wrap=True, markup=False, highlight=False,
                         auto_scroll=True, **kw)  # type: ignore[arg-type]

    def add(self, lines: list[logfmt.LogLine]) -> None:
        styles: dict[str, Style] = {}
        for ln in lines:
            if ln.kind not in styles:
                styles[ln.kind] = self.get_component_rich_style(f"log--{ln.kind}", partial=True)
            self.write(Text(ln.text, style=styles[ln.kind], end=""))


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
            self.border_title = "no task selected"
            self.border_subtitle = ""
            return
        target = Target(task.id, task.attempt, base)
        moved = target != self.target
        self.target = target
        tries = task.attempt - task.attempt_base
        self.border_title = f"{task.id}" + (f"-{task.attempt}" if tries > 0 else "") + \
            f" · {task.spec.title}"
        self.border_subtitle = " · ".join(x for x in (
            str(task.state), task.spec.role, task.spec.agent,
            f"window {task.window}" if task.window and task.state in ("running", "verifying")
            else "") if x)
        if moved:
            self.loaded.clear()
            self._schedule(0.04)  # coalesce a run of cursor moves into one load
        elif news:
            self.loaded.pop(self.active_tab, None)
            self._schedule(0.1)

    def reload(self) -> None:
        self.loaded.clear()
        self._schedule(0)

    def _schedule(self, delay: float) -> None:
        if self._pending is not None:
            self._pending.stop()
        self._pending = self.set_timer(delay, self._load_now) if delay else None
        if not delay:
            self._load_now()

    def _load_now(self) -> None:
        self._pending = None
        tab, target, task = self.active_tab, self.target, self.task_view
        if tab != "log":
            self._stop_tail()
        if target is None or task is None:
            return
        client = self._client()
        if client is None:
            return
        if tab == "log":
            if self._tailing != target:
                self._stop_tail()
                self.query_one(LogView).clear()
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
            text = LOADERS[tab](client, task, target)
        except Exception as e:  # noqa: BLE001 - a tab that cannot load says why
            text = f"could not load {tab}: {type(e).__name__}: {e}"
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(target, tab, text))

    @work(thread=True, exclusive=True, group="tail")
    def _tail(self, client: RunClient, target: Target) -> None:
        worker = get_current_worker()
        if target.attempt <= 0:
            self.post_message(self.LogLines(target, [logfmt.LogLine("no attempt yet")], True))
            return
        tail = Tail(client.agent_dir(target.task, target.attempt) / P.OUTPUT_LOG)
        announced = False
        while not worker.is_cancelled:
            raw, reset = tail.read()
            lines = [ln for r in raw for ln in logfmt.readable(r)]
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
            log.clear()
        log.add(msg.lines)
