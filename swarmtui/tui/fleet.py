"""The fleet screen: top bar, agents table, detail tabs, slots panel, alerts line, key bar.

Its keys live here, not on the app, so that modal screens (forms, help) never trigger them.
It holds no domain logic: every action (``actions.py``) becomes one command through
``SwarmApp.submit``, with the same kind and arguments as the CLI command of the same name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input

from swarmtui.model import AttemptRec, TaskView
from swarmtui.tui.actions import ActionScreen
from swarmtui.tui.bindings import FLEET_KEYS, PALETTE, fleet_bindings
from swarmtui.tui.detail import DetailPanel
from swarmtui.tui.feed import Update
from swarmtui.tui.panels import AlertsLine, BarKey, KeyBar, SlotsPanel, TopBar
from swarmtui.tui.reportview import HostsScreen, ReportScreen
from swarmtui.tui.runview import AlertItem, Header
from swarmtui.tui.screens import AlertsScreen, HelpScreen, alert_keys, help_rows
from swarmtui.tui.table import AgentsTable
from swarmtui.tui.view import SORT_MODES

TOASTS_PER_UPDATE = 3  # a burst of alerts gives this many toasts and one summary
NARROW = 110  # below this many columns the slots panel hides and the tab bar is one line


class FleetScreen(ActionScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*fleet_bindings()]

    def __init__(self) -> None:
        super().__init__(id="fleet")
        self.tasks: dict[str, TaskView] = {}
        self.attempts: dict[str, AttemptRec | None] = {}  # each task's current attempt
        self.base = ""
        self.header = Header()
        self.alerts: tuple[AlertItem, ...] = ()  # open alerts, newest first
        self.pending: dict[int, str] = {}  # commands sent and not answered yet
        self._serial = 0
        self._merges = -1  # task_merged count when the target's tip was last read
        # The widgets an update writes to, looked up once: ``query`` walks the whole DOM and
        # matched every node's selectors on each of the feed's updates (6 a second).
        self._parts: tuple[AgentsTable, TopBar, SlotsPanel, DetailPanel] | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(self.shown_key("needs-you"), id="topbar")
        with Vertical(id="main"):
            yield AgentsTable(id="agents")
            yield Input(id="filter", placeholder="filter: words in id, title, role, state, "
                        "progress (enter keeps it, escape clears)")
        with Horizontal(id="bottom"):
            yield DetailPanel(lambda: self.swarm.client, id="detail")
            with VerticalScroll(id="slots-box"):
                yield SlotsPanel(id="slots")
        yield AlertsLine(self.shown_key("alerts"), id="alertline")
        yield KeyBar(self._bar_keys(), self._bar_palette(), id="keybar")

    def _bar_keys(self) -> list[BarKey]:
        app = self.swarm
        out = []
        for k in FLEET_KEYS:
            if not k.bar or (app.read_only and k.acts):
                continue
            label = "Quit" if k.id == "detach" and app.read_only else k.label
            out.append(BarKey(self.shown_key(k.id), label, k.action, k.bar))
        return out

    def _bar_palette(self) -> BarKey:
        return BarKey(self.shown_key(PALETTE.id), PALETTE.label, PALETTE.action, PALETTE.bar)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(AgentsTable).focus()
        self.table.set_off(self.swarm.columns_off)
        self._title_table()
        self.swarm.start_feed()
        self.set_interval(15.0, self._read_tip)

    def on_screen_resume(self) -> None:
        self.swarm.release_toasts()  # what came while a dialog was open

    def on_resize(self) -> None:
        # Narrow terminals give the table the whole width; the top bar still counts slots.
        self.set_class(self.size.width < NARROW, "-narrow")
        self.swarm.size_classes()

    # -- data from the feed ----------------------------------------------------------------------

    @property
    def detail(self) -> DetailPanel:
        return self.query_one(DetailPanel)

    def _widgets(self) -> tuple[AgentsTable, TopBar, SlotsPanel, DetailPanel] | None:
        """The table, top bar, slots panel and detail panel; None once they are gone (the
        app is closing)."""
        if self._parts is None:
            if not self.is_mounted or not self.query(AgentsTable):
                return None
            self._parts = (self.query_one(AgentsTable), self.query_one(TopBar),
                           self.query_one(SlotsPanel), self.query_one(DetailPanel))
        if not all(w.is_attached for w in self._parts):
            return None
        return self._parts

    @property
    def table(self) -> AgentsTable:
        parts = self._widgets()
        return parts[0] if parts is not None else self.query_one(AgentsTable)

    def apply(self, upd: Update) -> None:
        parts = self._widgets()
        if parts is None:
            return  # the app is closing: its widgets are gone
        table, topbar, slots, detail = parts
        if upd.reset:
            self.tasks = {}
            self.attempts = {}
            self.alerts = ()
        self.tasks.update(upd.tasks)
        self.attempts.update(upd.attempts)
        for tid in upd.removed:
            self.tasks.pop(tid, None)
            self.attempts.pop(tid, None)
        self.base = upd.base
        self.header = upd.header
        table.apply(upd.rows, upd.removed, reset=upd.reset, now=upd.now)
        topbar.show(upd.header)
        slots.show(upd.slots)
        if upd.alerts is not None:
            self._show_alerts(upd.alerts)
        if upd.news and upd.fresh:
            self._announce(upd.news)
        if upd.header.merges != self._merges:
            self._merges = upd.header.merges
            self._read_tip()  # a merge moved the target (or this is the first look)
        self._title_table()
        sel = table.selected_task
        if sel is not None and (sel in upd.touched or detail.task_view is None
                                or detail.task_view.id != sel):
            detail.show(self.tasks.get(sel), self.base, news=sel in upd.touched)

    def _show_alerts(self, alerts: tuple[AlertItem, ...]) -> None:
        self.alerts = alerts
        self.query_one(AlertsLine).show(alerts)
        for screen in self.app.screen_stack:
            if isinstance(screen, AlertsScreen):
                screen.show_alerts(alerts)

    def _announce(self, news: list[AlertItem]) -> None:
        """Toasts for new alerts (a burst is summarised) and the bell if configured."""
        most = 1 if self.swarm.compact else TOASTS_PER_UPDATE
        for a in news[-most:]:
            self.swarm.notify(a.text, severity=a.level,  # type: ignore[arg-type]
                              timeout=8 if a.level == "error" else 5)
        if len(news) > most:
            self.swarm.notify(f"and {len(news) - most} more alerts "
                              f"({self.shown_key('alerts')}: the list)", severity="warning")
        if any(a.bell for a in news):
            self.swarm.ring()

    def _read_tip(self) -> None:
        if self.header.target and self.header.target != "-":
            self.swarm.read_tip(self.header.target)

    def show_tip(self, tip: str) -> None:
        for bar in self.query(TopBar):  # none while the app is shutting down
            bar.show_tip(tip)

    def _title_table(self) -> None:
        t = self.table
        shown = t.filter_text or t.attention_only
        bits = [f"agents {t.row_count}/{len(t.rows_by_task)}" if shown
                else f"agents {len(t.rows_by_task)}", f"sort {t.sort_mode}"]
        if t.attention_only:
            bits.append("only what needs you")
        if t.filter_text:
            bits.append(f"filter “{t.filter_text}”")
        if t.marked:
            bits.append(f"{len(t.marked)} marked")
        if self.pending:
            bits.append("waiting: " + ", ".join(self.pending.values()))
        title = " · ".join(bits)
        if title != t.border_title:
            t.border_title = title

    @on(AgentsTable.Highlighted)
    def _highlighted(self, event: AgentsTable.Highlighted) -> None:
        self.detail.show(self.tasks.get(event.task or ""), self.base)

    # -- helpers for actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.allowed(action)

    def palette_action(self, action: str) -> None:
        """Run a bound action chosen in the command palette (after the palette has closed)."""
        self.call_later(self.run_action, action)

    def send(self, kind: str, args: dict[str, Any], label: str, *,
             timeout: float | None = None) -> None:
        if self._refuse_read_only():
            return
        self._serial += 1
        token = self._serial
        self.pending[token] = label
        self._title_table()
        self.swarm.submit(kind, args, label, token, timeout)

    def answered(self, token: int) -> None:
        self.pending.pop(token, None)
        self._title_table()

    def goto_task(self, tid: str) -> None:
        table = self.table
        if not table.select_task(tid) and (table.filter_text or table.attention_only):
            self._set_filter("")
            table.set_attention_only(False)
            table.select_task(tid)
        table.focus()
        self._title_table()

    # -- navigation (bound to keys) --------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.table.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._title_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#filter", Input)
        box.display = bool(box.value.strip())
        self.table.focus()

    def _set_filter(self, text: str) -> None:
        box = self.query_one("#filter", Input)
        box.value = text
        box.display = bool(text)
        self.table.set_filter(text)
        self._title_table()

    def marks_changed(self) -> None:
        self._title_table()

    def key_escape(self) -> None:
        if self.table.marked:
            self.table.clear_marks()
            self._title_table()
        elif self.table.filter_text or self.query_one("#filter", Input).display:
            self._set_filter("")
            self.table.focus()
        elif self.table.attention_only:
            self.action_toggle_attention()

    def action_sort(self) -> None:
        t = self.table
        t.set_sort(SORT_MODES[(SORT_MODES.index(t.sort_mode) + 1) % len(SORT_MODES)])
        self._title_table()

    def action_toggle_attention(self) -> None:
        t = self.table
        t.set_attention_only(not t.attention_only)
        self._title_table()
        if t.attention_only and not t.row_count:
            self.app.notify("nothing needs you right now", timeout=3)

    def action_next_need(self) -> None:
        t = self.table
        i = t.next_need()
        if i is None:
            self.app.notify("nothing needs you right now", timeout=3)
            return
        t.select_index(i)
        t.focus()

    def action_tab(self, tab: str) -> None:
        self.detail.activate(tab)

    def action_alerts(self) -> None:
        app = self.swarm
        self.app.push_screen(AlertsScreen(
            self.alerts, keys=alert_keys(app.keymap, app.get_key_display_text),
            read_only=app.read_only, on_goto=self._alert_goto, on_ack=self.ack_alert,
            on_decide=self.decide_alert, on_task_action=self._alert_act))

    def _alert_goto(self, a: AlertItem) -> None:
        if a.task and a.task in self.tasks:
            self.goto_task(a.task)
        else:
            self.app.notify("a run-wide alert: no task to go to", timeout=3)

    def _alert_act(self, a: AlertItem, action: str) -> None:
        """resolve, retry or cancel from the alerts list: on the alert's task, once shown."""
        if not a.task or a.task not in self.tasks:
            self.app.notify(f"{a.task or 'the alert'}: no such task", timeout=3)
            return
        self.goto_task(a.task)
        self.call_later(self.run_action, action)

    def action_report(self) -> None:
        self.app.push_screen(ReportScreen(self.swarm.load_report))

    def action_hosts(self) -> None:
        cfg = self.swarm.config
        self.app.push_screen(HostsScreen(self.swarm.load_hosts,
                                         ["local", *(h.name for h in cfg.hosts
                                                     if h.name != "local")]))

    def toggle_column(self, index: int) -> None:
        """Show or hide one column (from the palette); ``[ui] columns`` sets the start."""
        t = self.table
        t.set_off(t.off ^ {index})

    def action_toggle_slots(self) -> None:
        self.toggle_class("-slots-hidden" if not self.has_class("-narrow") else "-slots-shown")

    def action_help(self) -> None:
        rows = help_rows(self.swarm.keymap, self.swarm.read_only, self.swarm.get_key_display_text)
        self.app.push_screen(HelpScreen(rows, self.swarm.read_only))


class WatchScreen(FleetScreen):
    """``swarmtui watch``: the same screen; acting keys are hidden and ``q`` quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "detach", "Quit", id="detach", tooltip="Quit swarmtui watch")]
