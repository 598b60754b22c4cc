"""Modal screens: the one-key confirmation, the retry note, the new-task form, help and alerts."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from swarmtui.tui.bindings import FLEET_KEYS, PALETTE
from swarmtui.tui.bindings import Key as KeySpec
from swarmtui.tui.view import Alert


class ConfirmScreen(ModalScreen[bool]):
    """A destructive action's question; ``y`` confirms, any other key cancels."""

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog danger"):
            yield Static(self.question, classes="question", markup=False)
            if self.detail:
                yield Static(self.detail, classes="detail", markup=False)
            yield Static("y: yes · any other key: no", classes="hint")

    def on_key(self, event: Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key == "y")


class NoteScreen(ModalScreen[str | None]):
    """The optional note a retry passes to the next attempt (enter sends, escape cancels)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task_id = task

    def compose(self) -> ComposeResult:
        with Vertical(id="note", classes="dialog"):
            yield Static(f"Retry {self.task_id}: a fresh attempt with a handoff", markup=False,
                         classes="question")
            yield Input(placeholder="optional note for the next attempt", id="note-input",
                        compact=True)
            yield Static("enter: retry · escape: cancel", classes="hint")

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _words(s: str) -> list[str]:
    """Globs or ids typed in one field, separated by spaces or commas (quotes allowed)."""
    try:
        parts = shlex.split(s.replace(",", " "))
    except ValueError:
        parts = s.replace(",", " ").split()
    return [p for p in parts if p]


class NewTaskScreen(ModalScreen[dict[str, Any] | None]):
    """``swarmtui add`` as a form; the result is the same arguments the CLI sends."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Add the task"),
    ]

    def __init__(self, roles: list[str], agents: list[str], default_role: str,
                 default_agent: str) -> None:
        super().__init__()
        self.roles, self.agents = roles, agents
        self.default_role, self.default_agent = default_role, default_agent

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="new-task", classes="dialog"):
            yield Static("New task", classes="question")
            yield Label("Prompt (what the agent is told)")
            yield TextArea(id="f-prompt", soft_wrap=True, show_line_numbers=False, compact=True)
            with Horizontal(classes="row"):
                with Vertical():
                    yield Label("Role")
                    yield Select([(r, r) for r in self.roles], id="f-role",
                                 prompt=f"default ({self.default_role})", compact=True)
                with Vertical():
                    yield Label("Agent")
                    yield Select([(a, a) for a in self.agents], id="f-agent",
                                 prompt=f"default ({self.default_agent})", compact=True)
            yield Label("Files (globs the task may edit, separated by spaces)")
            yield Input(id="f-files", placeholder="src/parser.py tests/test_parser.py",
                        compact=True)
            yield Label("Verify (a shell command that must pass)")
            yield Input(id="f-verify", placeholder="python -m pytest -q tests/test_parser.py",
                        compact=True)
            with Horizontal(classes="row"):
                with Vertical():
                    yield Label("Id")
                    yield Input(id="f-id", placeholder="from the prompt", compact=True)
                with Vertical():
                    yield Label("Title")
                    yield Input(id="f-title", placeholder="the prompt's first line", compact=True)
            with Horizontal(classes="row"):
                with Vertical():
                    yield Label("Depends on (task ids)")
                    yield Input(id="f-depends", placeholder="parser docs", compact=True)
                with Vertical():
                    yield Label("Priority")
                    yield Input("0", id="f-priority", type="integer", compact=True)
            yield Static("", id="f-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", id="f-add", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="f-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#f-prompt", TextArea).focus()

    def _val(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def args(self) -> dict[str, Any] | None:
        prompt = self.query_one("#f-prompt", TextArea).text.strip()
        if not prompt:
            self.query_one("#f-error", Static).update("A task needs a prompt.")
            return None
        role = self.query_one("#f-role", Select).value
        agent = self.query_one("#f-agent", Select).value
        try:
            priority = int(self._val("f-priority") or 0)
        except ValueError:
            self.query_one("#f-error", Static).update("Priority must be a whole number.")
            return None
        return {
            "prompt": prompt,
            "id": self._val("f-id") or None,
            "role": role if isinstance(role, str) else None,
            "agent": agent if isinstance(agent, str) else None,
            "files": _words(self._val("f-files")),
            "verify": self._val("f-verify") or None,
            "depends_on": _words(self._val("f-depends")),
            "priority": priority,
            "title": self._val("f-title") or None,
        }

    def action_submit(self) -> None:
        args = self.args()
        if args is not None:
            self.dismiss(args)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#f-add")
    def _add(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#f-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every binding: its key (after the user's keymap), its id and what it does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", show=False)]

    def __init__(self, keys: list[tuple[KeySpec, str]], read_only: bool) -> None:
        super().__init__()
        self.keys = keys
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        t = Text(end="")
        width = max(len(k) for _, k in self.keys)
        t.append(f"{'key':<{width}}  {'id':<13} what it does\n", "bold")
        for spec, key in self.keys:
            mark = " (asks y/n)" if spec.destructive else ""
            t.append(f"{key:<{width}}  {spec.id:<13} {spec.description}{mark}\n")
        t.append("\nRemap any id in [ui.keymap] of the config, e.g. kill = \"x\".\n"
                 "F12 in an agent's tmux window comes back here.")
        if self.read_only:
            t.append("\nRead-only (swarmtui watch): keys that change the run are not shown.")
        with VerticalScroll(id="help", classes="dialog"):
            yield Static("Keys", classes="question")
            yield Static(t, classes="help-table")
            yield Static("escape: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


def help_rows(keymap: dict[str, str], read_only: bool,
              display: Any) -> list[tuple[KeySpec, str]]:
    """(key spec, the key as shown) for every binding the help screen lists."""
    rows = []
    for spec in (*FLEET_KEYS, PALETTE):
        if read_only and spec.acts:
            continue
        if read_only and spec.id == "detach":
            spec = KeySpec(spec.id, spec.key, spec.action, "Quit", "Quit swarmtui watch")
        rows.append((spec, display(keymap.get(spec.id, spec.key))))
    return rows


class AlertsScreen(ModalScreen[None]):
    """Every alert of the run, newest first."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"alert--error", "alert--warning",
                                             "alert--information"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,a,q", "close", "Close", show=False)]

    def __init__(self, alerts: list[Alert]) -> None:
        super().__init__()
        self.alerts = alerts

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts-view", classes="dialog"):
            yield Static(f"Alerts ({len(self.alerts)})", classes="question")
            with VerticalScroll():
                yield Static("", id="alerts-body")
            yield Static("escape: close", classes="hint")

    def on_mount(self) -> None:
        t = Text(end="")
        for a in reversed(self.alerts):
            when = datetime.fromtimestamp(a.time).strftime("%H:%M:%S")
            t.append(f"{when}  ", "")
            t.append(a.text + "\n", self.get_component_rich_style(f"alert--{a.level}",
                                                                   partial=True))
        if not self.alerts:
            t.append("no alerts")
        t.rstrip()
        self.query_one("#alerts-body", Static).update(t)

    def action_close(self) -> None:
        self.dismiss(None)
