"""The fleet screen: top bar, agents table, detail tabs, slots panel, alerts line, key bar.

Its keys live here, not on the app, so that modal screens (forms, help) never trigger them.
It holds no domain logic: every action becomes one command through ``SwarmApp.submit``, with the
same kind and arguments as the CLI command of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input

from swarmtui.model import ACTIVE, TaskView
from swarmtui.tui.bindings import ACTING_ACTIONS, FLEET_KEYS, PALETTE, fleet_bindings
from swarmtui.tui.detail import DetailPanel
from swarmtui.tui.feed import Update
from swarmtui.tui.panels import AlertsLine, KeyBar, SlotsPanel, TopBar
from swarmtui.tui.screens import (
    AlertsScreen,
    ConfirmScreen,
    HelpScreen,
    NewTaskScreen,
    NoteScreen,
    help_rows,
)
from swarmtui.tui.table import AgentsTable
from swarmtui.tui.view import SORT_MODES, Alert, Header

if TYPE_CHECKING:
    from swarmtui.tui.app import SwarmApp

TOASTS_PER_UPDATE = 3  # a burst of alerts gives this many toasts and one summary


class FleetScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [*fleet_bindings()]

    def __init__(self) -> None:
        super().__init__(id="fleet")
        self.tasks: dict[str, TaskView] = {}
        self.base = ""
        self.header = Header()
        self.alerts: list[Alert] = []
        self.pending: dict[int, str] = {}  # commands sent and not answered yet
        self._serial = 0

    @property
    def swarm(self) -> SwarmApp:
        return cast("SwarmApp", self.app)

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Vertical(id="main"):
            yield AgentsTable(id="agents")
            yield Input(id="filter", placeholder="filter: words in id, title, role, state, "
                        "progress (enter keeps it, escape clears)")
        with Horizontal(id="bottom"):
            yield DetailPanel(lambda: self.swarm.client, id="detail")
            with VerticalScroll(id="slots-box"):
                yield SlotsPanel(id="slots")
        yield AlertsLine(id="alertline")
        yield KeyBar(self._bar_keys(), self._bar_palette(), id="keybar")

    def _bar_keys(self) -> list[tuple[str, str, str]]:
        app = self.swarm
        out = []
        for k in FLEET_KEYS:
            if not k.show or (app.read_only and k.acts):
                continue
            label = "Quit" if k.id == "detach" and app.read_only else k.label
            out.append((app.get_key_display_text(app.keymap.get(k.id, k.key)), label, k.action))
        return out

    def _bar_palette(self) -> tuple[str, str, str]:
        app = self.swarm
        return (app.get_key_display_text(app.keymap.get(PALETTE.id, PALETTE.key)), PALETTE.label,
                PALETTE.action)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(AgentsTable).focus()
        self._title_table()
        self.swarm.start_feed()

    def on_resize(self) -> None:
        # Narrow terminals give the table the whole width; the top bar still counts slots.
        self.set_class(self.size.width < 110, "-narrow")

    # -- data from the feed ----------------------------------------------------------------------

    @property
    def table(self) -> AgentsTable:
        return self.query_one(AgentsTable)

    @property
    def detail(self) -> DetailPanel:
        return self.query_one(DetailPanel)

    def apply(self, upd: Update) -> None:
        if upd.reset:
            self.tasks = {}
            self.alerts = []
        self.tasks.update(upd.tasks)
        for tid in upd.removed:
            self.tasks.pop(tid, None)
        self.base = upd.base
        self.header = upd.header
        table = self.table
        table.apply(upd.rows, upd.removed, reset=upd.reset)
        self.query_one(TopBar).show(upd.header)
        self.query_one(SlotsPanel).show(upd.slots)
        if upd.alerts:
            self.alerts.extend(upd.alerts)
            if upd.fresh:
                self._announce(upd.alerts)
        self._alert_line()
        self._title_table()
        sel = table.selected_task
        if sel is not None and (sel in upd.touched or self.detail.task_view is None
                                or self.detail.task_view.id != sel):
            self.detail.show(self.tasks.get(sel), self.base, news=sel in upd.touched)

    def _announce(self, alerts: list[Alert]) -> None:
        """Toasts for new alerts (a burst is summarised) and the bell if configured."""
        for a in alerts[-TOASTS_PER_UPDATE:]:
            self.app.notify(a.text, severity=a.level,  # type: ignore[arg-type]
                            timeout=8 if a.level == "error" else 5)
        if len(alerts) > TOASTS_PER_UPDATE:
            self.app.notify(f"and {len(alerts) - TOASTS_PER_UPDATE} more alerts (a: all)",
                            severity="warning")
        if any(a.bell for a in alerts):
            self.swarm.ring()

    def _alert_line(self) -> None:
        line = self.query_one(AlertsLine)
        line.show(self.alerts[-1] if self.alerts else None, len(self.alerts))

    def _title_table(self) -> None:
        t = self.table
        bits = [f"agents {t.row_count}/{len(t.rows_by_task)}" if t.filter_text
                else f"agents {len(t.rows_by_task)}", f"sort {t.sort_mode}"]
        if t.filter_text:
            bits.append(f"filter “{t.filter_text}”")
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
        # Acting keys are hidden from the key bar and help, and refused, in `watch`.
        return not (self.swarm.read_only and action in ACTING_ACTIONS)

    def palette_action(self, action: str) -> None:
        """Run a bound action chosen in the command palette (after the palette has closed)."""
        self.call_later(self.run_action, action)

    def _selected(self) -> TaskView | None:
        tid = self.table.selected_task
        t = self.tasks.get(tid or "")
        if t is None:
            self.app.notify("no task selected", severity="warning", timeout=3)
        return t

    def _refuse_read_only(self) -> bool:
        if self.swarm.read_only:
            self.app.notify("read-only view (swarmtui watch): actions are not available",
                            severity="warning", timeout=3)
            return True
        return False

    def send(self, kind: str, args: dict[str, Any], label: str) -> None:
        if self._refuse_read_only():
            return
        self._serial += 1
        token = self._serial
        self.pending[token] = label
        self._title_table()
        self.swarm.submit(kind, args, label, token)

    def answered(self, token: int) -> None:
        self.pending.pop(token, None)
        self._title_table()

    def goto_task(self, tid: str) -> None:
        table = self.table
        if not table.select_task(tid) and table.filter_text:
            self._set_filter("")
            table.select_task(tid)
        table.focus()

    # -- actions (bound to keys) -----------------------------------------------------------------

    def action_jump(self) -> None:
        t = self._selected()
        if t is None or self._refuse_read_only():
            return
        if t.state not in ACTIVE or not t.window:
            self.app.notify(f"{t.id} has no live agent window ({t.state})", severity="warning",
                            timeout=3)
            return
        self.swarm.jump(t.window)

    def action_kill(self) -> None:
        t = self._selected()
        if t is None or self._refuse_read_only():
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.send("kill", {"task": t.id}, f"kill {t.id}")

        self.app.push_screen(ConfirmScreen(
            f"Kill {t.id} (attempt {t.attempt - t.attempt_base})?",
            "Its process group gets TERM, then KILL; the worktree is kept."), done)

    def action_retry(self) -> None:
        t = self._selected()
        if t is None or self._refuse_read_only():
            return

        def done(note: str | None) -> None:
            if note is not None:
                self.send("retry", {"task": t.id, "note": note.strip() or None},
                          f"retry {t.id}")

        self.app.push_screen(NoteScreen(t.id), done)

    def action_verify(self) -> None:
        t = self._selected()
        if t is not None:
            self.send("verify", {"task": t.id}, f"verify {t.id}")

    def action_merge(self) -> None:
        t = self._selected()
        if t is None or self._refuse_read_only():
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.send("merge", {"task": t.id}, f"merge {t.id}")

        target = self.header.target
        self.app.push_screen(ConfirmScreen(f"Merge {t.id} into {target}?",
                                           f"state {t.state}"), done)

    def action_new_task(self) -> None:
        if self._refuse_read_only():
            return
        cfg = self.swarm.config

        def done(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.send("add", args, "add " + (args.get("id") or "task"))

        self.app.push_screen(NewTaskScreen(list(cfg.slots.pools), list(cfg.agents),
                                           cfg.run.default_role, cfg.run.default_agent), done)

    def action_pause(self) -> None:
        if self.header.status in ("paused", "breaker_open"):
            self.send("resume", {}, "resume")
        else:
            self.send("pause", {}, "pause")

    def action_stop(self) -> None:
        if self._refuse_read_only():
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.send("down", {"keep_agents": False}, "stop the run")

        running = sum(1 for t in self.tasks.values() if t.state in ACTIVE)
        self.app.push_screen(ConfirmScreen(
            "Stop the run?", f"Ends every agent ({running} running) and the tmux session."), done)

    def action_detach(self) -> None:
        if self.swarm.read_only:
            self.app.exit(0, return_code=0)
        else:
            self.swarm.detach()

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

    def key_escape(self) -> None:
        if self.table.filter_text or self.query_one("#filter", Input).display:
            self._set_filter("")
            self.table.focus()

    def action_sort(self) -> None:
        t = self.table
        t.set_sort(SORT_MODES[(SORT_MODES.index(t.sort_mode) + 1) % len(SORT_MODES)])
        self._title_table()

    def action_tab(self, tab: str) -> None:
        self.detail.activate(tab)

    def action_alerts(self) -> None:
        self.app.push_screen(AlertsScreen(list(self.alerts)))

    def action_toggle_slots(self) -> None:
        self.toggle_class("-slots-hidden" if not self.has_class("-narrow") else "-slots-shown")

    def action_help(self) -> None:
        rows = help_rows(self.swarm.keymap, self.swarm.read_only, self.swarm.get_key_display_text)
        self.app.push_screen(HelpScreen(rows, self.swarm.read_only))


class WatchScreen(FleetScreen):
    """``swarmtui watch``: the same screen; acting keys are hidden and ``q`` quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "detach", "Quit", id="detach", tooltip="Quit swarmtui watch")]
