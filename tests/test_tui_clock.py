"""The agents table as time passes and events arrive, over a recorded run in a real store.

The clock is the app's own seam (``SwarmApp(clock=...)``, handed to the feed): a test moves it
and waits for the feed to pass the new time on, so nothing here sleeps for the clock. What is
counted: rows the feed builds again (``Feed.rows_built``, ``Feed.full_builds``) and rows the
table renders again (``AgentsTable.rebuilt``).
"""

from __future__ import annotations

import math

from swarmtui.model import STATE_OF_EVENT
from swarmtui.model.fold import RUN_FOLDERS
from swarmtui.tui.feed import FULL_EVERY, ROW_ONLY, Feed, Update, task_copy
from swarmtui.tui.runview import Header, Slots, make_header, make_slots
from swarmtui.tui.view import COLUMN_INDEX, Row, make_rows
from tests.test_tui_world import NOW, World
from tests.test_tui_world import utc_private_config as utc_private_config  # autouse fixture
from tests.tui_pilot import loaded, make_app, until


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def quiet_step(rows: dict[str, Row], start: float) -> float:
    """A later time (in whole seconds) at which no row shows other RUN or AGE words."""
    for dt in range(1, 60):
        if all(r.times(start) == r.times(start + dt) for r in rows.values()):
            return start + dt
    raise AssertionError("every second changes some row's words")


def feed_on(world: World, clock: Clock) -> Feed:
    return Feed(world.repo, world.config, clock=clock, read_only=True)


def step(feed: Feed) -> Update | None:
    feed.ready.set()  # as the UI does once it has applied the last update
    return feed.step()


def test_the_feed_builds_only_the_rows_of_touched_tasks(world: World) -> None:
    clock = Clock(NOW)
    feed = feed_on(world, clock)
    first = step(feed)
    assert first is not None and feed.full_builds == 1
    every = feed.rows_built
    world.progress("docs", 1, 750, "API reference drafted", 2, 1)
    clock.t = NOW + 0.5  # the same second
    upd = step(feed)
    assert upd is not None and set(upd.rows) == {"docs"}
    assert feed.rows_built == every + 1 and feed.full_builds == 1
    # Seconds passing change no row: an update carries the new time and no rows.
    clock.t = NOW + 5
    upd = step(feed)
    assert upd is not None and upd.rows == {} and upd.now == NOW + 5
    assert feed.rows_built == every + 1
    # Now and then every row is built again (and, being the same, none is sent).
    clock.t = NOW + FULL_EVERY + 1
    upd = step(feed)
    assert feed.full_builds == 2 and (upd is None or upd.rows == {})


def test_every_row_is_built_again_when_a_usage_limit_lifts(world: World) -> None:
    clock = Clock(NOW)
    feed = feed_on(world, clock)
    step(feed)
    # docs's agent hit the account's limit: flaky, queued on the same account, waits for it
    # too (an event of docs changes flaky's row).
    world.ev("usage_limited", "docs", 1, until=NOW + 5, account="claude")
    upd = step(feed)
    assert upd is not None and "usage-limited until" in upd.rows["flaky"].search
    builds = feed.full_builds
    clock.t = NOW + 6  # the limit has lifted: no event says so, the clock does
    upd = step(feed)
    assert feed.full_builds == builds + 1
    assert upd is not None and "usage-limited" not in upd.rows["flaky"].search


def test_progress_keeps_the_sums_and_a_new_agent_renews_them(world: World) -> None:
    # Kinds the feed treats as changing one row only move no task's state and no run field.
    assert all(k not in STATE_OF_EVENT and k not in RUN_FOLDERS for k in ROW_ONLY)
    clock = Clock(NOW)
    feed = feed_on(world, clock)
    first = step(feed)
    assert first is not None

    def fresh(at: float) -> tuple[Header, Slots]:
        state = feed.open().state
        return (make_header(state, world.config, math.floor(at), repo=world.repo.name,
                            live=False, read_only=True, rows=feed._shown),
                make_slots(state, world.config))

    world.progress("docs", 1, 755, "API reference drafted", 2, 1)
    clock.t = NOW + 1.5
    upd = step(feed)
    assert upd is not None and set(upd.rows) == {"docs"}
    assert (upd.header, upd.slots) == fresh(clock.t)
    assert upd.now == NOW + 1  # the clock's whole second: every age turns in one frame
    world.add_task("extra", "One more agent", at=756)
    world.spawn("extra", 1, 756)
    upd = step(feed)
    assert upd is not None and (upd.header, upd.slots) == fresh(clock.t)
    assert upd.header.used == first.header.used + 1


def test_a_row_moved_by_progress_alone_is_the_row_built_from_scratch(world: World) -> None:
    clock = Clock(NOW)
    feed = feed_on(world, clock)
    step(feed)
    world.progress("docs", 1, 755, "part 2/5 of the reference", 3, 4)
    world.progress("parser", 1, 755, "tests pass", 9)
    upd = step(feed)
    assert upd is not None and set(upd.rows) == {"docs", "parser"}
    assert not upd.attempts  # progress moves no attempt record
    state = feed.open().state
    fresh = make_rows(state, world.config, NOW, only={"docs", "parser"})
    assert upd.rows == fresh
    assert upd.rows["docs"].cells[COLUMN_INDEX["outputs"]].text == "4"


def test_a_task_copy_shares_no_list_or_dict_with_the_task_the_feed_folds_into(
        world: World) -> None:
    feed = feed_on(world, Clock(NOW))
    step(feed)
    for t in feed.open().state.tasks.values():
        c = task_copy(t)
        assert c == t
        for name, value in vars(t).items():
            if isinstance(value, (list, dict)):
                assert getattr(c, name) is not value, name


async def test_ages_repaint_when_their_words_change_and_not_before(world: World) -> None:
    # An hour later: RUN and AGE read "1h00m" and change once a minute.
    clock = Clock(NOW + 3600)
    app = make_app(world, alive=None, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        table = app.fleet.table
        parser = table.rows_by_task["parser"]
        age = parser.times(clock.t)[1]
        await until(pilot, lambda: table.cell("parser", "age").plain == age)
        assert age.startswith("1h")
        await pilot.pause()
        table.rebuilt.clear()
        # A few seconds on, no row reads differently: nothing is rendered again.
        quiet = quiet_step(table.rows_by_task, clock.t)
        clock.t = quiet
        await until(pilot, lambda: table.now == quiet, what="the feed passing the time on")
        await pilot.pause()
        assert table.rebuilt == []
        assert table.cell("parser", "age").plain == age
        # On to the second where parser's AGE turns: exactly the rows whose words changed.
        then = clock.t
        turn = next(then + dt for dt in range(1, 61)
                    if parser.times(then + dt)[1] != age)
        changed = {t for t, r in table.rows_by_task.items() if r.times(then) != r.times(turn)}
        clock.t = turn
        await until(pilot, lambda: table.cell("parser", "age").plain != age)
        await pilot.pause()
        assert "parser" in changed and sorted(table.rebuilt) == sorted(changed)
        assert table.cell("parser", "age").plain == parser.times(turn)[1]


async def test_a_changed_task_rebuilds_its_row_alone_while_the_clock_runs(world: World) -> None:
    clock = Clock(NOW)
    app = make_app(world, alive=None, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        table = app.fleet.table
        await pilot.pause()
        table.rebuilt.clear()
        world.progress("docs", 1, 754, "API reference drafted", 2, 1)
        await until(pilot, lambda: table.cell("docs", "progress").plain
                    == "API reference drafted")
        assert table.cell("docs", "age").plain == "0s"  # the new line's age, at once
        await pilot.pause()
        assert table.rebuilt == ["docs"]
        table.rebuilt.clear()
        # Three seconds on: docs's AGE and every running RUN tick, and nothing else moves.
        clock.t = NOW + 3
        await until(pilot, lambda: table.cell("docs", "age").plain == "3s")
        await pilot.pause()
        running = {t for t, r in table.rows_by_task.items() if r.run_since is not None
                   or r.age_since is not None}
        assert set(table.rebuilt) == running and len(table.rebuilt) == len(running)
        assert table.cell("parser", "age").plain == f"{754 + 3 - 700}s"
