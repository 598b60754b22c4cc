"""The pane's console in a real terminal: tests/console_driver.py runs in a pane of a private
tmux server; keys go in with ``send-keys``, the screen comes back with ``capture-pane`` and the
terminal's state with tmux's formats (scroll region, cursor) and ``stty -a``. The parts that
need no terminal (keys, the input line, the bounded writer) are tested directly."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from swarmtui.engine.wrapper.console import Console
from swarmtui.engine.wrapper.paneio import (
    BoundedWriter,
    LineEditor,
    char_width,
    fit,
    parse_keys,
)
from swarmtui.engine.wrapper.transcript import Shown, ShownKind
from tests.console_driver import ASKING, IDLE
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = ROOT / "tests" / "data" / "claude" / "success.jsonl"


class Pane:
    """One pane of a private tmux server, running the driver under ``sh``; after the driver
    ends, ``sh`` says how, prints ``stty -a`` (also to a file) and waits."""

    def __init__(self, socket: str, tmp: Path, cols: int, rows: int) -> None:
        self.base = ["tmux", "-S", socket, "-f", "/dev/null"]
        self.notes, self.stty = tmp / "notes.txt", tmp / "stty.txt"
        self.tmux("new-session", "-d", "-s", "pane", "-x", str(cols), "-y", str(rows),
                  "sleep 600")
        self.tmux("set", "-g", "status", "off")
        wait_until(lambda: self.fmt("#{pane_width}x#{pane_height}") == f"{cols}x{rows}", 10)
        driver = " ".join(shlex.quote(a) for a in (
            sys.executable, str(ROOT / "tests" / "console_driver.py"), str(self.notes),
            str(TRANSCRIPT)))
        script = (f"{driver}; echo driver exited $?; stty -a | tee {shlex.quote(str(self.stty))}"
                  "; exec sleep 600")
        self.tmux("respawn-pane", "-k", "-t", "pane", "-c", str(ROOT),
                  f"sh -c {shlex.quote(script)}")
        self.wait_notes("ready")

    def tmux(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True,
                              timeout=30).stdout

    def fmt(self, f: str) -> str:
        return self.tmux("display", "-p", "-t", "pane", f).strip()

    def rows(self) -> list[str]:
        """The screen, one string per row (trailing blanks dropped by tmux)."""
        return self.tmux("capture-pane", "-p", "-t", "pane").split("\n")[:self.height()]

    def height(self) -> int:
        return int(self.fmt("#{pane_height}"))

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "pane", *(["-l"] if literal else []), *keys)

    def type(self, text: str) -> None:
        self.keys(text, literal=True)
        self.keys("Enter")

    def notes_text(self) -> str:
        return self.notes.read_text(encoding="utf-8") if self.notes.exists() else ""

    def wait_notes(self, line: str) -> None:
        wait_until(lambda: line in self.notes_text().splitlines(), 20, f"the note {line!r}",
                   seen=self.notes_text)

    def wait_screen(self, what: str, cond: Callable[[list[str]], bool]) -> list[str]:
        seen: list[list[str]] = [[]]

        def check() -> list[str] | None:
            seen[0] = self.rows()
            return seen[0] if cond(seen[0]) else None

        return wait_until(check, 20, what, seen=lambda: "\n".join(seen[0]))

    def layout_ok(self, rows: list[str], hint: str) -> bool:
        """The hint and an empty input line on the last two rows, the region above them, the
        cursor on the input line."""
        n = len(rows)
        return (n == self.height() and rows[-1].rstrip() == "›" and rows[-2] == hint
                and self.fmt("#{scroll_region_upper} #{scroll_region_lower} #{cursor_y} "
                             "#{cursor_x}") == f"0 {n - 3} {n - 1} 2")

    def sane_after_exit(self, code: int) -> str:
        """The terminal as the shell finds it once the driver has ended with ``code``."""
        wait_until(lambda: self.stty.exists() and "icanon" in self.stty.read_text(), 20,
                   "stty -a after the driver", seen=lambda: "\n".join(self.rows()))
        screen = self.tmux("capture-pane", "-p", "-J", "-t", "pane", "-S", "-")
        assert f"driver exited {code}" in screen
        modes = self.stty.read_text().split()
        assert "icanon" in modes and "echo" in modes and "isig" in modes and "icrnl" in modes
        assert self.fmt("#{scroll_region_upper} #{scroll_region_lower} #{cursor_flag}") == \
            f"0 {self.height() - 1} 1"
        return screen


@pytest.fixture
def pane(tmux_socket: str, tmp_path: Path, request: pytest.FixtureRequest) -> Pane:
    """The driver in a pane of ``request.param`` (columns, rows), 80x24 unless given; the
    server goes with the test's tmux socket."""
    cols, rows = getattr(request, "param", (80, 24))
    return Pane(tmux_socket, tmp_path, cols, rows)


@pytest.mark.e2e
@pytest.mark.parametrize("pane", [(80, 24), (160, 48)], indirect=True, ids=["80x24", "160x48"])
def test_the_transcript_scrolls_above_a_hint_and_an_input_line(pane: Pane) -> None:
    rows = pane.wait_screen("the layout", lambda r: pane.layout_ok(r, ASKING))
    above = rows[:-2]
    assert above[-2:] == ["⚠ Bash: touch x — make",
                          "  y allow once · a allow for this session · n deny"]
    assert "● Bash: git add -A && git commit -q -m 'Add hello.txt'" in above
    assert "done · 5 turns · session cost $0.0310" in above
    print("\n".join(rows))  # for the record of what the pane looks like (pytest -s)


@pytest.mark.e2e
def test_keys_reach_on_key_and_typed_lines_reach_on_submit(pane: Pane) -> None:
    pane.keys("y")  # an empty line: the key is offered first, and the driver takes it
    pane.wait_notes("key:y")
    rows = pane.wait_screen("the answer", lambda r: pane.layout_ok(r, IDLE))
    assert rows[-3] == "Bash: allowed once (by operator)"
    pane.type("yes, and wörld 日本")  # the driver no longer takes y: it is typed
    pane.wait_notes("submit:yes, and wörld 日本")
    pane.wait_screen("the message above", lambda r: r[-3] == "› yes, and wörld 日本"
                     and pane.layout_ok(r, IDLE))
    pane.keys("abc", literal=True)
    pane.wait_screen("typing", lambda r: r[-1] == "› abc")
    pane.keys("C-c")  # clears the line; the driver lives on
    pane.keys("one two", literal=True)
    pane.keys("C-w")
    pane.keys("three", literal=True)
    pane.keys("BSpace", "BSpace", "Left", "Left")
    pane.keys("X", literal=True)
    pane.keys("Enter")
    pane.wait_notes("submit:one tXhr")
    pane.keys("Enter")  # an empty line is not submitted
    pane.type("/flood")
    pane.wait_notes("done:/flood")
    rows = pane.wait_screen("the flood", lambda r: r[-3] == "flood line 199"
                            and pane.layout_ok(r, IDLE))
    assert [n for n in pane.notes_text().splitlines() if n.startswith("submit:")] == [
        "submit:yes, and wörld 日本", "submit:one tXhr", "submit:/flood"]


@pytest.mark.e2e
def test_plain_output_keeps_its_partial_lines_and_loses_its_escapes(pane: Pane) -> None:
    pane.type("/raw")
    pane.wait_notes("done:/raw")
    rows = pane.wait_screen("the raw output", lambda r: pane.layout_ok(r, ASKING)
                            and r[-3] == "after the raw output")
    assert rows[-6:-3] == ["progress 100%", "title 日", "partial"]
    assert pane.fmt("#{pane_title}") != "pwned"


@pytest.mark.e2e
def test_a_resize_keeps_the_input_line_at_the_bottom(pane: Pane) -> None:
    pane.wait_screen("the layout", lambda r: pane.layout_ok(r, ASKING))
    pane.keys("draft", literal=True)
    for cols, rows in ((160, 48), (60, 12), (100, 30)):
        pane.tmux("resize-window", "-t", "pane", "-x", str(cols), "-y", str(rows))
        shown = pane.wait_screen(f"the layout at {cols}x{rows}", lambda r, n=rows: len(r) == n
                                 and r[-1] == "› draft" and r[-2] == ASKING
                                 and pane.fmt("#{scroll_region_lower} #{cursor_y}")
                                 == f"{n - 3} {n - 1}")
        assert shown[-4:-2] == ["⚠ Bash: touch x — make",
                                "  y allow once · a allow for this session · n deny"]
    pane.keys("Enter")
    pane.wait_notes("submit:draft")


@pytest.mark.e2e
def test_close_gives_the_terminal_back(pane: Pane) -> None:
    pane.type("/close")
    pane.wait_notes("submit:/close")
    wait_until(lambda: "closed stty:" in pane.notes_text(), 20)
    modes = pane.notes_text().split("closed stty:")[1].split()
    assert "icanon" in modes and "echo" in modes  # close alone restored them
    screen = pane.sane_after_exit(0)
    assert "done · 5 turns · session cost $0.0310" in screen  # the transcript stays
    assert ASKING not in screen  # the hint and input rows are cleared


@pytest.mark.e2e
@pytest.mark.parametrize(("command", "code"), [("/boom", 1), ("/exit", 3)])
def test_a_driver_that_dies_leaves_a_sane_terminal(pane: Pane, command: str, code: int) -> None:
    pane.type(command)
    screen = pane.sane_after_exit(code)
    if command == "/boom":
        assert "RuntimeError: the driver fails on purpose" in screen


def test_keys_are_parsed_from_what_a_terminal_sends() -> None:
    assert parse_keys("ab\x1b[D\x1b[C\x1bOH\x1b[3~\x1b[24~\x1b[1;5Dé\r") == [
        "a", "b", "left", "right", "home", "delete", "é", "\r"]
    assert parse_keys("\x1b") == []
    assert parse_keys("\x1b\x1b[A") == []


def test_the_line_editor() -> None:
    e = LineEditor()
    for k in "hello world":
        e.edit(k)
    e.edit("\x17")
    assert e.text == "hello "
    for k in ["left", "left", "\x7f", "home", "X", "end", "\x07", "\x1b", "Z"]:
        e.edit(k)
    assert e.text == "Xhelo Z"
    assert e.edit("\r") == "Xhelo Z" and e.text == ""
    assert e.edit("\r") is None
    e.edit(" ")
    assert e.edit("\n") is None  # blank lines are not submitted
    for k in "abc":
        e.edit(k)
    e.edit("\x03")
    assert e.text == ""


def test_the_input_line_scrolls_to_keep_the_cursor_in_view() -> None:
    e = LineEditor()
    for k in "日本語" * 20:
        e.edit(k)
    shown, col = e.view(20)
    assert sum(char_width(c) for c in shown) <= 20 and col <= 19
    assert shown.endswith("語") or col == sum(char_width(c) for c in shown)
    e.edit("home")
    shown, col = e.view(20)
    assert col == 0 and shown.startswith("日本語")
    assert fit("ab日本", 3) == "ab" and char_width("\u0301") == 0


def test_output_never_waits_for_a_pane_nobody_reads() -> None:
    r, w = os.pipe()
    try:
        console = Console(w, None, on_submit=lambda _: None, on_key=lambda _: False)
        console.start()
        t0 = time.monotonic()
        for i in range(3000):
            console.show([Shown(ShownKind.ASSISTANT, f"line {i} " + "x" * 200)])
        assert time.monotonic() - t0 < 5  # the pipe holds 64 KiB; the rest is dropped
        t0 = time.monotonic()
        console.close()
        assert time.monotonic() - t0 < 3
        os.set_blocking(r, False)
        got = b""
        while True:
            try:
                chunk = os.read(r, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            got += chunk
        assert got.startswith(b"line 0 ") and b"\x1b" not in got  # plain lines, not a tty
    finally:
        os.close(r)
        os.close(w)


def test_a_terminal_nobody_reads_stalls_nothing_and_gets_its_modes_back() -> None:
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        console = Console(slave, slave, on_submit=lambda _: None, on_key=lambda _: False)
        console.start()
        raw = termios.tcgetattr(slave)
        assert not raw[3] & (termios.ICANON | termios.ECHO | termios.ISIG)
        t0 = time.monotonic()
        for i in range(3000):
            console.show([Shown(ShownKind.TOOL_RESULT, f"  ⎿ line {i} " + "x" * 200)])
            console.set_hint(f"hint {i}")
        assert time.monotonic() - t0 < 5  # the pty's buffer filled long ago
        t0 = time.monotonic()
        console.close()
        assert time.monotonic() - t0 < 3
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_plain_output_when_not_a_terminal() -> None:
    r, w = os.pipe()
    try:
        console = Console(w, None, on_submit=lambda _: None, on_key=lambda _: False)
        console.start()
        console.set_hint("not shown: there is no input line")
        for piece in (b"a \x1b[3", b"1mred\x1b[0m \xe6\x97", b"\xa5\r\n"):
            console.raw(piece)
        console.show([Shown(ShownKind.ERROR, "x\x1b[2Jy\nz")])
        console.close()
        assert os.read(r, 1000) == "a red 日\r\nxy\nz\n".encode()
    finally:
        os.close(r)
        os.close(w)


def test_the_writer_counts_what_it_drops() -> None:
    r, w = os.pipe()
    try:
        writer = BoundedWriter(w, 1000)
        writer.put(b"x" * (1 << 17))  # over the cap as one piece: dropped
        assert writer.take_dropped() == 1 << 17
        writer.put(b"y" * 500)
        assert os.read(r, 500) == b"y" * 500
        writer.close(1)
    finally:
        os.close(r)
        os.close(w)
