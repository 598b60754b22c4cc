"""Issue 25's promise, end to end with real parts: the real Claude Code CLI (against the local
Messages API stand-in) asks for a tool its policy does not cover; the operator is paged through
a local stand-in of the push service within seconds, with the command that answers; and on a
phone-sized page of `swarmtui serve --allow-actions` in a real headless Chromium they see the
request and allow it; the agent carries on in the same session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.anthropic_stub import StubServer
from tests.browser import Browser
from tests.fleet import Fleet, start, task
from tests.pushreceiver import PushReceiver
from tests.test_claude_e2e import claude, claude_config, route, worker
from tests.test_notify_push import receiver
from tests.test_web_serve import PHONE, browser, serve, serving
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e
__all__ = ["browser", "claude", "receiver", "serving"]


def test_a_request_pages_the_phone_and_is_allowed_from_the_web_view(
        claude: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        anthropic_stub: StubServer, receiver: PushReceiver, browser: Browser,
        serving: list, monkeypatch: pytest.MonkeyPatch) -> None:
    anthropic_stub.add_route(route("p", worker("p")))
    cfg = claude_config(claude, anthropic_stub, tmp_path / "home",
                        permissions={"mode": "acceptEdits", "allow": ["Bash(echo:*)"]},
                        notify={"urls": [f"json://127.0.0.1:{receiver.port}/page"]})
    f = start(fleets, git_repo, cfg, [task("p", "claude")])
    view = serve(serving, git_repo, allow_actions=True)  # pages link to it from now on
    asked = f.wait_kind("permission_asked", "p", timeout=120)
    page = wait_until(lambda: next((m for m in receiver.messages() if "asks to use" in m),
                                   None), timeout=30, what="the page for the request")
    print(f"request to page: {time.time() - asked.time:.2f} s")
    assert page.startswith("p-1 asks to use Bash(git add")
    assert "Act: swarmtui allow 'p#1'" in page
    assert view.base_url in page  # the page links to the web view

    browser.call("viewport", width=PHONE[0], height=PHONE[1])
    browser.call("goto", url=view.access_url)
    browser.call("wait", timeout=30, expr="document.querySelector('#task-p .ask') !== null")
    shown = browser.call("eval", expr="document.querySelector('#task-p .ask').textContent")
    assert "asks to use Bash(git add" in shown and "git commit" in shown
    shots = Path(os.environ.get("SWARMTUI_SCREENSHOT_DIR") or tmp_path)
    browser.call("screenshot", path=str(shots / "web-phone-ask.png"))
    browser.call("click", selector="#task-p .ask button")  # "allow"
    answered = f.wait_kind("permission_answered", "p", timeout=30)
    assert answered.data["decision"] == "allow" and answered.data["by"] == "web"
    assert f.wait_done(timeout=180), f.summary()
    assert len(f.of("attempt_spawned", "p")) == 1
