"""The run report and the hosts view: two screens over the fleet, each loaded in a worker.

The report is ``swarmtui report`` on screen (``swarmtui.report``: the headline figures, the
timeline in colour, every attempt), fitted to the screen's width. The hosts view is
``swarmtui hosts``: every machine agents run on, from the running supervisor's view
(``.swarm/hosts.json``), refreshed every two seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color, ColorParseError
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.textsafe import term_safe

# Timeline styles (swarmtui.report.timeline) -> the theme variable that colours them.
BAR_COLOURS = {
    "bar--merged": "success", "bar--passed": "primary", "bar--failed-agent": "error",
    "bar--failed-check": "warning", "bar--failed-api": "error", "bar--failed-setup": "warning",
    "bar--killed": "secondary", "bar--lost": "error", "bar--discarded": "foreground",
    "bar--unfinished": "accent", "mark--retry": "warning", "mark--merge": "success",
}
DIM = frozenset({"lane", "axis", "legend", "bar--discarded", "empty"})
REPORT_MARGIN = 9  # the dialog's margin, border, padding and scroll bar
HOSTS_EVERY = 2.0  # seconds between looks at the supervisor's hosts view


def report_body(report: Any, width: int, colours: dict[str, str]) -> Text:
    """The report as one Text: headline, coloured timeline, every attempt; ``width`` wide."""
    from swarmtui.report import terminal_timeline
    from swarmtui.report.render import attempt_lines, headline_lines

    out = Text()
    for line in headline_lines(report, width):
        out.append(line + "\n")
    out.append("\ntimeline (one lane per slot in use)\n", style="bold")
    styles = {name: _style(colours.get(var), name in DIM) for name, var in BAR_COLOURS.items()}
    styles.update({name: Style(dim=True) for name in DIM if name not in styles})
    for segments in terminal_timeline(report, width):
        for text, style in segments:
            out.append(text, style=styles.get(style))
        out.append("\n")
    out.append("\n")
    for row in attempt_lines(report, width):
        out.append(row + "\n")
    return out


def _style(colour: str | None, dim: bool) -> Style:
    """A theme variable's colour as a Rich style (plain when it is not a plain colour)."""
    try:
        hex_ = Color.parse(colour).hex if colour else None
    except ColorParseError:
        hex_ = None
    return Style(color=hex_, dim=dim)


class ReportScreen(ModalScreen[None]):
    """The run report (the report key, or the palette): it scrolls; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "close", "Close", show=False)]

    def __init__(self, load: Callable[[int, Callable[[Any, str], None]], object]) -> None:
        super().__init__()
        self.load = load  # (width, then(report or None, error)) in a worker
        self.report: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(id="report", classes="dialog"):
            yield Static("Run report", classes="question", id="report-title")
            with VerticalScroll(id="report-body"):
                yield Static("reading the run's events…", id="report-text", markup=False)
            yield Static("↑↓ pgdn: scroll · escape: close · `swarmtui report --html F`",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#report-body", VerticalScroll).focus()
        self.call_after_refresh(lambda: self.load(self._width(), self._loaded))

    def _width(self) -> int:
        """The body's width once laid out (the dialog's border, padding and scroll bar are
        not the report's), else an estimate from the screen's."""
        shown = self.query_one("#report-body", VerticalScroll).scrollable_content_region.width
        # Less the scroll bar, which appears only once the report is longer than the body.
        return max(40, min(160, shown - 1 if shown else self.app.size.width - REPORT_MARGIN))

    def _loaded(self, report: Any, error: str) -> None:
        if not self.is_mounted:
            return
        text = self.query_one("#report-text", Static)
        if report is None:
            text.update(Text(term_safe(f"cannot build the report: {error}")))
            return
        self.report = report
        self.query_one("#report-title", Static).update(
            f"Run {report.run} report ({'so far' if report.live else 'the whole run'})")
        text.update(report_body(report, self._width(), self.app.theme_variables))

    def action_close(self) -> None:
        self.dismiss(None)


def hosts_table(view: dict[str, Any] | None, configured: list[str]) -> Table:
    """HOST, STATE, SLOTS, LATENCY, WHERE / WHY, from the supervisor's view of its hosts."""
    t = Table(box=None, padding=(0, 2, 0, 0), expand=True, header_style="bold")
    for name, kw in (("HOST", {"no_wrap": True}), ("STATE", {"no_wrap": True}),
                     ("SLOTS", {"no_wrap": True, "justify": "right"}),
                     ("LATENCY", {"no_wrap": True, "justify": "right"}),
                     ("WHERE / WHY", {"ratio": 1})):
        t.add_column(name, **kw)
    if view is None and configured == ["local"]:
        t.add_row("local", "up", "-", "-", Text("this machine: the config has no [[hosts]], so "
                                                "every agent runs here (README: Adding a host)"))
        return t
    if view is None:
        for name in configured:
            t.add_row(Text(term_safe(name)), "?", "-", "-",
                      Text("no running supervisor has reported on it "
                           "(`swarmtui hosts --probe` asks it now)"))
        return t
    for h in view.get("hosts") or []:
        used, slots = h.get("used"), h.get("slots")
        lat = h.get("latency_ms")
        state = str(h.get("state") or "?")
        where = str(h.get("reason") or h.get("destination") or "this machine")
        style = "" if state == "up" else "bold"
        t.add_row(Text(term_safe(str(h.get("name") or "?"))), Text(term_safe(state), style),
                  f"{used}/{slots}" if used is not None else str(slots),
                  f"{lat:.0f} ms" if isinstance(lat, int | float) else "-",
                  Text(term_safe(where)))
    return t


class HostsScreen(ModalScreen[None]):
    """Every machine agents run on: slots in use, reachable or why not, round trip."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,H", "close", "Close", show=False)]

    def __init__(self, load: Callable[[Callable[[dict[str, Any] | None], None]], object],
                 configured: list[str]) -> None:
        super().__init__()
        self.load = load  # then(view or None) in a worker
        self.configured = configured
        self.view: dict[str, Any] | None = None
        self.shown: Table | None = None  # what the table shows now
        self.loads = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="hosts", classes="dialog"):
            yield Static("Hosts", classes="question", id="hosts-title")
            with VerticalScroll(id="hosts-body"):
                yield Static("asking the supervisor…", id="hosts-table")
            yield Static("escape: close · `swarmtui hosts --probe` asks each host directly",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        self._refresh()
        self.set_interval(HOSTS_EVERY, self._refresh)

    def _refresh(self) -> None:
        self.load(self._loaded)

    def _loaded(self, view: dict[str, Any] | None) -> None:
        if not self.is_mounted:
            return
        self.view = view
        self.loads += 1
        hosts = (view or {}).get("hosts") or []
        up = sum(1 for h in hosts if h.get("state") == "up")
        title = (f"Hosts: {up} of {len(hosts)} up (the supervisor's view)" if view else
                 "Hosts" if self.configured == ["local"] else
                 "Hosts (no running supervisor's view)")
        self.query_one("#hosts-title", Static).update(title)
        self.shown = hosts_table(view, self.configured)
        self.query_one("#hosts-table", Static).update(self.shown)

    def action_close(self) -> None:
        self.dismiss(None)
