"""The app driven by Pilot against the REAL engine: a real store, a real supervisor (its loop in
a thread of this process, on a private tmux server, with the fake agent) and the app on the
same repository. Each test presses keys as an operator would and checks what the supervisor's
own command handlers recorded in the store: the events, and the command's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea

from swarmtui import protocol as P
from swarmtui.fake_agent import verify_command_for
from swarmtui.model import Event
from swarmtui.tui.app import SwarmApp
from swarmtui.tui.dialogs import ConfirmScreen, NoteScreen
from swarmtui.tui.forms import NewTaskScreen
from swarmtui.tui.screens import AlertsScreen
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.test_merge_e2e import scripted
from tests.tui_pilot import app_on, goto, toasts, until

pytestmark = pytest.mark.e2e


def events(f: Fleet, kind: str, tid: str | None = None) -> list[Event]:
    """What the store holds (the supervisor wrote it), not what the test's listener saw."""
    return [e for e in f.store.events(0) if e.kind == kind and (tid is None or e.task == tid)]


def answers(f: Fleet, kind: str) -> list[dict[str, Any]]:
    """The supervisor's answers to the app's commands of ``kind``, from command_applied."""
    return [e.data for e in events(f, "command_applied")
            if e.data["command"] == kind and e.data["source"] == "tui"]


async def wait_state(pilot: Pilot[Any], app: SwarmApp, tid: str, state: str) -> None:
    await until(pilot, lambda: tid in app.fleet.tasks and str(app.fleet.tasks[tid].state)
                == state, what=f"{tid} {state} on screen")


def ok_task(tid: str, agent: str = "ok", **kw: Any) -> Any:
    return task(tid, agent, verify=verify_command_for("success", tid), **kw)


async def test_new_task_form_adds_a_task_the_supervisor_runs(git_repo: Path,
                                                             fleets: list[Fleet]) -> None:
    f = start(fleets, git_repo, fast_config({"ok": fake("success")}), [ok_task("first")],
              exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_state(pilot, app, "first", "passed")
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewTaskScreen)
        await pilot.press(*"Write fake/second.txt")
        assert form.query_one("#f-prompt", TextArea).text == "Write fake/second.txt"
        form.query_one("#f-id", Input).value = "second"
        form.query_one("#f-verify", Input).value = verify_command_for("success", "second") or ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: events(f, "task_added", "second"), what="task_added")
        added = events(f, "task_added", "second")[0]
        assert added.data["spec"]["prompt"] == "Write fake/second.txt"
        assert added.data["spec"]["manual"] is True
        await wait_state(pilot, app, "second", "passed")  # the real supervisor ran it
        assert answers(f, "add")[0]["status"] == "done"


async def test_merge_confirms_then_lands(git_repo: Path, fleets: list[Fleet]) -> None:
    f = start(fleets, git_repo, fast_config({"ok": fake("success")}), [ok_task("m1")],
              exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_state(pilot, app, "m1", "passed")
        await until(pilot, lambda: (app.fleet.tasks["m1"].forecast or {}).get("target"),
                    what="the forecast")
        await goto(pilot, app, "m1")
        await pilot.press("m")
        assert isinstance(app.screen, ConfirmScreen)
        assert "merges cleanly into main" in " ".join(app.screen.lines)
        await pilot.press("y")
        await until(pilot, lambda: events(f, "task_merged", "m1"), what="task_merged")
        await wait_state(pilot, app, "m1", "merged")
        (ans,) = answers(f, "merge")
        assert ans["status"] == "done"
        merged = events(f, "task_merged", "m1")[0]
        # The top bar follows the target's tip (read with git) once it moved.
        await until(pilot, lambda: "main@" + merged.data["commit"][:8] in str(
            app.fleet.query_one("#topbar").render()), what="the new tip in the top bar")


async def test_verify_runs_the_check_again(git_repo: Path, fleets: list[Fleet]) -> None:
    f = start(fleets, git_repo, fast_config({"ok": fake("success")}), [ok_task("v1")],
              exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_state(pilot, app, "v1", "passed")
        before = len(events(f, "verify_passed", "v1"))
        await goto(pilot, app, "v1")
        await pilot.press("v")
        await until(pilot, lambda: len(events(f, "verify_passed", "v1")) > before,
                    what="a second verify_passed")
        (ans,) = answers(f, "verify")
        assert ans["status"] == "done" and "verifying v1" in ans["result"]["message"]
        await until(pilot, lambda: "verifying v1" in toasts(app))


async def test_pause_then_resume_dispatch(git_repo: Path, fleets: list[Fleet]) -> None:
    # A slow agent keeps the run from finishing (a finished run stays "finished").
    f = start(fleets, git_repo, fast_config({"slow": fake("slow", pace=1.0)}),
              [task("p1", "slow")], exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(pilot, lambda: app.fleet.header.status == "running")
        await pilot.press("p")
        await until(pilot, lambda: events(f, "dispatch_paused"), what="dispatch_paused")
        await until(pilot, lambda: app.fleet.header.status == "paused")
        await pilot.press("p")
        await until(pilot, lambda: events(f, "dispatch_resumed"), what="dispatch_resumed")
        await until(pilot, lambda: app.fleet.header.status == "running")
        assert [a["status"] for a in answers(f, "pause") + answers(f, "resume")] == [
            "done", "done"]
        assert events(f, "dispatch_paused")[0].data["by"] == "tui"


async def test_kill_of_an_attempt_that_is_no_longer_current_is_refused(
        git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"slow": fake("slow", pace=1.0)})
    f = start(fleets, git_repo, cfg, [task("k1", "slow")], exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_state(pilot, app, "k1", "running")
        await goto(pilot, app, "k1")
        await pilot.press("K")  # the operator looks at k1-1 ...
        assert isinstance(app.screen, ConfirmScreen)
        assert "Kill k1 (attempt 1)?" in app.screen.question
        # ... while someone else (the CLI) kills it and starts a fresh attempt.
        f.command("kill", task="k1", attempt=1)
        f.wait_kind("attempt_failed", "k1")
        f.command("retry", task="k1")
        f.wait_event(lambda e: e.kind == "attempt_spawned" and e.task == "k1"
                     and e.attempt == 2)
        await pilot.press("y")  # the kill the operator confirmed names attempt 1
        await until(pilot, lambda: answers(f, "kill"), what="the answer to the kill")
        (ans,) = answers(f, "kill")
        assert ans["status"] == "refused"
        assert "k1-1 is no longer the current attempt" in ans["result"]["reason"]
        assert ans["result"]["task"] == "k1"
        await until(pilot, lambda: "no longer the current attempt" in toasts(app))
        assert f.sup.state.tasks["k1"].attempt == 2  # the newer attempt was left alone
        assert len(events(f, "attempt_failed", "k1")) == 1


async def test_ack_an_alert_from_the_worklist(git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"slow": fake("slow", pace=1.0)})
    f = start(fleets, git_repo, cfg, [task("a1", "slow")], exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_state(pilot, app, "a1", "running")
        f.command("kill", task="a1")  # raises an alert: a1-1 failed: killed by test
        await until(pilot, lambda: any(a.task == "a1" for a in app.fleet.alerts),
                    what="the alert")
        alert = next(a for a in app.fleet.alerts if a.task == "a1")
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        ol = screen.query_one(OptionList)
        ol.highlighted = [a.id for a in screen.alerts].index(alert.id)
        await pilot.press("x")
        await until(pilot, lambda: events(f, "alert_acked"), what="alert_acked")
        acked = events(f, "alert_acked")[0]
        assert acked.data["alert"] == alert.id and acked.data["by"] == "tui"
        await until(pilot, lambda: next(a for a in screen.alerts if a.id == alert.id).acked,
                    what="the alert dimmed in the list")
        assert answers(f, "ack")[0]["status"] == "done"
        await pilot.press("enter")  # and enter goes to its task
        await until(pilot, lambda: app.screen is app.fleet)
        assert app.fleet.table.selected_task == "a1"


def _two_conflicting(git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> Fleet:
    """Tasks a and b that both rewrite line 1 of shared.txt."""
    cfg = fast_config({
        "a": scripted(tmp_path, "a", {"write": {"shared.txt": "line 1 by a\nline 2\nline 3\n"},
                                      "results": {"summary": "a rewrites line 1",
                                                  "files_modified": ["shared.txt"]}}),
        "b": scripted(tmp_path, "b", {"write": {"shared.txt": "line 1 by b\nline 2\nline 3\n"},
                                      "results": {"summary": "b rewrites line 1"}}),
    })
    return start(fleets, git_repo, cfg, [task("a", "a"), task("b", "b")], exit_when_done=False)


async def _a_merged_and_b_conflicting(pilot: Any, app: Any, f: Fleet) -> None:
    await wait_state(pilot, app, "a", "passed")
    await wait_state(pilot, app, "b", "passed")
    f.command("merge", task="a")
    await until(pilot, lambda: (app.fleet.tasks["b"].forecast or {}).get("target")
                == "conflict", what="b's forecast against the moved target")


async def test_a_conflicting_merge_offers_a_resolver_and_a_retry_hands_the_conflict_off(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> None:
    f = _two_conflicting(git_repo, fleets, tmp_path)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _a_merged_and_b_conflicting(pilot, app, f)
        await goto(pilot, app, "b")
        await pilot.press("m")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        # The merge refuses a conflict with the target, so it is not offered "anyway": the
        # dialog says so and offers the resolver (issue 18.4).
        assert "conflicts with main in shared.txt: it cannot merge as it is" in confirm.question
        assert not confirm.problems and confirm.verb == "resolve"
        await pilot.press("escape")
        assert not isinstance(app.screen, ConfirmScreen)
        assert not answers(f, "resolve")
        f.command("merge", task="b")  # a script's merge is refused, naming the conflict
        await until(pilot, lambda: events(f, "merge_refused", "b"), what="merge_refused")
        assert events(f, "merge_refused", "b")[0].data["conflicts"] == ["shared.txt"]
        await until(pilot, lambda: app.fleet.tasks["b"].merge_note, what="the refusal shown")
        await pilot.press("r")
        note = app.screen
        assert isinstance(note, NoteScreen)
        assert "Its merge was refused" in " ".join(note.lines)
        await pilot.press("enter")
        await until(pilot, lambda: any(e.attempt == 2 for e in events(f, "attempt_started", "b")),
                    what="b's second attempt")
        # The supervisor's handoff to the new attempt carries the conflict, not just "retried".
        prompt = (P.agent_dir(git_repo, "b", 2) / P.PROMPT_FILE).read_text()
        assert "### Its merge was refused" in prompt and "shared.txt" in prompt
        assert answers(f, "retry")[0]["status"] == "done"


async def test_y_on_a_conflicting_merge_starts_the_resolver(git_repo: Path, fleets: list[Fleet],
                                                            tmp_path: Path) -> None:
    f = _two_conflicting(git_repo, fleets, tmp_path)
    app = app_on(f)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await _a_merged_and_b_conflicting(pilot, app, f)
        await goto(pilot, app, "b")
        await pilot.press("m")
        assert isinstance(app.screen, ConfirmScreen) and app.screen.verb == "resolve"
        await pilot.press("y")
        await until(pilot, lambda: answers(f, "resolve"), what="the resolve command answered")
        assert not answers(f, "merge")  # nothing was sent to merge "anyway"
        spawned = f.wait_event(lambda e: e.kind == "attempt_spawned" and e.task == "b"
                               and e.attempt == 2)
        assert spawned.data["resolving"] == ["shared.txt"]


async def test_a_result_waiting_to_merge_says_so_once(git_repo: Path,
                                                     fleets: list[Fleet]) -> None:
    """The real watchdog marks a passed task nobody merged; its alert, the events tab and the
    HEALTH column say "waiting to merge" once, not "waiting to merge: passed, waiting to be
    merged"."""
    cfg = fast_config({"ok": fake("success")}, heartbeat={"stale_result_after": 1})
    f = start(fleets, git_repo, cfg, [ok_task("w1")], exit_when_done=False)
    app = app_on(f)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        f.wait_event(lambda e: e.kind == "health" and e.task == "w1"
                     and e.data["health"] == "stale_result")
        await until(pilot, lambda: any(a.task == "w1" and "waiting to merge" in a.text
                                       for a in app.fleet.alerts), what="the alert")
        (alert,) = [a for a in app.fleet.alerts if a.task == "w1" and "merge" in a.text]
        assert alert.text == "w1-1 is waiting to merge"
        await until(pilot, lambda: app.fleet.table.cell("w1", "health").plain == "unmerged",
                    what="the HEALTH word")
