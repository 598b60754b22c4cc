"""The new-task form: ``swarmtui add`` as a form whose buttons stay in sight (the fields
scroll on a small screen)."""

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea


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
        with Vertical(id="new-task", classes="dialog"):
            yield Static("New task", classes="question")
            with VerticalScroll(classes="fields"):
                yield from self._fields()
            yield Static("", id="f-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", id="f-add", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="f-cancel", compact=True)

    def _fields(self) -> ComposeResult:
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
