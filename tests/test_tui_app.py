"""The app driven by Pilot: every action reaches the inbox as the CLI's command would, and the
screen shows what happened. The store, agent files, git worktree and tmux are real; a small
thread stands in for the supervisor by answering the inbox while holding its lock."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RichLog, Select, Static, TextArea

from swarmtui.engine.runtime.tmux import Tmux
from swarmtui.tui.detail import DetailPanel, DiffView
from swarmtui.tui.dialogs import ConfirmScreen, NoteScreen
from swarmtui.tui.forms import NewTaskScreen
from swarmtui.tui.panels import AlertsLine, KeyBar, TopBar
from swarmtui.tui.screens import AlertsScreen
from swarmtui.tui.view import COLUMNS
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    NOW,
    Answerer,
    World,
    build_world,
    commands,
    no_tmux,
    utc_private_config,
)
from tests.tui_pilot import (
    alert_lines,
    body,
    cmds,
    loaded,
    make_app,
    retry_args,
    select,
    toasts,
    until,
)

# -- the screen ---------------------------------------------------------------------------------


async def test_screen_shows_the_run(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        assert app.fleet.table.selected_task == "stall"  # what needs you first: it is dead
        await select(pilot, "parser")
        top = app.fleet.query_one(TopBar)
        await until(pilot, lambda: top.header.status == "running")
        text = str(top.render())
        for part in ("demo", "main@" + world.base[:8], "● running", "slots 4/4", "(reserve 1)",
                     "queue 3", "cost $2.56 / $25.00", "elapsed 12m34s"):
            assert part in text, part
        table = app.fleet.table
        assert table.row_count == 10
        assert [table.cell("parser", c.key).plain for c in COLUMNS][:8] == [
            "parser", "running", "1/3", "ok", "", "12m24s", "54s", "implementing key = value"]
        assert table.widths[COLUMNS.index(next(c for c in COLUMNS if c.key == "context"))] == 0
        assert table.cell("cache", "cost").plain == "$1.42"
        assert table.cell("parser", "diff").plain == "+9 -1"
        assert table.cell("parser", "merge").plain == "clean"
        # The state cell is coloured by the theme's variable for that state.
        running = app.get_css_variables()["state-running"].lower()
        style = table.cell("parser", "state").style
        assert style.color is not None and style.color.triplet.hex == running
        slots = str(app.fleet.query_one("#slots").render())
        assert "worker       3/3  queued 3" in slots
        assert "running   └ planner-api" in slots and "running   planner 2/2" in slots
        alert = app.fleet.query_one(AlertsLine)
        assert alert.newest is not None and "planner-api-1 is unproductive" in str(alert.render())
        assert toasts(app) == ""  # alerts from before the app started are not toasted
        detail = app.fleet.query_one(DetailPanel)
        assert detail.border_title == "parser-1 · Write the config parser"
        await until(pilot, lambda: "implementing key = value" in body(app, "progress"))


async def test_detail_tabs(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await pilot.press("2")
        await until(pilot, lambda: "▸ Bash: python -m pytest -q" in body(app, "log"))
        log = body(app, "log")
        assert "I'll start by reading the parser." in log
        assert "  ◂ error: E AssertionError" in log
        assert "plain line from a wrapper" in log
        assert '"type"' not in log  # no raw stream-json
        await pilot.press("3")
        await until(pilot, lambda: "2 files changed" in body(app, "diff"))
        diff = body(app, "diff")
        assert "src/parser.py" in diff and "+        key, _, value = line.partition('=')" in diff
        view = app.fleet.query_one(DiffView)
        styles = {str(seg.style) for line in view.lines for seg in line if seg.text.strip()}
        assert len(styles) >= 3  # file, hunk, added and removed lines differ in colour
        await pilot.press("5")
        await until(pilot, lambda: "# Task parser" in body(app, "prompt"))
        await pilot.press("6")
        await until(pilot, lambda: "attempt spawned" in body(app, "events"))
        await select(pilot, "cache")
        await pilot.press("4")
        await until(pilot, lambda: "added an LRU cache" in body(app, "result"))
        assert '"do_not_revert": true' in body(app, "result")
        await select(pilot, "release")
        await pilot.press("1")
        await until(pilot, lambda: "has not started yet (blocked" in body(app, "progress"))


async def test_detail_text_rewraps_when_the_terminal_is_resized(world: World) -> None:
    world.progress("parser", 1, 740, "a long status line that cannot fit in eighty columns "
                   "of terminal, so it wraps there", 4)
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "so it wraps" in body(app, "progress"))
        narrow = len(app.fleet.query_one("#view-progress", RichLog).lines)
        await pilot.resize_terminal(160, 48)
        await until(pilot, lambda: len(app.fleet.query_one("#view-progress", RichLog).lines)
                    == 4, what="one line per progress line")
        assert narrow > 4


async def quiet(pilot: Pilot[Any], rebuilt: list[str], timeout: float = 30.0) -> None:
    """Wait until the table has drawn no row for three looks in a row (the app idle between
    them), then forget what it drew: whatever is drawn after this is news."""
    calm = 0
    deadline = time.monotonic() + timeout
    while calm < 3:
        assert time.monotonic() < deadline, f"the table kept drawing rows: {rebuilt[-10:]}"
        calm = calm + 1 if not rebuilt else 0
        rebuilt.clear()
        await pilot.pause(0.1)


async def test_live_updates_touch_only_the_changed_row(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "parser")
        await until(pilot, lambda: "implementing" in body(app, "progress"))
        table = app.fleet.table
        await quiet(pilot, table.rebuilt)  # the first loads are drawn (slow on a busy box)
        world.progress("docs", 1, 750, "API reference drafted", 2, 1)
        await until(pilot, lambda: table.cell("docs", "progress").plain == "API reference drafted")
        await pilot.pause(0.3)
        assert table.rebuilt == ["docs"]  # that row rendered once; no other row again
        world.progress("parser", 1, 750, "all tests pass", 4, 3)
        await until(pilot, lambda: table.cell("parser", "progress").plain == "all tests pass")
        assert table.cell("parser", "outputs").plain == "3"
        # The detail panel follows the selected task's news.
        await until(pilot, lambda: "all tests pass" in body(app, "progress"))


async def test_new_alerts_toast_ring_and_list(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        world.ev("health", "parser", 1, at=760, health="stuck", evidence={"silent_s": 200})
        await until(pilot, lambda: "parser-1 is stuck" in toasts(app))
        assert app.bells == 1
        assert "parser-1 is stuck" in str(app.fleet.query_one(AlertsLine).render())
        await pilot.press("a")
        assert isinstance(app.screen, AlertsScreen)
        listed = alert_lines(app.screen)
        assert listed[0].endswith("parser-1 is stuck")  # newest first
        assert any("planner-api-1 is unproductive" in line for line in listed[1:])
        await pilot.press("escape")
        assert not isinstance(app.screen, AlertsScreen)


async def test_bell_can_be_turned_off(world: World) -> None:
    cfg = world.config.model_copy(update={"ui": world.config.ui.model_copy(
        update={"bell": False})})
    app = make_app(world, alive=None, config=cfg)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        world.ev("attempt_failed", "docs", 1, at=760, reason="crashed", cause="crashed",
                 counts_attempt=True, counts_breaker=True)
        await until(pilot, lambda: "docs-1 failed: crashed" in toasts(app))
        assert app.bells == 0


# -- actions: the inbox row and the screen ------------------------------------------------------


async def test_kill_asks_once_then_sends_kill(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "docs")
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Kill docs (attempt 1)?" in str(app.screen.query_one(".question", Static).render())
        await pilot.press("n")  # any other key cancels
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("K", "y")
        await until(pilot, lambda: cmds(world) == [("kill", {"task": "docs", "attempt": 1})])
        await until(pilot, lambda: "kill done" in toasts(app))


async def test_retry_with_a_note(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "flaky")
        await pilot.press("r")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"check the bound", "enter")
        await until(pilot, lambda: cmds(world) == [("retry", retry_args("flaky", 1,
                                                                        "check the bound"))])
        await until(pilot, lambda: "retry done" in toasts(app))
        await pilot.press("r", "enter")  # no note: like `swarmtui retry flaky`
        await until(pilot, lambda: cmds(world)[-1] == ("retry", retry_args("flaky", 1, "")))
        await pilot.press("r", "escape")  # escape sends nothing
        await pilot.pause(0.2)
        assert len(cmds(world)) == 2


async def test_verify_sends_verify(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "cache")
        await pilot.press("v")
        await until(pilot, lambda: cmds(world) == [("verify", {"task": "cache", "attempt": 1})])
        await until(pilot, lambda: "verify done" in toasts(app))


async def test_merge_confirms_and_shows_the_engines_answer(world: World) -> None:
    live = Answerer(world, reply=lambda c: ("failed", {"error": f"unknown command {c.kind!r}"}))
    live.start()
    try:
        app = make_app(world)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await select(pilot, "cache")
            await pilot.press("m")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await until(pilot, lambda: cmds(world) == [("merge", {"task": "cache",
                                                                   "attempt": 1})])
            await until(pilot, lambda: "unknown command 'merge'" in toasts(app))
    finally:
        live.stop()


async def test_new_task_form_sends_add(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewTaskScreen)
        await pilot.press("ctrl+s")  # no prompt yet: refused in place
        assert isinstance(app.screen, NewTaskScreen)
        assert "needs a prompt" in str(form.query_one("#f-error", Static).render())
        await pilot.press(*"Add a --json flag")
        assert form.query_one("#f-prompt", TextArea).text == "Add a --json flag"
        form.query_one("#f-role", Select).value = "worker"
        form.query_one("#f-files", Input).value = "src/cli.py, tests/test_cli.py"
        form.query_one("#f-verify", Input).value = "python -m pytest -q tests/test_cli.py"
        form.query_one("#f-id", Input).value = "json-flag"
        form.query_one("#f-depends", Input).value = "parser"
        form.query_one("#f-priority", Input).value = "5"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: cmds(world) == [("add", {
            "prompt": "Add a --json flag", "id": "json-flag", "role": "worker", "agent": None,
            "files": ["src/cli.py", "tests/test_cli.py"],
            "verify": "python -m pytest -q tests/test_cli.py", "depends_on": ["parser"],
            "priority": 5, "title": None})])
        await until(pilot, lambda: "add done" in toasts(app))
        await pilot.press("n", "escape")
        assert not isinstance(app.screen, NewTaskScreen)


async def test_pause_then_resume(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        top = app.fleet.query_one(TopBar)
        await until(pilot, lambda: top.header.status == "running")
        await pilot.press("p")
        await until(pilot, lambda: top.header.status == "paused")
        assert "● paused" in str(top.render())
        await pilot.press("p")
        await until(pilot, lambda: top.header.status == "running")
        assert cmds(world) == [("pause", {}), ("resume", {})]


async def test_usage_limit_shows_in_the_top_bar(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        top = app.fleet.query_one(TopBar)
        world.ev("usage_limited", "docs", 1, until=NOW + 1800)
        await until(pilot, lambda: top.header.status == "usage_limited")
        assert "● usage-limited until 00:42" in str(top.render())
        world.ev("usage_limit_lifted", until=NOW + 1800)
        await until(pilot, lambda: top.header.status == "running")


async def test_stop_confirms_then_sends_down(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("Q")
        assert isinstance(app.screen, ConfirmScreen)
        assert "(4 running)" in str(app.screen.query_one(".detail", Static).render())
        await pilot.press("y")
        await until(pilot, lambda: cmds(world) == [("down", {"keep_agents": False})])


async def test_actions_without_a_supervisor_say_why(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "cache")
        await pilot.press("v")
        await until(pilot, lambda: "no supervisor is running" in toasts(app))
        assert commands(world) == []


async def test_the_app_ends_when_the_supervisor_does(world: World, live: Answerer) -> None:
    alive = [True]
    app = make_app(world, alive=lambda: alive[0])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        world.ev("run_stopped", keep_agents=False)  # what `down` records
        await until(pilot, lambda: app.fleet.header.status == "stopped")
        alive[0] = False
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 0


async def test_a_supervisor_that_dies_mid_run_ends_the_app_with_1(world: World) -> None:
    alive = [True]
    app = make_app(world, alive=lambda: alive[0])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        alive[0] = False
        await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 1


# -- tmux: jump and detach ----------------------------------------------------------------------


def _tmux_with_windows(world: World, socket: str) -> Tmux:
    tmux = Tmux("swarm-demo-tui", socket=socket)
    tmux.new_session(["sleep", "600"], cwd=world.repo)
    tmux.new_window("parser-1", ["sleep", "600"], cwd=world.repo)
    return tmux


def _current_window(tmux: Tmux) -> str:
    out = tmux.server.cmd("display-message", "-p", "-t", f"={tmux.session}:", "#{window_name}")
    return out.stdout[0] if out.stdout else ""


@pytest.mark.e2e
async def test_enter_jumps_to_the_agent_window(world: World, tmux_socket: str) -> None:
    tmux = _tmux_with_windows(world, tmux_socket)
    app = make_app(world, tmux=tmux, alive=None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "cache")
        await pilot.press("enter")  # passed: no window to jump to
        await until(pilot, lambda: "cache has no live agent window" in toasts(app))
        await select(pilot, "parser")
        assert _current_window(tmux) == "swarmtui"
        await pilot.press("enter")
        await until(pilot, lambda: _current_window(tmux) == "parser-1")


@pytest.mark.e2e
async def test_q_detaches_but_keeps_the_app_running(world: World, tmux_socket: str) -> None:
    tmux = _tmux_with_windows(world, tmux_socket)
    app = make_app(world, tmux=tmux)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("q")  # no client is attached in this test: tmux says so
        await until(pilot, lambda: "cannot detach" in toasts(app))
        await pilot.press("ctrl+q")  # never quits window 0 (that would stop the supervisor)
        await pilot.pause(0.2)
        assert app.return_code is None and app.is_running


# -- read-only (swarmtui watch) -----------------------------------------------------------------


async def test_watch_hides_and_refuses_actions(world: World, live: Answerer) -> None:
    app = make_app(world, read_only=True, alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "docs")
        labels = str(app.fleet.query_one(KeyBar).render())
        assert "Filter" in labels and "Help" in labels and "Quit" in labels
        for hidden in ("Kill", "Retry", "Verify", "Merge", "Pause", "Stop"):
            assert hidden not in labels
        assert "read-only" in str(app.fleet.query_one(TopBar).render())
        await pilot.press("K", "r", "v", "m", "n", "p", "Q", "enter", "space", "S")
        await pilot.pause(0.2)
        assert app.screen is app.fleet and commands(world) == []
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
