"""The `g` key grants what the screen shows, fed with what the adapter made of a transcript
recorded from the real Claude Code CLI (tests/data/claude/permission_denied_allow_list.jsonl),
also as Claude Code 2.1.197 printed it: the denial only on the result line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmtui.engine.adapters.claude import ClaudeAdapter
from swarmtui.engine.attempts.liveness import exit_payload
from swarmtui.engine.attempts.outcomes import exit_verdict
from swarmtui.engine.attempts.reader import signal_payload
from swarmtui.engine.runtime.ingest import ExitRecord
from swarmtui.model import CAUSE_POLICY
from swarmtui.tui.dialogs import ConfirmScreen
from tests.test_tui_app import cmds, loaded, make_app, retry_args, select, until
from tests.test_tui_world import (  # noqa: F401 - utc_private_config is an autouse fixture
    Answerer,
    World,
    build_world,
    utc_private_config,
)

DATA = Path(__file__).parent / "data" / "claude"


def record(world: World, tid: str, *, system_line: bool) -> None:
    """What the supervisor records of that transcript for ``tid``'s running attempt 1."""
    a = ClaudeAdapter()
    offset = 0
    for line in (DATA / "permission_denied_allow_list.jsonl").read_text().splitlines():
        if not system_line and json.loads(line).get("subtype") == "permission_denied":
            continue
        for s in a.observe(line):
            offset += 1
            pl = signal_payload(s, offset)
            if pl is not None and s["kind"] == "permission_denied":
                world.ev(str(pl.KIND), tid, 1, at=500 + offset, **pl.to_json())
    exited = exit_payload(ExitRecord(how="exited", code=0, signal=None, data=a.usage()))
    world.ev("agent_exited", tid, 1, at=600, **exited.to_json())
    v = exit_verdict(exited)
    pol = CAUSE_POLICY[v.cause]
    world.ev("attempt_failed", tid, 1, at=601, cause=str(v.cause), reason=v.reason,
             counts_attempt=pol.counts_attempt, counts_breaker=pol.counts_breaker)


@pytest.mark.parametrize("system_line", [True, False], ids=["2.1.332", "2.1.197"])
async def test_g_grants_the_rule_the_screen_shows(world: World, live: Answerer,
                                                 system_line: bool) -> None:
    record(world, "docs", system_line=system_line)
    denials = [e for e in world.store.events(0) if e.kind == "permission_denied"
               and e.task == "docs"]
    assert [e.data["rule"] for e in denials] == ["Bash(git tag:*)"]  # once, either way
    app = make_app(world)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        table = (await loaded(pilot)).fleet.table
        assert table.cell("docs", "progress").plain == "needs permission: Bash(git tag:*)"
        await select(pilot, "docs")
        await pilot.press("g")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.lines[0] == "allow Bash(git tag:*)"
        await pilot.press("y")
        await until(pilot, lambda: cmds(world) == [("retry", retry_args(
            "docs", 1, allow=["Bash(git tag:*)"]))])
