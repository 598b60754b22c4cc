"""Snapshots (pytest-textual-snapshot) of the main screens, at 80x24 and 160x48, in each theme.

The run is recorded with fixed times and the app's clock is frozen, so a snapshot changes only
when the screen does. Update the baselines with ``pytest --snapshot-update`` after checking the
report of what changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input, RichLog, TextArea

from swarmtui.tui.app import SwarmApp
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    NOW,
    Answerer,
    World,
    build_world,
    no_tmux,
    utc_private_config,
)

THEMES = ("swarm-dark", "swarm-light", "swarm-contrast")
SIZES = ((80, 24), (160, 48))
CASES = [pytest.param(theme, size, id=f"{theme}-{size[0]}x{size[1]}")
         for theme in THEMES for size in SIZES]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path)
    live = Answerer(w).start()  # holds the supervisor lock: the top bar says "running"
    yield w
    live.stop()
    w.store.close()


def app_for(w: World, theme: str, *, read_only: bool = False) -> SwarmApp:
    return SwarmApp(w.repo, w.config, read_only=read_only, tmux=no_tmux(w.repo.parent),
                    supervisor_alive=None, theme=theme, clock=lambda: NOW)


async def _until(pilot: Pilot[Any], cond: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except NoMatches:
            pass  # run_before starts before the screen is composed
        assert time.monotonic() < deadline, "the app did not settle"
        await pilot.pause(0.02)


def settled(*keys: str, tab: str = "progress") -> Any:
    """A ``run_before`` that waits for the data, presses ``keys``, then waits for the tab."""

    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, SwarmApp)
        fleet = app.fleet
        await _until(pilot, lambda: fleet.table.row_count == 10
                     and fleet.header.status in ("running", "orphaned"))

        def body(name: str) -> str:
            view = fleet.query_one(f"#view-{name}", RichLog)
            return "\n".join(line.text for line in view.lines)

        await _until(pilot, lambda: "reading the parser" in body("progress"))
        await pilot.press(*keys)
        if tab != "progress":
            await _until(pilot, lambda: len(body(tab).splitlines()) > 3)
        for w in app.query(Input):
            w.cursor_blink = False
        for w in app.query(TextArea):
            w.cursor_blink = False
        await pilot.pause(0.1)

    return run


@pytest.mark.parametrize(("theme", "size"), CASES)
def test_fleet(snap_compare: Any, world: World, theme: str, size: tuple[int, int]) -> None:
    """The fleet: top bar, agents, slots, the selected task's progress, alerts, keys."""
    assert snap_compare(app_for(world, theme), terminal_size=size, run_before=settled())


@pytest.mark.parametrize(("theme", "size"), CASES)
def test_log_tab(snap_compare: Any, world: World, theme: str, size: tuple[int, int]) -> None:
    """The Log tab: stream-json shown as text, tool calls and results."""
    assert snap_compare(app_for(world, theme), terminal_size=size,
                        run_before=settled("2", tab="log"))


@pytest.mark.parametrize(("theme", "size"), CASES)
def test_confirm_kill(snap_compare: Any, world: World, theme: str, size: tuple[int, int]) -> None:
    """A destructive action asks with one key."""
    assert snap_compare(app_for(world, theme), terminal_size=size,
                        run_before=settled("k"))


@pytest.mark.parametrize(("theme", "size"), CASES)
def test_watch(snap_compare: Any, world: World, theme: str, size: tuple[int, int]) -> None:
    """swarmtui watch: the same screen, read-only, with the diff tab open."""
    assert snap_compare(app_for(world, theme, read_only=True), terminal_size=size,
                        run_before=settled("3", tab="diff"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare: Any, world: World, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(world, "swarm-dark"), terminal_size=size,
                        run_before=settled("question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_new_task_form(snap_compare: Any, world: World, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(world, "swarm-dark"), terminal_size=size,
                        run_before=settled("n"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_filtered_and_sorted(snap_compare: Any, world: World, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(world, "swarm-dark"), terminal_size=size,
                        run_before=settled("s", "slash", *"run", "enter"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alerts_view(snap_compare: Any, world: World, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(world, "swarm-dark"), terminal_size=size,
                        run_before=settled("a"))
