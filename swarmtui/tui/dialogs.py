"""Modal dialogs: the one-key confirmation (two keys when something is wrong) and one-line
text entry (a retry's note, a follow-up instruction)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, Static

# Keys that scroll a dialog's body (they never answer the question).
SCROLL_KEYS = {"up": "scroll_up", "down": "scroll_down", "pageup": "scroll_page_up",
               "pagedown": "scroll_page_down", "home": "scroll_home", "end": "scroll_end"}


LONG_BODY = 10  # lines: a body longer than this is scrolled, and the hint says so


class ConfirmScreen(ModalScreen[bool]):
    """A destructive action's question; ``y`` confirms, any other key cancels.

    ``problems`` (a merge that conflicts, say) are shown apart, and then ``y`` asks once more:
    it takes a second ``y`` to go ahead anyway.
    """

    def __init__(self, question: str, detail: str = "", *, lines: list[str] | None = None,
                 problems: list[str] | None = None, after: list[str] | None = None,
                 verb: str = "go ahead") -> None:
        super().__init__()
        self.question = question
        self.lines = ([detail] if detail else []) + list(lines or [])
        self.problems = list(problems or [])
        self.after = list(after or [])  # what else can be done, below the problems
        self.verb = verb
        self.armed = False  # the first y of two was pressed

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog danger"):
            yield Static(self.question, classes="question", markup=False)
            with VerticalScroll(classes="body"):
                for line in self.lines:
                    yield Static(line, classes="detail", markup=False)
                for p in self.problems:
                    yield Static("▲ " + p, classes="problem", markup=False)
                for line in self.after:
                    yield Static(line, classes="detail", markup=False)
            yield Static(self._hint(), classes="hint", id="confirm-hint", markup=False)

    def _hint(self) -> str:
        read = "↑↓ pgdn: read on · " if self._long() else ""
        if self.armed:
            return f"{read}y again: {self.verb} anyway, despite the above · any other key: no"
        if self.problems:
            return f"{read}y, then y again: {self.verb} anyway · any other key: no"
        return f"{read}y: {self.verb} · any other key: no" if read else \
            "y: yes · any other key: no"

    def _long(self) -> bool:
        """More to read than the dialog shows at once (a held text, say)."""
        return sum(line.count("\n") + 1 for line in self.lines + self.after) + len(
            self.problems) > LONG_BODY

    def on_key(self, event: Key) -> None:
        event.stop()
        event.prevent_default()
        body = self.query_one(".body", VerticalScroll)
        scroll = SCROLL_KEYS.get(event.key)
        if scroll is not None:  # reading a long text before deciding is not a "no"
            getattr(body, scroll)(animate=False)
            return
        if event.key == "y" and self.problems and not self.armed:
            self.armed = True
            self.query_one("#confirm-hint", Static).update(self._hint())
            self.query_one("#confirm", Vertical).add_class("armed")
            return
        self.dismiss(event.key == "y")


class TextScreen(ModalScreen[str | None]):
    """One line of text for an action (enter sends, escape cancels); ``required`` refuses an
    empty one in place."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, placeholder: str, *, hint: str = "enter: send",
                 lines: list[str] | None = None, required: bool = False,
                 dialog_id: str = "note") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.hint = hint
        self.lines = list(lines or [])
        self.required = required
        self.dialog_id = dialog_id

    def compose(self) -> ComposeResult:
        with Vertical(id=self.dialog_id, classes="dialog text-dialog"):
            yield Static(self.title_text, markup=False, classes="question")
            for line in self.lines:
                yield Static(line, markup=False, classes="detail")
            yield Input(placeholder=self.placeholder, id="text-input", compact=True)
            yield Static("", id="text-error", markup=False)
            yield Static(f"{self.hint} · escape: cancel", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        if self.required and not event.value.strip():
            self.query_one("#text-error", Static).update("Type the text first.")
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(TextScreen):
    """A retry's optional note for the next attempt (or for the resumed session)."""

    def __init__(self, task: str, *, resume: bool = False, lines: list[str] | None = None
                 ) -> None:
        if resume:
            super().__init__(f"Retry {task} by resuming its agent's session (--resume)",
                             "optional note: what the resumed session is told",
                             hint="enter: retry", lines=lines)
        else:
            super().__init__(f"Retry {task}: a fresh attempt with a handoff",
                             "optional note for the next attempt", hint="enter: retry",
                             lines=lines)
