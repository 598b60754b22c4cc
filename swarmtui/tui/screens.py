"""Modal screens: help with the legend, and the alerts worklist."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from swarmtui.model import Health, TaskState
from swarmtui.model.labels import HEALTH_LABEL, HEALTH_MEANING, STATE_LABEL
from swarmtui.tui.bindings import FLEET_KEYS, PALETTE, key_of
from swarmtui.tui.bindings import Key as KeySpec
from swarmtui.tui.runview import AlertItem
from swarmtui.tui.view import COLUMNS, HEALTH_WORD

STATE_MEANING: dict[TaskState, str] = {
    TaskState.PENDING: "waiting for a slot, a backoff or its file scope",
    TaskState.BLOCKED: "waiting for its dependencies, or a file scope another task holds",
    TaskState.RUNNING: "an agent is working on it",
    TaskState.VERIFYING: "its verify command is running in the agent's worktree",
    TaskState.PASSED: "verified; waiting to be merged",
    TaskState.FAILED: "its attempt failed; a retry follows, or it waits for you",
    TaskState.MERGED: "merged into the target",
    TaskState.DEAD: "no attempts left, or it needs you; r retries it",
    TaskState.CANCELLED: "given up on",
}
NEEDS_ORDER = ("needs permission, waiting for input, a prompt held for review",
               "a merge conflict or a refused merge", "dead, or its agent config held",
               "stuck (or crashed, orphaned, lost)", "quiet or unproductive", "usage-limited",
               "failed and waiting for you", "passed and waiting to be merged")


def _table(title: str, rows: Sequence[tuple[str, ...]], *, header: tuple[str, ...] = ()
           ) -> Table:
    """Rows whose last column wraps under itself (a hanging indent), not under the first."""
    t = Table(title=title, title_justify="left", title_style="bold", show_header=bool(header),
              header_style="bold", box=None, padding=(0, 2, 0, 0), expand=True)
    for i, h in enumerate(header or ("",) * len(rows[0])):
        last = i == len(rows[0]) - 1
        t.add_column(h, no_wrap=not last, ratio=1 if last else None,
                     style="" if last or i else "bold")
    for r in rows:
        t.add_row(*(Text(c) for c in r))  # plain text: "[outputs: N]" is not markup
    return t


def legend() -> RenderableType:
    """What the columns, states, health words and forecast marks mean."""
    marks = (("clean", "merges into the target without a conflict"),
             ("conflict", "conflicts with the target (m shows the files)"),
             ("clean ≠edit-b", "clean, but conflicts with edit-b's branch"),
             ("+scope", "edits files outside its declared ones"),
             ("↺", "undoes lines the ledger says must not be reverted"),
             ("-", "not computed yet"))
    return Group(
        Text(""), _table("Columns", [(c.label, c.meaning) for c in COLUMNS]),
        Text(""), _table("States", [(label, STATE_MEANING[s]) for s, label in
                                    STATE_LABEL.items()]),
        Text(""), _table("Health (the HEALTH column's word, then in full)", [
            (HEALTH_WORD[h], HEALTH_MEANING[h] if HEALTH_WORD[h] == HEALTH_LABEL[h] else
             f"{HEALTH_LABEL[h]}: {HEALTH_MEANING[h]}") for h in Health] + [
            ("perm", "needs permission: the agent was denied a tool (g grants it)"),
            ("input", "waiting for input"), ("held", "its prompt is held for review"),
            ("retrying", "its API call is being retried"), ("limited", "usage-limited")]),
        Text(""), _table("Needs you (the default sort, most urgent first)",
                         [(f"{i}.", what) for i, what in enumerate(NEEDS_ORDER, 1)]),
        Text(""), _table("Merge forecast", list(marks)))


class HelpScreen(ModalScreen[None]):
    """Every binding (its key after the user's keymap, its id, what it does) and the legend;
    it scrolls (arrows, page keys) on a small screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", show=False)]

    def __init__(self, keys: list[tuple[KeySpec, str]], read_only: bool) -> None:
        super().__init__()
        self.keys = keys
        self.read_only = read_only

    def keys_text(self) -> RenderableType:
        rows = [(key, spec.id, spec.description + (" (asks y/n)" if spec.destructive else ""))
                for spec, key in self.keys]
        t = Text("\nj/k or the arrows move; space marks rows, and kill, retry, merge, cancel "
                 "and approve then act on every marked row (escape clears the marks). "
                 "Remap any id in [ui.keymap] of the config, e.g. kill = \"x\". In the alerts "
                 "list: enter goes to the task; the ack, approve and reject keys act on the "
                 "alert. F12 in an agent's tmux window comes back here.")
        if self.read_only:
            t.append("\nRead-only (swarmtui watch): keys that change the run are not shown.")
        return Group(_table("", rows, header=("key", "id", "what it does")), t)

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="dialog"):
            yield Static("Keys and words", classes="question")
            with VerticalScroll(id="help-body"):
                yield Static(self.keys_text(), classes="help-table")
                yield Static(legend(), classes="help-legend")
            yield Static("↑↓ pgup pgdn: scroll · escape: close", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-body", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)


def help_rows(keymap: dict[str, str], read_only: bool,
              display: Callable[[str], str]) -> list[tuple[KeySpec, str]]:
    """(key spec, the key as shown) for every binding the help screen lists."""
    rows = []
    for spec in (*FLEET_KEYS, PALETTE):
        if read_only and spec.acts:
            continue
        if read_only and spec.id == "detach":
            spec = KeySpec(spec.id, spec.key, spec.action, "Quit", "Quit swarmtui watch")
        rows.append((spec, display(key_of(keymap, spec.id))))
    return rows


class AlertsScreen(ModalScreen[None]):
    """The open alerts as a worklist, newest first: enter goes to the task, the ack key
    acknowledges one (dimmed from then on), approve and reject decide a held text. Resolved
    alerts leave the list by themselves."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"alert--error", "alert--warning",
                                             "alert--information", "alert--acked",
                                             "alert--time"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", show=False),
        Binding("a", "close", "Close", show=False, id="alerts"),
        Binding("x", "ack", "Ack", show=False, id="ack"),
        Binding("plus", "decide(True)", "Approve", show=False, id="approve"),
        Binding("minus", "decide(False)", "Reject", show=False, id="reject"),
        # On the alert's task, as the fleet's keys do (the screen closes and the task is shown).
        Binding("e", "task_action('resolve')", "Resolve", show=False, id="resolve"),
        Binding("r", "task_action('retry')", "Retry", show=False, id="retry"),
        Binding("c", "task_action('cancel')", "Cancel", show=False, id="cancel"),
    ]

    def __init__(self, alerts: tuple[AlertItem, ...], *, keys: dict[str, str],
                 read_only: bool, on_goto: Callable[[AlertItem], None],
                 on_ack: Callable[[AlertItem], None],
                 on_decide: Callable[[AlertItem, bool], None],
                 on_task_action: Callable[[AlertItem, str], None] | None = None) -> None:
        super().__init__()
        self.alerts = alerts
        self.keys = keys  # binding id -> the key as shown
        self.read_only = read_only
        self.on_goto, self.on_ack, self.on_decide = on_goto, on_ack, on_decide
        self.on_task_action = on_task_action

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts-view", classes="dialog"):
            yield Static(self._title(), classes="question", id="alerts-title", markup=False)
            yield OptionList(id="alerts-list")
            yield Static(self._hint(), classes="hint", markup=False)

    def _title(self) -> str:
        new = sum(1 for a in self.alerts if not a.acked)
        return f"Alerts: {len(self.alerts)} open, {new} not acknowledged"

    def _hint(self) -> str:
        k = self.keys
        acts = "" if self.read_only else (
            f" · {k.get('ack', 'x')}: acknowledge · {k.get('approve', '+')}/"
            f"{k.get('reject', '-')}: approve/reject a held text · {k.get('resolve', 'e')}/"
            f"{k.get('retry', 'r')}/{k.get('cancel', 'c')}: resolve/retry/cancel its task")
        return f"enter: go to the task{acts} · escape: close"

    def on_mount(self) -> None:
        self.show_alerts(self.alerts)
        self.query_one(OptionList).focus()

    def _prompt(self, a: AlertItem) -> Table:
        """The alert's time, then its text wrapped under itself."""
        style = self.get_component_rich_style("alert--acked" if a.acked else
                                              f"alert--{a.level}", partial=True)
        when = datetime.fromtimestamp(a.time).strftime("%H:%M:%S")
        text = Text(("✓ " if a.acked else "▲ ") + a.text, style, end="")
        if a.count > 1:
            text.append(f"  ×{a.count}", style)
        grid = Table.grid(padding=(0, 2, 0, 0), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(Text(when, self.get_component_rich_style("alert--time", partial=True)),
                     text)
        return grid

    def show_alerts(self, alerts: tuple[AlertItem, ...]) -> None:
        """Replace the list (the feed saw a change); the cursor stays on its alert."""
        self.alerts = alerts
        ol = self.query_one(OptionList)
        keep = self.current()
        ol.clear_options()
        if not alerts:
            ol.add_option(Option("no open alerts", disabled=True))
        else:
            ol.add_options([Option(self._prompt(a), id=str(a.id)) for a in alerts])
            ids = [a.id for a in alerts]
            ol.highlighted = ids.index(keep.id) if keep is not None and keep.id in ids else 0
        self.query_one("#alerts-title", Static).update(self._title())

    def current(self) -> AlertItem | None:
        if not self.is_mounted:
            return None
        ol = self.query_one(OptionList)
        i = ol.highlighted
        if i is None or not self.alerts or not 0 <= i < ol.option_count:
            return None
        oid = ol.get_option_at_index(i).id
        return next((a for a in self.alerts if str(a.id) == oid), None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        a = self.current()
        if a is not None:
            self.dismiss(None)
            self.on_goto(a)

    def action_ack(self) -> None:
        a = self.current()
        if a is not None and not self.read_only:
            self.on_ack(a)

    def action_decide(self, approve: bool) -> None:
        a = self.current()
        if a is None or self.read_only:
            return
        if not a.held_text:
            self.notify("this alert holds no text to approve or reject", severity="warning",
                        timeout=3)
            return
        self.on_decide(a, approve)

    def action_task_action(self, action: str) -> None:
        a = self.current()
        if a is None or self.read_only or self.on_task_action is None:
            return
        if not a.task:
            self.notify("a run-wide alert: it names no task", severity="warning", timeout=3)
            return
        self.dismiss(None)
        self.on_task_action(a, action)

    def action_close(self) -> None:
        self.dismiss(None)


def alert_keys(keymap: dict[str, str], display: Callable[[str], str]) -> dict[str, Any]:
    return {kid: display(key_of(keymap, kid))
            for kid in ("ack", "approve", "reject", "resolve", "retry", "cancel")}
