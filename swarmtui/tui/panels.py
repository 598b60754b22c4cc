"""The small always-visible panels: the top bar, the slots panel, the alerts line, the key bar.

Each is one or a few lines of text drawn from a frozen value (``runview.py``), fitted to the
width it has: the top bar and the key bar stay one line at any width by shortening, then
leaving out, their least important parts first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import Static

from swarmtui.model import TaskState
from swarmtui.report.fmt import cut_middle, distinct_cut
from swarmtui.tui.runview import AlertItem, Header, Slots

RUN_STATES = ("running", "paused", "breaker_open", "finished", "stopped", "orphaned",
              "usage_limited", "loading", "no_run")
BAR_WIDTH = 10

Span = tuple[str, Style | str]


@dataclass
class Part:
    """One field of a one-line bar: its forms from the longest down (the last may be empty:
    left out), and for each step to the next form how readily it is taken (``give_up``: the
    highest goes first), so a bar can shorten everything before it leaves anything out."""

    forms: list[list[Span]]
    give_up: list[int]
    form: int = 0

    @property
    def spans(self) -> list[Span]:
        return self.forms[self.form]

    @property
    def width(self) -> int:
        return sum(cell_len(s) for s, _ in self.spans)


def fit(parts: Sequence[Part], width: int, gap: int = 2) -> list[Part]:
    """Take the steps parts give up most readily, one at a time, until the line fits."""
    def total() -> int:
        shown = [p for p in parts if p.width]
        return sum(p.width for p in shown) + gap * max(0, len(shown) - 1)

    while total() > width:
        can = [p for p in parts if p.form < len(p.give_up)]
        if not can:
            break
        max(reversed(can), key=lambda p: p.give_up[p.form]).form += 1
    return [p for p in parts if p.width]


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

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Render the current value again (after a resize or a theme change)."""


class TopBar(Styled):
    """One line: where (repository, target at its current tip), the run's state, what needs
    you, how far the run is, slots, queue, cost against budget, elapsed time."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "topbar--name", "topbar--label", "topbar--value", "topbar--over", "topbar--readonly",
        "topbar--needs", "topbar--bar-done", "topbar--bar-todo",
    } | {f"run--{s}" for s in RUN_STATES}

    def __init__(self, needs_key: str = "!", **kw: object) -> None:
        super().__init__(**kw)
        self.header = Header()
        self.tip = ""  # the target's current commit (read with git in a worker)
        self.needs_key = needs_key

    def show(self, header: Header) -> None:
        if header != self.header:
            self.header = header
            self.redraw()

    def show_tip(self, tip: str) -> None:
        if tip != self.tip:
            self.tip = tip
            self.redraw()

    def _parts(self) -> list[Part]:
        h = self.header
        label, value = self.st("topbar--label"), self.st("topbar--value")
        at = "@" + (self.tip[:8] or h.base or "-")
        over = bool(h.budget) and h.cost >= h.budget
        budget = f" / ${h.budget:.2f}" if h.budget else ""
        cost_style = self.st("topbar--over") if over else value
        filled = round(BAR_WIDTH * h.done / h.total) if h.total else 0
        bar: list[Span] = [("▕", label), ("█" * filled, self.st("topbar--bar-done")),
                           ("░" * (BAR_WIDTH - filled), self.st("topbar--bar-todo")),
                           ("▏", label)]
        done: list[Span] = [(f" {h.done}/{h.total} done", value)]
        needs = self.st("topbar--needs") if h.needs else label
        count = f"needs you: {h.needs}"
        parts = [
            Part([[(h.repo or "-", self.st("topbar--name")), (" ", ""), (h.target, value),
                   (at, label)], [(h.target, value), (at, label)], []], [6, 3]),
            Part([[("● " + h.status_text, self.st(f"run--{h.status}"))]], []),
            Part([[(count, needs), (f" ({self.needs_key})", label)], [(count, needs)],
                  [(f"▲{h.needs}", needs)]], [5, 1]) if h.needs else
            Part([[(count, label)], []], [7]),
            Part([bar + done, [(f"{h.done}/{h.total} done", value)], []], [5, 2]),
            Part([[("slots ", label), (f"{h.used}/{h.max}", value),
                   (f" (reserve {h.reserve})", label)],
                  [("slots ", label), (f"{h.used}/{h.max}", value)], []], [6, 2]),
            Part([[("queue ", label), (str(h.queue), value)], []], [4]),
            Part([[("cost ", label), (f"${h.cost:.2f}", cost_style), (budget, label)],
                  [(f"${h.cost:.2f}", cost_style)], []], [5, 4]),
            Part([[("elapsed ", label), (h.elapsed, value)], [(h.elapsed, value)], []], [6, 5]),
        ]
        if h.read_only:
            parts.append(Part([[("read-only", self.st("topbar--readonly"))]], []))
        return parts

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        width = max(1, self.content_region.width or self.size.width or 160)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, part in enumerate(fit(self._parts(), width)):
            if i:
                text.append("  ")
            for s, style in part.spans:
                text.append(s, style)
        self.update(text, layout=False)  # one line, whatever the width


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
        # Ids cut where every one stays apart from the others (as in the agents table).
        least, tail = distinct_cut((n.task for n in s.tree), max(4, room - 2 * s.max_depth))
        for n in s.tree:
            t.append(f" {n.label:<9} ", self.st(f"state--{n.state}"))
            lead = "  " * (n.depth - 1) + "└ " if n.depth else ""
            t.append(lead + cut_middle(n.task, max(least, room - len(lead)), tail))
            if n.depth == 0 or n.subtree:
                t.append(f" {n.subtree}/{s.subtree_budget}", label)
            t.append("\n")
        t.rstrip()
        lines = len(t.plain.splitlines())
        # Re-layout only when the panel's height changes: a layout pass is the costly part.
        self.update(t, layout=lines != self._lines)
        self._lines = lines


class AlertsLine(Styled):
    """The newest open alert, and how many are open and not yet acknowledged."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "alert--error", "alert--warning", "alert--information", "alert--count",
    }

    def __init__(self, alerts_key: str = "a", **kw: object) -> None:
        super().__init__(**kw)
        self.alerts: tuple[AlertItem, ...] = ()
        self.alerts_key = alerts_key

    def show(self, alerts: tuple[AlertItem, ...]) -> None:
        self.alerts = alerts
        self.redraw()

    @property
    def newest(self) -> AlertItem | None:
        return next((a for a in self.alerts if not a.acked), None)

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        a = self.newest
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        new = sum(1 for x in self.alerts if not x.acked)
        count = (f"{len(self.alerts)} open, {new} new · {self.alerts_key}: list"
                 if self.alerts else "")
        if a is None:
            t.append("no new alerts" + (f" · {count}" if count else ""),
                     self.st("alert--count"))
        else:
            width = max(20, (self.content_region.width or 80) - len(count) - 3)
            when = datetime.fromtimestamp(a.time).strftime("%H:%M:%S")
            times = f" ×{a.count}" if a.count > 1 else ""
            line = f"▲ {when} {a.text}{times}"
            t.append(line if len(line) <= width else line[: width - 1] + "…",
                     self.st(f"alert--{a.level}"))
            t.append(f"   {count}", self.st("alert--count"))
        self.update(t, layout=False)


@dataclass(frozen=True)
class BarKey:
    shown: str  # the key as shown (after the user's keymap)
    label: str
    action: str
    priority: int  # 1 most important: the last to be left out


class KeyBar(Styled):
    """The keys of the fleet screen, after the user's keymap; click one to run it.

    One line: when the screen is too narrow for every key, the least important ones are left
    out first (all of them are in the help screen and the palette). Textual's Footer rebuilds
    all of its widgets whenever focus or bindings change, which on a busy screen costs more
    than everything else a key press does; this bar is one line of text drawn once per width.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--label"}

    def __init__(self, keys: list[BarKey], right: BarKey | None, **kw: object) -> None:
        """``keys``: left to right; ``right``: one at the end (the palette)."""
        super().__init__(**kw)
        self.keys = keys
        self.right = right
        self._spans: list[tuple[int, int, str]] = []

    @staticmethod
    def _len(k: BarKey) -> int:
        return cell_len(f" {k.shown} {k.label} ")

    def shown_keys(self, width: int) -> tuple[list[BarKey], BarKey | None]:
        """The keys that fit in ``width``, most important first, in their bar order."""
        right = self.right
        room = width - (self._len(right) + 2 if right is not None else 0)
        chosen: set[int] = set()
        for i in sorted(range(len(self.keys)), key=lambda n: (self.keys[n].priority, n)):
            need = self._len(self.keys[i])
            if need <= room:
                chosen.add(i)
                room -= need
        return [k for i, k in enumerate(self.keys) if i in chosen], right

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        key, label = self.st("keybar--key"), self.st("keybar--label")
        t = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        width = self.content_region.width or self.size.width or 80
        keys, right = self.shown_keys(width)

        def add(k: BarKey) -> None:
            start = len(t.plain)
            t.append(f" {k.shown} ", key)
            t.append(f"{k.label} ", label)
            self._spans.append((start, len(t.plain), k.action))

        for k in keys:
            add(k)
        if right is not None:
            t.append(" " * max(1, width - len(t.plain) - self._len(right)))
            add(right)
        self.update(t, layout=False)

    def on_click(self, event: events.Click) -> None:
        for start, end, action in self._spans:
            if start <= event.x < end:
                if action == "command_palette":
                    self.app.action_command_palette()
                else:
                    self.call_later(self.screen.run_action, action)
                return
