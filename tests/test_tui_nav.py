"""Navigation in the app driven by Pilot: filter and sort, help, the palette, the app's own
screenshot, the keymap and themes (from the flag, the config and the user's folder)."""

from __future__ import annotations

from pathlib import Path

from swarmtui.tui.bindings import FLEET_KEYS
from swarmtui.tui.dialogs import ConfirmScreen
from swarmtui.tui.screens import HelpScreen
from swarmtui.tui.table import AgentsTable
from swarmtui.tui.view import COLUMN_INDEX
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    Answerer,
    World,
    build_world,
    utc_private_config,
)
from tests.tui_pilot import cmds, loaded, make_app, plain, select, toasts, until

# -- navigation: filter, sort, help, palette, keymap, themes ------------------------------------


async def test_filter_and_sort(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        table = app.fleet.table
        await pilot.press("slash", *"planner")
        assert table.row_count == 3
        await pilot.press("enter")
        assert isinstance(app.focused, AgentsTable)
        assert "filter “planner”" in str(table.border_title)
        await pilot.press("escape")
        assert table.row_count == 10
        assert table.sort_mode == "attention"  # the default: what needs you first
        await pilot.press("s", "s")  # added, then by state: running first, then the rest
        assert table.sort_mode == "state"
        order = [table.task_at(i) for i in range(table.row_count)]
        assert order[:4] == ["parser", "docs", "planner", "planner-api"]
        assert order[-2:] == ["old", "planner-db"] or order[-1] == "old"


async def test_help_lists_every_binding(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.keys_text())
        for k in FLEET_KEYS:
            assert k.id in text and k.description in text, k.id
        assert "palette" in text
        await pilot.press("escape")
        assert app.screen is app.fleet


async def test_palette_jumps_to_an_agent_and_runs_actions(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p", *"release notes")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.fleet.table.selected_task == "release")
        await pilot.press("ctrl+p", *"pause or resume")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: cmds(world) == [("pause", {})])
        await pilot.press("ctrl+p", *"theme: swarm-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "swarm-light")


async def test_the_app_saves_its_own_screenshot(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p", *"screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        shots = world.repo / ".swarm" / "screenshots"
        await until(pilot, lambda: shots.is_dir() and any(shots.glob("*.svg")))
        (svg,) = shots.glob("*-120x40.svg")
        assert "<svg" in svg.read_text() and "agents 10" in svg.read_text().replace("&#160;", " ")
        await until(pilot, lambda: "screenshot saved" in toasts(app))


async def test_keymap_remaps_by_id(world: World, live: Answerer) -> None:
    cfg = world.config.model_copy(update={"ui": world.config.ui.model_copy(
        update={"keymap": {"kill": "x", "nonsense": "z"}})})
    app = make_app(world, config=cfg)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "docs")
        assert "unknown binding id 'nonsense'" in toasts(app)
        await pilot.press("K")
        assert app.screen is app.fleet  # K is no longer kill
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: cmds(world) == [("kill", {"task": "docs", "attempt": 1})])


async def test_themes_from_flag_config_and_user_dir(world: World, tmp_path: Path) -> None:
    user = tmp_path / "xdg" / "swarmtui" / "themes"
    user.mkdir(parents=True)
    (user / "mine.toml").write_text('name = "mine"\ndark = false\n[colors]\nprimary = "#aa0000"\n'
                                    '[variables]\nstate-running = "#123456"\n')
    (user / "broken.toml").write_text('[colors]\nprimary = "blue-ish"\n')
    app = make_app(world, alive=None, theme="mine")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        assert app.theme == "mine"
        assert "broken.toml: key colors.primary" in toasts(app)
        await until(pilot, lambda: app.fleet.table.cell("parser", "state").style.color
                    is not None)
        color = app.fleet.table.cell("parser", "state").style.color
        assert color is not None and color.triplet is not None
        assert color.triplet.hex == "#123456"
        app.theme = "swarm-contrast"  # what the palette's theme switch does
        await until(pilot, lambda: app.fleet.table.cell("parser", "state").style.color
                    .triplet.hex == app.get_css_variables()["state-running"].lower())
    unknown = make_app(world, alive=None, theme="no-such-theme")
    async with unknown.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        assert unknown.theme == "swarm-dark"
        assert "theme 'no-such-theme' not found" in toasts(unknown)


async def test_config_theme_is_the_default(world: World) -> None:
    cfg = world.config.model_copy(update={"ui": world.config.ui.model_copy(
        update={"theme": "swarm-light"})})
    app = make_app(world, alive=None, config=cfg)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        assert app.theme == "swarm-light"


async def test_context_column_shows_once_an_agent_reports_its_fill(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        table = app.fleet.table
        ctx = COLUMN_INDEX["context"]
        assert table.widths[ctx] == 0  # no agent has said how full its context is
        world.ev("context_fill", "parser", 1, at=720, tokens=150_000, window=200_000, pct=75.0,
                 offset=0)
        await until(pilot, lambda: table.widths[ctx] > 0, what="the CTX column")
        assert table.cell("parser", "context").plain == "75%"
        await select(pilot, "parser")
        await until(pilot, lambda: "context 75%" in str(app.fleet.detail.border_subtitle),
                    what="the fill in the detail panel's subtitle")


async def test_the_cursor_stays_on_top_until_the_operator_moves_it(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        table = app.fleet.table
        assert table.selected_task == table.task_at(0)
        # Something new needs you: it goes on top, and so does the cursor (not left on the
        # task that was first, now scrolled away at 80x24).
        world.ev("permission_denied", "parser", 1, at=900, tool="Bash", rule="Bash(rm:*)")
        await until(pilot, lambda: table.task_at(0) == "parser", what="parser on top")
        assert table.selected_task == "parser"
        await pilot.press("down")
        chosen = table.selected_task
        world.ev("permission_denied", "planner", 1, at=901, tool="Bash", rule="Bash(x:*)")
        await until(pilot, lambda: table.rows_by_task["planner"].needs_you, what="a reorder")
        assert table.selected_task == chosen  # once moved, the cursor keeps its task
