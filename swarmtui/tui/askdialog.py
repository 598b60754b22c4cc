"""The dialog that answers a live agent's permission request: what it wants to run, and one key
for each answer (allow once, for the task, for the role; deny, with a reason it reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from swarmtui.model.state import Asked
from swarmtui.model.steering import input_lines
from swarmtui.textsafe import term_safe
from swarmtui.tui.dialogs import SCROLL_KEYS

INPUT_LINES = 14  # of the tool's input shown (the body scrolls beyond)


@dataclass(frozen=True)
class Decision:
    allow: bool
    scope: Literal["once", "task", "role"] = "once"
    why: str = ""


class AskScreen(ModalScreen[Decision | None]):
    """``y`` allow once, ``t`` allow for every attempt of the task, ``r`` for its role, ``n``
    deny (a line for the reason follows), escape: decide later."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "later", "Later", show=False)]

    def __init__(self, who: str, role: str, ask: Asked, more: int = 0) -> None:
        super().__init__()
        self.who = who
        self.role = role
        self.ask = ask
        self.more = more
        self.denying = False

    def compose(self) -> ComposeResult:
        a = self.ask
        with Vertical(id="ask", classes="dialog"):
            yield Static(f"{self.who} asks to use {term_safe(a.tool)} (request #{a.n})",
                         classes="question", markup=False)
            with VerticalScroll(classes="body"):
                for line in input_lines(a.input):
                    yield Static(line, classes="detail", markup=False)
            rule = f"rule: {term_safe(a.rule)}"
            if a.timeout:
                at = datetime.fromtimestamp(a.at + a.timeout).strftime("%H:%M:%S")
                rule += f" · denied unanswered at {at}"
            if self.more:
                rule += f" · {self.more} more waiting"
            yield Static(rule, classes="detail", markup=False)
            yield Input(placeholder="why (the agent reads it as the tool's error)",
                        id="ask-why", compact=True)
            yield Static(self._hint(), classes="hint", id="ask-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#ask-why", Input).display = False

    def _hint(self) -> str:
        if self.denying:
            return "enter: deny with this reason · escape: back"
        return (f"y: allow once · t: allow for this task · r: allow for role {self.role} · "
                "n: deny · escape: later")

    def on_key(self, event: Key) -> None:
        if self.denying:
            if event.key == "escape":
                event.stop()
                self._deny_mode(False)
            return
        event.stop()
        event.prevent_default()
        scroll = SCROLL_KEYS.get(event.key)
        if scroll is not None:
            getattr(self.query_one(".body", VerticalScroll), scroll)(animate=False)
            return
        if event.key == "y":
            self.dismiss(Decision(True))
        elif event.key == "t":
            self.dismiss(Decision(True, "task"))
        elif event.key == "r":
            self.dismiss(Decision(True, "role"))
        elif event.key == "n":
            self._deny_mode(True)
        elif event.key == "escape":
            self.dismiss(None)

    def _deny_mode(self, on: bool) -> None:
        self.denying = on
        box = self.query_one("#ask-why", Input)
        box.display = on
        if on:
            box.focus()
        self.query_one("#ask-hint", Static).update(self._hint())

    @on(Input.Submitted)
    def _deny(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Decision(False, why=event.value.strip()))

    def action_later(self) -> None:
        self.dismiss(None)
