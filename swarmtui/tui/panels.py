"""The small always-visible panels: the top bar, the slots panel and the alerts line."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import Static

from swarmtui.model import TaskState
from swarmtui.tui.view import Alert, Header, Slots

RUN_STATES = ("running", "paused", "breaker_open", "finished", "stopped", "orphaned",
              "usage_limited", "loading", "no_run")


class Styled(Static):
    """A Static that styles its text with its own component classes (cached per theme)."""

    def __init__(self, **kw: object) -> None:
        super().__init__("", **kw)  # type: ignore[arg-type]
        self._style_cache: dict[str, Style] = {}

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _t: self._theme_changed())
        self.redraw()

    def _theme_changed(self) -> None:
        self._style_cache.clear()
        self.call_after_refresh(self.redraw)

    def st(self, name: str) -> Style:
        if name not in self._style_cache:
            self._style_cache[name] = self.get_component_rich_style(name, partial=True)
        return self._style_cache[name]

    def redraw(self) -> None:
        """Render the current value again (after a resize or a theme change)."""


class TopBar(Styled):
    """Repository, target and base, run state, slots, queue, cost against budget, elapsed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "topbar--name", "topbar--label", "topbar--value", "topbar--over", "topbar--readonly",
    } | {f"run--{s}" for s in RUN_STATES}

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.header = Header()

    def show(self, header: Header) -> None:
        self.header = header
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        h = self.header
        label, value = self.st("topbar--label"), self.st("topbar--value")
        budget = f" / ${h.budget:.2f}" if h.budget else ""
        over = h.budget and h.cost >= h.budget
        fields: list[list[tuple[str, Style | str]]] = [
            [(h.repo or "-", self.st("topbar--name")), (" ", ""), (h.target, value),
             ("@" + (h.base or "-"), label)],
            [("● " + h.status_text, self.st(f"run--{h.status}"))],
            [("slots ", label), (f"{h.used}/{h.max}", value), (f" (reserve {h.reserve})", label)],
            [("queue ", label), (str(h.queue), value)],
            [("cost ", label), (f"${h.cost:.2f}", self.st("topbar--over") if over else value),
             (budget, label)],
            [("elapsed ", label), (h.elapsed, value)],
        ]
        if h.read_only:
            fields.append([("read-only", self.st("topbar--readonly"))])
        width = self.size.width or 160
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        line = 0
        for i, f in enumerate(fields):
            n = sum(len(s) for s, _ in f)
            if i and line + 2 + n > width:
                text.append("\n")
                line = 0
            elif i:
                text.append("  ")
                line += 2
            for s, style in f:
                text.append(s, style)
            line += n
        self.update(text, layout=False)  # the bar's height is fixed by the stylesheet


class SlotsPanel(Styled):
    """Each pool's budget, used and queued; the tree of orchestrators and their sub-agents."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "slots--title", "slots--label", "slots--full",
    } | {f"state--{s}" for s in TaskState}

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.slots: Slots | None = None
        self._lines = 0

    def show(self, slots: Slots) -> None:
        if slots != self.slots:
            self.slots = slots
            self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        s = self.slots
        if s is None or not self.is_mounted:
            return
        t = Text(end="")
        title, label = self.st("slots--title"), self.st("slots--label")
        t.append("SLOTS ", title)
        t.append(f"{s.used}/{s.max}", self.st("slots--full") if s.used >= s.max else "")
        t.append(f"  reserve {s.reserve}\n", label)
        width = max([len(p.role) for p in s.pools] + [4])
        for p in s.pools:
            t.append(f" {p.role:<{width}} ", label)
            t.append(f"{p.used}/{p.max}", self.st("slots--full") if p.max and p.used >= p.max
                     else "")
            t.append(f"  queued {p.queued}\n" if p.queued else "\n", label)
        t.append("\nSUB-AGENTS ", title)
        t.append(f"budget {s.subtree_budget}, depth ≤ {s.max_depth}\n", label)
        if not s.tree:
            t.append(" none\n", label)
        room = max(8, (self.size.width or 34) - 12)
        for n in s.tree:
            t.append(f" {n.state:<9} ", self.st(f"state--{n.state}"))
            name = ("  " * (n.depth - 1) + "└ " if n.depth else "") + n.task
            t.append(name if len(name) <= room else name[: room - 1] + "…")
            if n.depth == 0 or n.subtree:
                t.append(f" {n.subtree}/{s.subtree_budget}", label)
            t.append("\n")
        t.rstrip()
        lines = len(t.plain.splitlines())
        # Re-layout only when the panel's height changes: a layout pass is the costly part.
        self.update(t, layout=lines != self._lines)
        self._lines = lines


class AlertsLine(Styled):
    """The newest alert, and how many there are."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "alert--error", "alert--warning", "alert--information", "alert--count",
    }

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.newest: Alert | None = None
        self.count = 0

    def show(self, newest: Alert | None, count: int) -> None:
        self.newest, self.count = newest, count
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        a = self.newest
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        if a is None:
            t.append("no alerts", self.st("alert--count"))
        else:
            when = datetime.fromtimestamp(a.time).strftime("%H:%M:%S")
            t.append(f"▲ {when} {a.text}", self.st(f"alert--{a.level}"))
            t.append(f"   {self.count} alert{'s' if self.count != 1 else ''} · a: all",
                     self.st("alert--count"))
        self.update(t, layout=False)


class KeyBar(Styled):
    """The keys of the fleet screen, after the user's keymap; click one to run it.

    Textual's Footer rebuilds all of its widgets whenever focus or bindings change, which on a
    busy screen costs more than everything else a key press does; this bar is one line of text
    drawn once per keymap.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--label"}

    def __init__(self, keys: list[tuple[str, str, str]], right: tuple[str, str, str] | None,
                 **kw: object) -> None:
        """``keys``: (key as shown, label, action) left to right; ``right``: one at the end."""
        super().__init__(**kw)
        self.keys = keys
        self.right = right
        self._spans: list[tuple[int, int, str]] = []

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        key, label = self.st("keybar--key"), self.st("keybar--label")
        t = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        width = self.size.width or 80
        items = list(self.keys)
        for shown, text, action in items:
            start = len(t.plain)
            t.append(f" {shown} ", key)
            t.append(f"{text} ", label)
            self._spans.append((start, len(t.plain), action))
        if self.right is not None:
            shown, text, action = self.right
            tail = f" {shown} {text} "
            if len(t.plain) + len(tail) + 2 <= width:
                t.append(" " * (width - len(t.plain) - len(tail)))
                start = len(t.plain)
                t.append(f" {shown} ", key)
                t.append(f"{text} ", label)
                self._spans.append((start, len(t.plain), action))
        self.update(t, layout=False)

    def on_click(self, event: events.Click) -> None:
        for start, end, action in self._spans:
            if start <= event.x < end:
                if action == "command_palette":
                    self.app.action_command_palette()
                else:
                    self.call_later(self.screen.run_action, action)
                return
