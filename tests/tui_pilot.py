"""Pilot helpers shared by the TUI tests: build the app on a recorded world or a real fleet,
wait for a condition while the app runs, move the cursor as a user would, read what is shown.

Not a test module (it defines no tests).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import OptionList, RichLog
from textual.widgets._toast import Toast

from swarmtui.engine.runtime.tmux import Tmux
from swarmtui.tui.app import SwarmApp
from swarmtui.tui.screens import AlertsScreen
from swarmtui.windows import RunWindows
from tests.test_tui_world import NOW, World, commands, no_tmux
from tests.waiting import timed_out

if TYPE_CHECKING:
    from tests.fleet import Fleet


def make_app(world: World, *, read_only: bool = False, tmux: Tmux | None = None,
             alive: Callable[[], bool] | None = lambda: True, **kw: Any) -> SwarmApp:
    """The app on the recorded world, with the world's frozen clock (or ``clock=``)."""
    return SwarmApp(world.repo, kw.pop("config", world.config), read_only=read_only,
                    windows=RunWindows(tmux or no_tmux(world.repo.parent)),
                    supervisor_alive=alive,
                    clock=kw.pop("clock", lambda: NOW), **kw)


def app_on(f: Fleet) -> SwarmApp:
    """The app on a real fleet (a supervisor running in this process)."""
    return SwarmApp(f.repo, f.config, read_only=False, windows=RunWindows(f.tmux),
                    supervisor_alive=None, poll=0.05)


async def until(pilot: Pilot[Any], cond: Callable[[], object], timeout: float = 60.0,
                what: str = "") -> None:
    """Wait (letting the app run) until ``cond()`` is true; fail after ``timeout``, naming
    ``what`` (or the condition's source). A widget not mounted yet (``NoMatches``, as before
    the first screen is composed) counts as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except NoMatches:
            pass
        if time.monotonic() > deadline:
            app = pilot.app
            shown = ""
            if isinstance(app, SwarmApp) and app.fleet.is_mounted:
                shown = f"; progress tab: {body(app, 'progress')[:300]!r}"
            raise AssertionError(timed_out(cond, timeout, what) + shown)
        await pilot.pause(0.02)


async def loaded(pilot: Pilot[Any]) -> SwarmApp:
    app = pilot.app
    assert isinstance(app, SwarmApp)
    await until(pilot, lambda: app.fleet.table.row_count > 0, what="the first feed update")
    return app


async def select(pilot: Pilot[Any], task: str) -> None:
    """Move the cursor to ``task`` with the movement keys, as a user would."""
    app = await loaded(pilot)
    table = app.fleet.table
    await pilot.press("home")
    for _ in range(table.row_count):
        if table.selected_task == task:
            return
        await pilot.press("down")
    assert table.selected_task == task


async def goto(pilot: Pilot[Any], app: SwarmApp, tid: str, timeout: float = 60.0) -> None:
    """Put the cursor on ``tid`` once it is on screen (a live fleet adds rows as it goes)."""
    await until(pilot, lambda: tid in app.fleet.table.order, timeout, what=f"{tid} on screen")
    app.fleet.goto_task(tid)
    await until(pilot, lambda: app.fleet.table.selected_task == tid)
    await pilot.pause(0.1)


def toasts(app: SwarmApp) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


def retry_args(task: str, attempt: int, note: str = "", **kw: Any) -> dict[str, Any]:
    """What `swarmtui retry` sends (the CLI's arguments, all of them)."""
    return {"task": task, "attempt": attempt, "note": note, "resume": False, "allow": [],
            "force": False, **kw}


def cmds(world: World) -> list[tuple[str, dict[str, Any]]]:
    return [(k, a) for k, a, src in commands(world) if src == "tui"]


def plain(renderable: object, width: int = 300) -> str:
    """What a Rich renderable shows, as text."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def alert_lines(screen: object) -> list[str]:
    """The alerts worklist as shown, one string per alert (its wrapped lines joined)."""
    assert isinstance(screen, AlertsScreen)
    ol = screen.query_one(OptionList)
    return [" ".join(plain(ol.get_option_at_index(i).prompt).split())
            for i in range(ol.option_count)]


def body(app: SwarmApp, tab: str) -> str:
    view = app.fleet.query_one(f"#view-{tab}", RichLog)
    return "\n".join(line.text.rstrip() for line in view.lines)
