"""`swarmtui serve` in a real headless Chromium against a real supervisor run: the fleet
renders (agent text as text), rows update live, nothing is served without the token, the token
leaves the address and no log, and actions are refused unless the view allows them."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.notify.push import web_link
from swarmtui.web.server import WebView
from tests.browser import Browser, missing
from tests.fleet import Fleet, fake, fast_config, start, task

HOSTILE_TITLE = '<img src=x onerror="document.title=1">'
PHONE = (390, 844)
DESKTOP = (1280, 800)


def _gate_agent(fifo: Path) -> list[str]:
    """An agent that waits until the test writes to ``fifo``, then succeeds like the fake."""
    script = (f"import os, sys\nopen({str(fifo)!r}).read()\n"
              f"os.execv(sys.executable, {fake('success')!r})\n")
    return [sys.executable, "-c", script]


@pytest.fixture
def browser() -> Iterator[Browser]:
    why = missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def serving() -> Iterator[list[WebView]]:
    views: list[WebView] = []
    yield views
    for v in views:
        v.shutdown()


def serve(views: list[WebView], repo: Path, allow_actions: bool = False) -> WebView:
    v = WebView(repo, max_agents=4, port=0, allow_actions=allow_actions)
    v.publish()
    threading.Thread(target=v.serve_forever, daemon=True).start()
    views.append(v)
    return v


def _fleet(git_repo: Path, fleets: list[Fleet], tmp_path: Path) -> tuple[Fleet, Path]:
    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    # The gated agent prints no progress while it waits: a long interval keeps the watchdog
    # from ending it as stuck before the test opens the gate.
    cfg = fast_config({"gate": _gate_agent(fifo), "ok": fake("success")},
                      heartbeat={"progress_interval": "60s"})
    f = start(fleets, git_repo, cfg, [task("gated", "gate"),
                                      task("shown", "ok", title=HOSTILE_TITLE)],
              exit_when_done=False)
    f.wait_kind("attempt_started", task="gated")
    return f, fifo


def test_fleet_renders_updates_live_and_needs_the_token(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path, browser: Browser,
        serving: list[WebView], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="swarmtui.web")
    _, fifo = _fleet(git_repo, fleets, tmp_path)
    v = serve(serving, git_repo)
    # Pushes link to the running view: its address, never the token.
    assert web_link(git_repo) == v.base_url
    assert v.access.token not in (git_repo / P.SWARM_DIR / "web.json").read_text()

    # Without the token: the page, its script and its data are refused.
    for path in ("", "app.js", "api/fleet", f"?token={'x' * len(v.access.token)}"):
        assert browser.call("goto", url=v.base_url + path)["status"] == 403, path

    # With it: a session cookie, and the token gone from the address.
    landed = browser.call("goto", url=v.access_url)
    assert landed == {"status": 200, "url": v.base_url}
    cookie, = browser.call("cookies")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] != v.access.token

    browser.call("wait", expr="document.querySelector('#task-gated')?.dataset.state === "
                 "'running'")
    browser.call("wait", expr="document.querySelector('#task-shown') !== null")
    # Agent-written text is text: the hostile title is shown, not parsed.
    assert browser.call("eval", expr="document.querySelectorAll('img').length") == 0
    assert browser.call("eval", expr="document.querySelector('#task-shown .title')"
                        ".textContent") == HOSTILE_TITLE
    browser.call("eval", expr="window.sameDocument = true")

    fifo.write_text("go\n")  # the gated agent finishes; its row changes without a reload
    browser.call("wait", timeout=60, expr="['passed', 'merged'].includes("
                 "document.querySelector('#task-gated').dataset.state)")
    assert browser.call("eval", expr="window.sameDocument") is True
    assert browser.call("eval", expr="document.title") == "swarmtui"

    # Phone-sized: one card per task (no table header), nothing wider than the screen.
    shots = Path(os.environ.get("SWARMTUI_SCREENSHOT_DIR") or tmp_path)
    for name, (w, h), header in (("web-phone", PHONE, "none"),
                                 ("web-desktop", DESKTOP, "table-header-group")):
        browser.call("viewport", width=w, height=h)
        assert browser.call("eval", expr="document.documentElement.scrollWidth") <= w
        assert browser.call("eval", expr="getComputedStyle(document.querySelector('thead'))"
                            ".display") == header
        browser.call("screenshot", path=str(shots / f"{name}.png"))
    # Requests were logged, the token never.
    assert any("GET /api/fleet 200" in r.getMessage() for r in caplog.records)
    assert all(v.access.token not in r.getMessage() for r in caplog.records)


def test_actions_are_refused_unless_allowed(
        git_repo: Path, fleets: list[Fleet], tmp_path: Path, browser: Browser,
        serving: list[WebView]) -> None:
    f, fifo = _fleet(git_repo, fleets, tmp_path)
    post = ("fetch('/api/action', {method: 'POST', headers: {'Content-Type': "
            "'application/json', 'X-Swarmtui-Action': '1'}, body: JSON.stringify({kind: "
            "'pause', args: {}})}).then(async r => [r.status, await r.text()])")

    ro = serve(serving, git_repo)
    browser.call("goto", url=ro.access_url)
    browser.call("wait", expr="document.querySelector('#task-gated') !== null")
    assert browser.call("eval", expr="document.querySelectorAll('button').length") == 0
    status, reason = browser.call("eval", expr=post)
    assert status == 403 and "--allow-actions" in reason
    assert f.store.commands() == []  # nothing reached the inbox

    rw = serve(serving, git_repo, allow_actions=True)
    browser.call("goto", url=rw.access_url)
    # A POST without the page's header (what a cross-site form sends) is refused too.
    plain = post.replace("'X-Swarmtui-Action': '1'", "'X-Other': '1'")
    assert browser.call("eval", expr=plain)[0] == 403
    assert not f.of("dispatch_paused")
    browser.call("click", selector="#runactions button")  # "pause"
    f.wait_kind("dispatch_paused")
    browser.call("wait", expr="document.querySelector('#status').textContent.startsWith("
                 "'pause: done')")
    fifo.write_text("go\n")


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_command_warns_off_loopback_and_logs_no_token(
        git_repo: Path, fleets: list[Fleet], swarmtui_cmd: list[str]) -> None:
    import re
    import signal
    import subprocess
    import urllib.error
    import urllib.request

    f = start(fleets, git_repo, fast_config({"ok": fake("success")}), [task("one", "ok")])
    f.wait_done()
    proc = subprocess.Popen([*swarmtui_cmd, "serve", "--repo", str(git_repo), "--host",
                             "0.0.0.0", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                            # ctrl-c as at a terminal, however this suite was started (a
                            # shell's background job inherits SIGINT ignored: no
                            # KeyboardInterrupt then, and serve rightly keeps serving)
                            preexec_fn=_default_sigint)
    try:
        assert proc.stdout is not None
        printed = proc.stdout.readline() + proc.stdout.readline()
        m = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=([\w-]+)", printed)
        assert m, printed
        port, token = m.groups()
        base = f"http://127.0.0.1:{port}/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "api/fleet", timeout=10)
        assert refused.value.code == 403
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(f"{base}?token={token}", timeout=10) as r:
            assert r.status == 200 and r.url == base
        with opener.open(base + "api/fleet", timeout=10) as r:
            assert b'"id": "one"' in r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # the fault handler prints every thread's stack
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()  # not left behind
                _, err = proc.communicate()
            raise AssertionError("swarmtui serve did not exit within 30 s of SIGINT; its "
                                 f"stderr:\n{err}") from None
    assert proc.returncode == 0, err
    assert "WARNING: serving on 0.0.0.0, not 127.0.0.1" in err
    assert "GET /api/fleet 403" in err and "GET /api/fleet 200" in err
    assert token not in err
    assert not (git_repo / P.SWARM_DIR / "web.json").exists()
