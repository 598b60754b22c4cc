"""What the watch app lays out and draws when text changes but no box does, over a recorded run
in a real store.

Textual lays out the whole screen for any widget whose scrollable size changes; the detail
views and the agents table have boxes set by the screen, so news only repaints them. What is
counted: the screen's layout passes (``screen_layout_refresh_signal`` is published after each),
and which rendered lines of the progress view are kept (the same objects) when its file grows.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import RichLog

from swarmtui.tui.detail import TextView
from tests.test_tui_world import NOW, World
from tests.test_tui_world import utc_private_config as utc_private_config  # autouse fixture
from tests.tui_pilot import body, make_app, select, until


def count_layouts(screen: Screen[Any]) -> list[int]:
    """A list that grows by one at each layout pass of ``screen``."""
    passes: list[int] = []
    screen.screen_layout_refresh_signal.subscribe(screen, lambda _s: passes.append(1))
    return passes


async def test_news_for_the_selected_task_grows_its_progress_in_place(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "implementing" in body(app, "progress"))
        view = app.fleet.query_one("#view-progress", TextView)
        await until(pilot, lambda: not app.fleet.detail._pending, what="no load waiting")
        await pilot.pause(0.2)
        kept = list(view.lines)
        passes = count_layouts(app.screen)
        world.progress("parser", 1, 750, "all tests pass", 4, 3)
        await until(pilot, lambda: "all tests pass" in body(app, "progress"))
        await until(pilot, lambda: app.fleet.table.cell("parser", "outputs").plain == "3")
        await pilot.pause(0.2)
        assert passes == []  # the view, its panel and the table kept their boxes
        # The lines shown before were kept as rendered; only the new one was rendered.
        assert all(a is b for a, b in zip(kept, view.lines, strict=False))
        assert len(view.lines) == len(kept) + 1
        assert view.lines[-1].text.rstrip().endswith("all tests pass [outputs: 3]")


async def test_a_view_that_outgrows_its_box_still_scrolls_and_follows(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "implementing" in body(app, "progress"))
        view = app.fleet.query_one("#view-progress", RichLog)
        assert view.max_scroll_y == 0  # a few lines fit
        for i in range(40):
            world.progress("parser", 1, 760 + i, f"step {i} of 40", 5 + i)
        await until(pilot, lambda: "step 39 of 40" in body(app, "progress"))
        assert view.vertical_scrollbar.window_virtual_size == len(view.lines) > 40
        # It follows the end: the newest line is the one in view at the bottom.
        await until(pilot, lambda: view.scroll_y == view.max_scroll_y > 0, what="at the end")
        assert "step 39 of 40" in view.lines[-1].text


async def test_reloading_the_same_text_draws_nothing(world: World) -> None:
    app = make_app(world, alive=None, clock=lambda: NOW)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "implementing" in body(app, "progress"))
        view = app.fleet.query_one("#view-progress", TextView)
        kept = list(view.lines)
        view.set_text(view._plain or "", follow=True, fresh=False)
        assert view.lines == kept and all(a is b for a, b in zip(kept, view.lines, strict=True))


async def test_a_view_shown_after_a_resize_shows_the_task_selected_since(world: World) -> None:
    """A hidden tab's view is resized when its tab is shown again; the text it writes again
    at the new width is the one it holds then, not the one it held when the resize came."""
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "implementing" in body(app, "progress"))
        await pilot.press("2")
        await pilot.resize_terminal(80, 24)
        await select(pilot, "docs")
        await pilot.press("1")
        await until(pilot, lambda: "API reference" in body(app, "progress")
                    or "docs-1: no progress" in body(app, "progress"), what="docs' progress")
        await pilot.pause(0.3)
        assert "implementing" not in body(app, "progress")
