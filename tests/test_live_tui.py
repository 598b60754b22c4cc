"""The `g` key on a live agent's request: the dialog shows the tool and its input, one key per
answer, and the answer goes to the supervisor as the `answer` command. The request is what the
wrapper records from the real CLI's ``can_use_tool`` line (tests/data/claude/README.md)."""

from __future__ import annotations

import json

import pytest

from swarmtui.tui.askdialog import AskScreen
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    Answerer,
    World,
    build_world,
    utc_private_config,
)
from tests.tui_pilot import cmds, loaded, make_app, select, until

# The input of the request the real CLI printed (2.1.332), as the wrapper records it.
INPUT = json.dumps({"command": "git add hello-p.txt && git commit -q -m 'Add hello'",
                    "description": "commit"})


def asked(world: World, tid: str, n: int = 1, rule: str = "Bash(git add *)") -> None:
    world.ev("permission_asked", tid, 1, at=700 + n, request=n, tool="Bash", input=INPUT,
             rule=rule, tool_use=f"toolu_{n}", timeout=900.0, offset=n)


@pytest.mark.parametrize(("key", "scope"), [("y", "once"), ("t", "task"), ("r", "role")])
async def test_g_answers_a_live_request_in_place(world: World, live: Answerer, key: str,
                                                 scope: str) -> None:
    world.ev("attempt_started", "docs", 1, at=21, start_commit="0" * 40)
    asked(world, "docs")
    app = make_app(world)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = (await loaded(pilot)).fleet.table
        assert table.cell("docs", "progress").plain.startswith("asks to use Bash(git add *)")
        await select(pilot, "docs")
        await pilot.press("g")
        assert isinstance(app.screen, AskScreen)
        texts = [str(s.render()) for s in app.screen.query(".detail")]
        assert texts[0] == "$ git add hello-p.txt && git commit -q -m 'Add hello'"
        assert any(t.startswith("rule: Bash(git add *)") for t in texts)
        await pilot.press(key)
        await until(pilot, lambda: cmds(world) == [("answer", {
            "task": "docs", "attempt": 1, "request": 1, "allow": True, "scope": scope,
            "why": ""})])


async def test_n_asks_why_and_denies_with_it(world: World, live: Answerer) -> None:
    world.ev("attempt_started", "docs", 1, at=21, start_commit="0" * 40)
    asked(world, "docs")
    asked(world, "docs", 2, rule="Bash(git push *)")
    app = make_app(world)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, "docs")
        await pilot.press("g")
        assert isinstance(app.screen, AskScreen)
        assert "1 more waiting" in str(app.screen.query(".detail").last().render())
        app.save_screenshot("ask-dialog-160x48.svg", path=str(world.repo))
        await pilot.press("n")
        await pilot.press(*"not today")
        await pilot.press("enter")
        await until(pilot, lambda: cmds(world) == [("answer", {
            "task": "docs", "attempt": 1, "request": 1, "allow": False, "scope": "once",
            "why": "not today"})])
