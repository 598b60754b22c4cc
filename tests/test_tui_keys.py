"""The operator's last mile, driven by Pilot on the recorded world: vim keys, marks that many
actions act on, columns chosen in the config and the palette, text never cut where the
operator decides (held texts whole, ids apart, short health words), toasts that wait for a
dialog, the run report and the hosts view. The real tmux and ssh parts are in
``test_tui_remote``."""

from __future__ import annotations

import json
import time

from textual.widgets import Static
from textual.widgets._toast import Toast

from swarmtui import protocol as P
from swarmtui.tui.bindings import FLEET_KEYS, MOVEMENT_KEYS
from swarmtui.tui.dialogs import ConfirmScreen, NoteScreen
from swarmtui.tui.reportview import HostsScreen, ReportScreen
from swarmtui.tui.screens import HelpScreen
from swarmtui.tui.view import COLUMN_INDEX
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    Answerer,
    World,
    build_world,
    utc_private_config,
)
from tests.tui_pilot import cmds, loaded, make_app, plain, retry_args, select, toasts, until


def unordered(sent: object) -> list[str]:
    """Commands sent by workers of their own, in whichever order they reached the inbox."""
    return sorted(json.dumps(c, sort_keys=True) for c in sent)  # type: ignore[attr-defined]


def with_ui(world: World, **ui: object) -> World:
    world.config = world.config.model_copy(update={"ui": world.config.ui.model_copy(
        update=ui)})
    return world


def question(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ConfirmScreen), screen
    return screen.question


def dialog_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return "\n".join(str(s.render()) for s in screen.query(Static))


# -- keys vim, k9s and lazygit users have --------------------------------------------------------


def test_nothing_destructive_sits_on_a_movement_key() -> None:
    for k in FLEET_KEYS:
        assert not (set(k.key.split(",")) & set(MOVEMENT_KEYS)), k


async def test_j_and_k_move_and_kill_is_on_capital_k(world: World, live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "docs")
        table = app.fleet.table
        at = table.cursor_row
        await pilot.press("j")
        assert table.cursor_row == at + 1 and app.screen is app.fleet
        await pilot.press("k")
        assert table.cursor_row == at and app.screen is app.fleet
        assert cmds(world) == []
        await pilot.press("K")
        assert question(app) == "Kill docs (attempt 1)?"
        await pilot.press("y")
        await until(pilot, lambda: cmds(world) == [("kill", {"task": "docs", "attempt": 1})])


async def test_an_old_keymap_on_a_movement_key_gets_a_clear_message(world: World) -> None:
    app = make_app(with_ui(world, keymap={"kill": "k"}), alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await select(pilot, "docs")
        shown = toasts(app)
        assert "kill = 'k' is not applied: k moves the cursor" in shown
        assert "kill stays on K" in shown
        await pilot.press("k")
        assert app.screen is app.fleet  # k moved the cursor; nothing asked to kill
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)


async def test_space_marks_rows_and_kill_retry_cancel_act_on_all(world: World,
                                                                 live: Answerer) -> None:
    app = make_app(world)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        table = app.fleet.table
        for tid in ("docs", "parser"):
            await select(pilot, tid)
            await pilot.press("space")
        assert table.marked == ["docs", "parser"]
        assert "2 marked" in str(table.border_title)
        assert table._row_strip("docs").text.startswith("▌")  # the leading cell shows it
        await pilot.press("K")
        assert question(app) == "Kill 2 agents: docs-1, parser-1?"  # one confirm, both named
        await pilot.press("y")
        # One command per row, sent by workers of their own: in either order.
        await until(pilot, lambda: unordered(cmds(world)) == unordered([
            ("kill", {"task": "docs", "attempt": 1}),
            ("kill", {"task": "parser", "attempt": 1})]))
        assert table.marked == []

        for tid in ("flaky", "stall"):
            await select(pilot, tid)
            await pilot.press("space")
        await pilot.press("r")
        assert isinstance(app.screen, NoteScreen)
        assert "flaky, stall" in app.screen.title_text
        await pilot.press(*"both again", "enter")
        await until(pilot, lambda: unordered(cmds(world)[2:]) == unordered([
            ("retry", retry_args("flaky", 1, "both again")),
            ("retry", retry_args("stall", 1, "both again"))]))

        for tid in ("release", "flaky"):
            await select(pilot, tid)
            await pilot.press("space")
        await pilot.press("c")
        assert question(app) == "Cancel 2 tasks: release, flaky?"
        await pilot.press("escape")  # any other key: no, and the marks stay
        assert cmds(world)[4:] == [] and table.marked == ["release", "flaky"]
        await pilot.press("escape")  # on the fleet: escape clears the marks
        assert table.marked == []


def hold(world: World, tid: str, qid: str, text: str) -> None:
    """A held text as the engine leaves it: the event, and the whole text in its file."""
    folder = P.swarm_dir(world.repo) / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{qid}.txt").write_text(text)
    world.ev("text_quarantined", tid, 1, at=400, qid=qid, digest=qid[2:] + "00",
             source="summary", reasons=["override"], excerpt="ignore the previous words")


LONG = "\n".join(f"line {i}: the agent's summary goes on about the cache" for i in range(80)) \
    + "\nand ends here with the words that matter\x1b[31m"


async def test_approve_shows_the_whole_held_text_scrollable(world: World,
                                                            live: Answerer) -> None:
    hold(world, "cache", "q-3f2a9c", LONG)
    app = make_app(world)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await select(pilot, "cache")
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the dialog")
        assert question(app) == "Release the held text q-3f2a9c as written?"
        text = dialog_text(app)
        assert "line 0: the agent's summary" in text and "line 79:" in text
        assert "and ends here with the words that matter\\x1b[31m" in text  # made safe
        await pilot.press("pagedown", "end", "up")  # reading is not answering
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: cmds(world) == [("approve", {"quarantine": "q-3f2a9c"})])


async def test_approve_on_marked_rows_names_every_held_text(world: World,
                                                            live: Answerer) -> None:
    hold(world, "cache", "q-aaaa01", "first held text, whole")
    hold(world, "docs", "q-bbbb02", "second held text, whole")
    app = make_app(world)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        for tid in ("cache", "docs", "parser"):
            await select(pilot, tid)
            await pilot.press("space")
        await pilot.press("plus")
        assert question(app) == "Approve 2 held texts: q-aaaa01, q-bbbb02?"
        assert "no held text (left alone): parser" in dialog_text(app)
        await pilot.press("y")
        await until(pilot, lambda: unordered(cmds(world)) == unordered([
            ("approve", {"quarantine": "q-aaaa01"}), ("approve", {"quarantine": "q-bbbb02"})]))


# -- columns -------------------------------------------------------------------------------------


async def test_columns_from_the_config_and_the_palette(world: World) -> None:
    app = make_app(with_ui(world, columns=["state", "progress", "health", "nonsense"]),
                   alive=None)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        table = (await loaded(pilot)).fleet.table
        assert "ui.columns: no column 'nonsense'" in toasts(app)
        shown = {k for k, i in COLUMN_INDEX.items() if table.widths[i]}
        assert shown == {"id", "state", "progress", "health"}
        await pilot.press("ctrl+p", *"column title: show")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: table.widths[COLUMN_INDEX["title"]] > 0, what="TITLE")
        assert "TITLE" in table._header_strip().text


# -- text never cut where the operator decides --------------------------------------------------


async def test_at_80_columns_ids_stay_apart_and_health_words_fit(world: World) -> None:
    for i, name in enumerate(("sub-task-for-the-api-planner-1",
                              "sub-task-for-the-db-planner-1")):
        world.add_task(name, f"slice {i}", at=700 + i)
        world.spawn(name, 1, at=701 + i)
        world.ev("health", name, 1, at=702 + i, health="unproductive",
                 evidence={"note": "no new outputs"})
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = (await loaded(pilot)).fleet.table
        await until(pilot, lambda: "sub-task-for-the-db-planner-1" in table.rows_by_task)
        w = table.widths[COLUMN_INDEX["id"]]
        cells = {t: table._row_strip(t).text[1:1 + w].strip() for t in table.rows_by_task}
        assert len(set(cells.values())) == len(cells), cells  # no two ids look the same
        api = cells["sub-task-for-the-api-planner-1"]
        assert "…" in api and api.startswith("sub-") and api.endswith("-1")  # cut in the middle
        hw = table.widths[COLUMN_INDEX["health"]]
        assert hw >= len("unprod")
        assert table.cell("sub-task-for-the-api-planner-1", "health").plain == "unprod"


async def test_toasts_wait_while_a_dialog_is_open(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        app.notify("first alert")
        await until(pilot, lambda: toasts(app), what="the first toast")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app.notify("second alert")

        def shown() -> list[str]:
            return [str(t.render()) for s in app.screen_stack for t in s.query(Toast)]

        await pilot.pause(0.3)  # a toast shows within a frame or two; this one must not
        assert shown() == [], "a toast over the dialog"
        await pilot.press("escape")
        await until(pilot, lambda: shown() == ["second alert"], what="the toast, afterwards")
        toast = app.screen.query_one(Toast)
        line = app.fleet.query_one("#alertline")
        await until(pilot, lambda: toast.region.height > 0, what="the toast laid out")
        assert toast.region.bottom <= line.region.y, (toast.region, line.region)


async def test_an_alert_text_is_stored_whole_and_cut_only_when_drawn(world: World) -> None:
    reason = "verify failed: " + " ".join(f"word{i}" for i in range(60)) + " THE END"
    world.ev("attempt_failed", "docs", 1, at=720, reason=reason, cause="verify_failed",
             counts_attempt=True, counts_breaker=True)
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: any("THE END" in a.text for a in app.fleet.alerts),
                    what="the alert, whole")


# -- the run report and the hosts view -----------------------------------------------------------


async def test_the_report_key_shows_the_run_report(world: World) -> None:
    app = make_app(world, alive=None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        assert isinstance(app.screen, ReportScreen)
        screen = app.screen
        await until(pilot, lambda: screen.report is not None, what="the report")
        text = str(screen.query_one("#report-text", Static).render())
        assert "timeline (one lane per slot in use)" in text and "per merged" in text
        for aid in ("cache-1", "flaky-1", "stall-1", "old-1"):
            assert aid in text
        assert max(len(line) for line in text.splitlines()) <= 80 - 6
        await pilot.press("escape")
        assert app.screen is app.fleet


async def test_the_hosts_view_shows_slots_reachability_latency(world: World,
                                                               live: Answerer) -> None:
    view = {"time": time.time() + 3600, "hosts": [
        {"name": "local", "kind": "local", "state": "up", "slots": 2, "used": 1,
         "latency_ms": None, "reason": "", "destination": ""},
        {"name": "build1", "kind": "ssh", "state": "up", "slots": 4, "used": 3,
         "latency_ms": 12.4, "reason": "", "destination": "me@build1"},
        {"name": "gpu", "kind": "ssh", "state": "unreachable", "slots": 2, "used": 0,
         "latency_ms": None, "reason": "ssh to gpu: connection refused", "destination": "gpu"},
    ]}
    (P.swarm_dir(world.repo) / "hosts.json").write_text(json.dumps(view))
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("H")
        assert isinstance(app.screen, HostsScreen)
        screen = app.screen
        await until(pilot, lambda: screen.view is not None, what="the supervisor's view")
        text = " ".join(str(screen.query_one("#hosts-title", Static).render()).split())
        assert text == "Hosts: 2 of 3 up (the supervisor's view)"
        rendered = plain(screen.shown, 110)
        assert "build1" in rendered and "3/4" in rendered and "12 ms" in rendered
        assert "connection refused" in rendered
