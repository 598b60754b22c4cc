"""Push notifications from a real supervisor run to a local stand-in of the push service
(apprise's ``json://`` pointed at 127.0.0.1): the default alerts arrive once each, in safe words
that name the task, why and the command, a flapping agent pages once, nothing goes past the
hourly limit, and the URL's token comes from the environment and is never stored."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmtui.model import EventKind
from swarmtui.model.kinds import AlertLevel
from swarmtui.model.state import Alert
from swarmtui.notify.message import compose
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.pushreceiver import PushReceiver

HOSTILE = ("<b>bold</b> [click](http://evil.example/x) @channel <!channel> "
           "\x1b]0;title\x07 `rm -rf` " + "x" * 5000)

# An agent that asks for input through Claude Code's hook (hostile text), then fails.
WAITS_THEN_FAILS = (
    "import json, subprocess, sys\n"
    f"msg = {HOSTILE!r}\n"
    "subprocess.run([sys.executable, '-m', 'swarmtui.hook', 'Notification'],\n"
    "               input=json.dumps({'message': msg}).encode(), check=True)\n"
    "sys.exit(3)\n")


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    r = PushReceiver()
    yield r
    r.close()


def _config(receiver: PushReceiver, **notify: object) -> object:
    return fast_config(
        {"waits": [sys.executable, "-c", WAITS_THEN_FAILS], "ok": fake("success")},
        notify={"urls": [f"json://127.0.0.1:{receiver.port}/${{SWARM_TEST_PUSH_TOKEN}}"],
                **notify})


def test_default_alerts_arrive_once_each_in_safe_words(
        git_repo: Path, fleets: list[Fleet], receiver: PushReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_TEST_PUSH_TOKEN", "tok-3f9a1c77e2")
    cfg = _config(receiver)
    f = start(fleets, git_repo, cfg, [task("asker", "waits", max_attempts=1),  # type: ignore[arg-type]
                                      task("fine", "ok")])
    f.wait_done()
    got = receiver.messages()
    # Exactly the default kinds, once each: the wait for input, the dead task, the run's end
    # (not the attempt's failure, its health or the passed task).
    assert len(got) == 3, got
    wait, dead, finished = got
    assert wait.startswith("asker-1 is waiting for input: ‹b›bold‹/b› ⟦click⟧(http∶∕∕evil")
    assert "Act: swarmtui attach, then its window asker-1" in wait
    assert "asker needs you" in dead or "asker is dead" in dead, dead
    assert "Act: swarmtui retry asker (or swarmtui cancel asker)" in dead
    assert finished.startswith("run finished: some tasks did not pass")
    assert "Act: swarmtui report" in finished
    for m in got:
        assert len(m) <= 1000
        for bad in ("<", ">", "@channel", "://", "\x1b", "\x07", "`", "["):
            assert bad not in m.split("\nAct:")[0], (bad, m)
    # The token came from the environment: it is in the path posted to, not in the stored run.
    assert {path for path, _ in receiver.received} == {"/tok-3f9a1c77e2"}
    assert "tok-3f9a1c77e2" not in repr(f.store.replay().settings)
    titles = {b["title"] for _, b in receiver.received}
    assert titles == {"swarmtui repo: asker", "swarmtui repo: run"}


def test_flapping_agent_pages_once_and_none_pass_the_hourly_limit(
        git_repo: Path, fleets: list[Fleet], receiver: PushReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_TEST_PUSH_TOKEN", "tok-3f9a1c77e2")
    cfg = _config(receiver, max_per_hour=2)
    f = start(fleets, git_repo, cfg, [task("flappy", "waits", max_attempts=3)])  # type: ignore[arg-type]
    f.wait_done()
    state = f.store.replay()
    hook_alerts = [a for a in state.alerts.values() if a.kind == EventKind.AGENT_HOOK]
    assert len(hook_alerts) == 3  # it asked three times, each a new alert (a new attempt)
    got = receiver.messages()
    # One page for the wait (repeat_after), one for the dead task; the run's end is past the
    # hourly limit of two and is not sent.
    assert len(got) == 2, got
    assert got[0].startswith("flappy-1 is waiting for input")
    assert "flappy" in got[1] and "retry flappy" in got[1]


def test_held_back_pushes_are_counted_in_the_next() -> None:
    a = Alert(id=7, key=("dead", "t1"), kind=EventKind.TASK_DEAD, task="t1", attempt=2,
              level=AlertLevel.ERROR, text="t1 is dead: crashed", first_time=0.0,
              last_time=0.0, last_seq=7)
    push = compose(a, "repo", "http://127.0.0.1:8765/", held_back=4)
    assert push.body.splitlines() == [
        "t1 is dead: crashed", "Act: swarmtui retry t1 (or swarmtui cancel t1)",
        "View: http://127.0.0.1:8765/#task=t1",
        "(4 earlier alerts not pushed: rate limit; swarmtui status lists them)"]


def test_a_push_url_written_out_is_not_stored_and_comes_back_from_the_file() -> None:
    from swarmtui.secrets import MARKER, redact_config, restore_secrets

    cfg = {"notify": {"urls": ["ntfy://tk_secret123@ntfy.sh/topic", "json://h/${TOKEN}"]}}
    stored = redact_config(cfg)
    assert stored["notify"] == {"urls": [MARKER, "json://h/${TOKEN}"]}
    assert "tk_secret123" not in repr(stored)
    assert restore_secrets(stored, {}, cfg)["notify"] == cfg["notify"]
    assert restore_secrets(stored, {})["notify"] == {"urls": ["json://h/${TOKEN}"]}


def test_a_push_service_that_does_not_answer_never_holds_up_the_run(
        git_repo: Path, fleets: list[Fleet], receiver: PushReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_TEST_PUSH_TOKEN", "tok-3f9a1c77e2")
    receiver.hold.clear()  # the service takes the first push and answers nothing
    cfg = _config(receiver, timeout="30s")
    f = start(fleets, git_repo, cfg, [task("asker", "waits", max_attempts=1),  # type: ignore[arg-type]
                                      task("fine", "ok")])
    assert receiver.waiting.wait(30), "the first push never reached the service"
    # While that push hangs, the loop goes on to the end of the run.
    f.wait_kind("run_finished")
    receiver.hold.set()
    f.wait_done()
    assert len(receiver.messages()) == 3
