"""What an agent's window shows of its output: real wrappers in real tmux panes of a server on
swarmtui's own tmux.conf, watched (or not) by a client attached from a second tmux server that
plays the person's terminal. ``output.log`` must keep every line whatever the pane shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmtui.engine.adapters import adapter_for
from swarmtui.engine.runtime.tmux import tmux_conf_path
from swarmtui.engine.wrapper.launch import LaunchSpec
from swarmtui.engine.wrapper.paneview import last_lines, note
from swarmtui.protocol import AGENT_PGID_FILE, OUTPUT_LOG, PROMPT_FILE
from tests.waiting import wait_until

SECRET = "pane-view-secret-0a9f3c"

# Prints LINES lines in one burst once ``go`` exists, then TAIL lines one by one as ``more``
# files appear; ends when ``stop`` exists.
AGENT = """
import os, sys, time
here = sys.argv[1]
def wait(name):
    while not os.path.exists(os.path.join(here, name)):
        time.sleep(0.02)
wait("go")
n = int(sys.argv[2])
os.write(1, "".join(f"flood line {i}\\n" for i in range(n - 1)).encode())
os.write(1, f"flood line {n - 1} key={os.environ['MY_API_KEY']}\\n".encode())
k = 0
while not os.path.exists(os.path.join(here, "stop")):
    if os.path.exists(os.path.join(here, f"more{k}")):
        os.write(1, f"later line {k}\\n".encode())
        k += 1
    time.sleep(0.02)
"""


class Panes:
    """swarmtui's tmux server with one agent's wrapper in window 1, and a person's terminal
    (another tmux server) that can attach to it."""

    def __init__(self, tmp: Path, inner: str, lines: int) -> None:
        self.tmp, self.inner, self.lines = tmp, inner, lines
        self.outer = f"/tmp/swv-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        self.agent_dir = tmp / "agent"
        self.agent_dir.mkdir()
        (tmp / "work").mkdir()
        (tmp / "agent.py").write_text(textwrap.dedent(AGENT))
        (self.agent_dir / PROMPT_FILE).write_text("go\n")
        (tmp / "hb").touch()
        LaunchSpec(argv=[sys.executable, str(tmp / "agent.py"), str(tmp), str(lines)],
                   cwd=str(tmp / "work"), env={"MY_API_KEY": SECRET}, prompt_via="file",
                   prompt_file=str(self.agent_dir / PROMPT_FILE),
                   heartbeat_file=str(tmp / "hb"), orphan_timeout=600, kill_grace=2,
                   log_max_bytes=1 << 24, adapter="generic").write(self.agent_dir)
        self.tmux("-f", str(tmux_conf_path()), "new-session", "-d", "-s", "t", "-x", "80",
                  "-y", "24", "sleep 600")
        wrap = shlex.join([sys.executable, "-m", "swarmtui", "wrap", str(self.agent_dir)])
        self.tmux("new-window", "-d", "-t", "t:1", wrap)
        wait_until(lambda: (self.agent_dir / AGENT_PGID_FILE).exists(), 60, "the agent runs")

    def tmux(self, *args: str, sock: str = "") -> str:
        return subprocess.run(["tmux", "-S", sock or self.inner, *args], capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def screen(self, history: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "t:1",
                         *(("-S", "-") if history else ()))

    def showing(self, text: str) -> str | None:
        """The pane's screen once it shows ``text``."""
        screen = self.screen()
        return screen if text in screen else None

    def log_lines(self) -> int:
        log = self.agent_dir / OUTPUT_LOG
        return log.read_bytes().count(b"\n") if log.exists() else 0

    def watch(self) -> None:
        """A person attaches (at 80x24) and looks at the agent's window."""
        attach = f"env -u TMUX tmux -S {shlex.quote(self.inner)} attach -t t"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", attach,
                  sock=self.outer)
        wait_until(lambda: self.tmux("list-clients").strip(), 30, "the client attached")
        self.tmux("select-window", "-t", "t:1")

    def touch(self, name: str) -> None:
        (self.tmp / name).touch()

    def close(self) -> None:
        self.touch("stop")
        subprocess.run(["tmux", "-S", self.outer, "kill-server"], capture_output=True)
        if os.path.exists(self.outer):
            os.unlink(self.outer)


@pytest.fixture
def panes(tmp_path: Path, tmux_socket: str) -> Iterator[Panes]:
    p = Panes(tmp_path, tmux_socket, 3000)
    yield p
    p.close()


def flood_lines(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"flood line (\d+)", text)]


def test_an_unwatched_pane_gets_nothing_and_shows_its_tail_when_looked_at(panes: Panes) -> None:
    panes.touch("go")
    wait_until(lambda: panes.log_lines() >= 3000, 60, "output.log has every line")
    log = (panes.agent_dir / OUTPUT_LOG).read_text()
    assert flood_lines(log) == list(range(3000))
    assert SECRET not in log and "[redacted]" in log
    # Nobody attached: the pane was never painted (its history included).
    assert flood_lines(panes.screen(history=True)) == []

    panes.watch()
    screen = wait_until(lambda: panes.showing("flood line 2999"), 30,
                        "the tail painted once someone looks", seen=panes.screen)
    shown = flood_lines(screen)
    assert shown == list(range(3000 - len(shown), 3000)) and 10 <= len(shown) <= 23
    assert f"[swarmtui: {3000 - len(shown):,} lines not shown here; output.log has" in screen
    assert SECRET not in screen and "[redacted]" in screen

    # Watched, a new line shows up by itself.
    panes.touch("more0")
    wait_until(lambda: "later line 0" in panes.screen(), 30, "a watched pane stays live")


def test_a_watched_pane_shows_a_flood_as_its_last_screen(panes: Panes) -> None:
    panes.watch()
    panes.touch("go")
    wait_until(lambda: panes.log_lines() >= 3000, 60, "output.log has every line")
    screen = wait_until(lambda: panes.showing("flood line 2999"), 30,
                        "the flood's last line painted", seen=panes.screen)
    history = panes.screen(history=True)
    painted = flood_lines(history)
    # The pane was painted a screen at a time: far fewer lines than the agent printed, each
    # skip announced, and what it shows in order.
    assert 0 < len(painted) < 1000
    assert painted == sorted(painted) and painted[-1] == 2999
    assert "lines not shown here; output.log has every line]" in history
    assert SECRET not in history
    assert flood_lines((panes.agent_dir / OUTPUT_LOG).read_text()) == list(range(3000))
    assert "flood line 2999 key=[redacted]" in screen


def test_last_lines_keeps_whole_lines_within_the_cap() -> None:
    tail = b"".join(b"line %d\n" % i for i in range(100))
    assert last_lines(tail, 3, 10_000) == b"line 97\nline 98\nline 99\n"
    assert last_lines(tail + b"open", 2, 10_000) == b"line 99\nopen"
    assert last_lines(b"short\n", 5, 10_000) == b"short\n"
    # A cap inside the lines starts at the next line's start.
    assert last_lines(tail, 50, 20) == b"line 98\nline 99\n"
    # One line longer than the cap: its end, cut.
    assert last_lines(b"x" * 100 + b"\n", 3, 10) == b"x" * 9 + b"\n"
    assert note(1).endswith(b"1 line not shown here; output.log has every line]\n")
    assert b"1,234 lines" in note(1234)


@pytest.mark.parametrize("name", ["claude", "codex", "gemini", "qwen", "opencode", "generic"])
def test_adapters_that_read_only_json_lines_learn_nothing_from_others(name: str) -> None:
    """The wrapper hands an adapter only the lines its ``lines`` names; what it skips must be
    lines the adapter would have ignored anyway."""
    ad = adapter_for(name, {})
    assert ad.lines in ("json", "none")
    before = ad.usage()
    for line in ("plain text", " {\"type\": \"result\"}", "[{\"type\": \"system\"}]",
                 "Error: 429 rate limit exceeded", "Claude AI usage limit reached|1700000000",
                 "API Error: 401 invalid x-api-key", "\x1b[31m{\"type\":\"error\"}"):
        assert ad.observe(line) == []
    assert ad.usage() == before
    assert adapter_for("aider", {}).lines == "all"
