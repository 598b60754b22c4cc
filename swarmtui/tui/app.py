"""The swarmtui app: window 0 of the run's tmux session, and ``swarmtui watch``.

The app reads the run like any other client (a ``RunClient`` on the store, followed by the
feed thread) and acts through the command inbox, the same path as the CLI. Nothing blocking
runs on the event loop: the store, files, git and tmux are all used from thread workers, whose
results come back as messages. The app runs no git and no tmux itself: it asks the client
(``client.py``: the store, git) and the run's windows (``windows.py``: tmux).
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import Notifications, Notify, SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets._toast import ToastRack
from textual.worker import get_current_worker

from swarmtui import protocol as P
from swarmtui.client import RunClient
from swarmtui.config import Config
from swarmtui.errors import SwarmError
from swarmtui.textsafe import term_safe
from swarmtui.tui.bindings import PALETTE, check_keymap
from swarmtui.tui.feed import Feed, FeedFailed, FeedUpdate
from swarmtui.tui.fleet import FleetScreen, WatchScreen
from swarmtui.tui.palette import SwarmCommands
from swarmtui.tui.themes import (
    DEFAULT_THEME,
    load_themes,
    packaged_theme_dir,
    user_theme_dir,
    with_swarm_variables,
)
from swarmtui.tui.view import COLUMN_KEYS
from swarmtui.windows import RunWindows, WindowError

ANSWER_TIMEOUT = 60.0  # how long an action waits for the supervisor's answer
COMPACT = (100, 30)  # below this many columns or rows toasts are one line, one at a time
TOASTS = 3  # toasts on screen at once on a larger screen
JUMP_WAIT = 5.0  # how long enter waits for a just-spawned agent's window to open


class Answered(Message):
    """The supervisor's answer to a command the app sent (or why it could not be sent)."""

    def __init__(self, token: int, label: str, ok: bool, text: str) -> None:
        super().__init__()
        self.token, self.label, self.ok, self.text = token, label, ok, text


class TipRead(Message):
    """The target branch's current commit, read through the client in a worker."""

    def __init__(self, target: str, tip: str) -> None:
        super().__init__()
        self.target, self.tip = target, tip


class SwarmApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "swarmtui"
    COMMANDS = App.COMMANDS | {SwarmCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(PALETTE.key, PALETTE.action, PALETTE.label, show=False, priority=True,
                id=PALETTE.id, tooltip=PALETTE.description),
        # Quitting window 0 would stop the supervisor: ctrl+q does what q does instead.
        Binding("ctrl+q", "quit_key", "Quit", show=False, priority=True, system=True),
    ]

    def __init__(self, repo: Path, config: Config, *, read_only: bool, windows: RunWindows,
                 supervisor_alive: Callable[[], bool] | None = None, theme: str | None = None,
                 client: RunClient | None = None, clock: Callable[[], float] = time.time,
                 theme_dirs: list[Path] | None = None, poll: float = 0.15) -> None:
        super().__init__()
        # No animations: over SSH and tmux they cost frames and show nothing useful.
        self.animation_level = "none"
        self.repo = Path(repo)
        self.config = config
        self.read_only = read_only
        self.windows = windows
        self.supervisor_alive = supervisor_alive
        self.clock = clock
        self.client: RunClient | None = client
        self.feed = Feed(self.repo, config, clock=clock, read_only=read_only, client=client,
                         poll=poll)
        self._feed_stop = threading.Event()
        self.bells = 0  # rung so far (tests read it; a headless app has no terminal to ring)
        self.startup_errors: list[str] = []
        self._held_toasts: list[tuple[str, str, SeverityLevel, float | None]] = []
        self.theme_names: list[str] = []
        self._setup_themes(theme, theme_dirs)
        self.keymap, keymap_errors = check_keymap(dict(config.ui.keymap))
        self.startup_errors += keymap_errors
        self.columns_off, column_errors = columns_off(config.ui.columns)
        self.startup_errors += column_errors
        self.set_keymap(self.keymap)
        self.fleet = WatchScreen() if read_only else FleetScreen()

    # -- set-up ----------------------------------------------------------------------------------

    def _setup_themes(self, wanted: str | None, dirs: list[Path] | None) -> None:
        for t in list(self.available_themes.values()):
            self.register_theme(with_swarm_variables(t))
        themes = load_themes(dirs if dirs is not None else [packaged_theme_dir(),
                                                            user_theme_dir()])
        for t in themes.themes.values():
            self.register_theme(with_swarm_variables(t))
        self.theme_names = sorted(themes.themes)
        self.startup_errors += themes.errors
        name = wanted or self.config.ui.theme or DEFAULT_THEME
        if name not in self.available_themes:
            known = ", ".join(self.theme_names) or "none"
            self.startup_errors.append(f"theme {name!r} not found (swarmtui themes: {known}; "
                                       f"add your own in {user_theme_dir()})")
            name = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = name

    def get_default_screen(self) -> Screen[Any]:
        return self.fleet

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own screenshot command saves to a downloads folder; ours (in the palette's
        # swarmtui entries) saves next to the run.
        for cmd in super().get_system_commands(screen):
            if cmd.title != "Screenshot":
                yield cmd

    def get_key_display_text(self, key: str) -> str:
        return self.get_key_display(Binding(key, ""))

    def on_mount(self) -> None:
        # Feed, log tail, loaders and waiting actions each hold a thread: more than the default
        # executor's handful on a small machine.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=16, thread_name_prefix="swarmtui"))
        for err in self.startup_errors:
            self.notify(err, severity="error", timeout=20)
        if self.supervisor_alive is not None:
            self.set_interval(0.5, self._check_supervisor)
        self.size_classes()

    def size_classes(self) -> None:
        """Classes by the terminal's size (the fleet screen calls this when it is resized;
        the app's own resize event stops in Textual)."""
        self.set_class(self.compact, "-compact")

    @property
    def compact(self) -> bool:
        """A small terminal (80x24, say): one-line toasts, one at a time."""
        w, h = self.size
        return w < COMPACT[0] or h < COMPACT[1]

    # -- toasts ----------------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """A toast: terminal-safe, never markup (agent text may hold brackets), and on a small
        screen one line with its title in front."""
        message = term_safe(message)
        if isinstance(self.screen, ModalScreen):
            # A toast never covers a dialog or a form: it waits until the fleet is on top.
            self._held_toasts.append((message, title, severity, timeout))
            return
        self.size_classes()
        if self.compact:
            message = " ".join(f"{title}: {message}".split()) if title else " ".join(
                message.split())
            title = ""
        super().notify(message, title=term_safe(title), severity=severity, timeout=timeout,
                       markup=False)

    def release_toasts(self) -> None:
        """Show the toasts that waited while a dialog was open (the newest; a count of the
        rest). Called when the fleet screen is on top again."""
        held, self._held_toasts = self._held_toasts, []
        most = 1 if self.compact else TOASTS
        if len(held) > most:
            self.notify(f"{len(held) - most} more while the dialog was open "
                        "(the alerts list has every alert)", severity="information")
        for message, title, severity, timeout in held[-most:]:
            self.notify(message, title=title, severity=severity, timeout=timeout)

    def _on_notify(self, event: Notify) -> None:
        super()._on_notify(event)
        most = 1 if self.compact else TOASTS
        shown = list(self._notifications)
        for old in shown[: max(0, len(shown) - most)]:
            self._unnotify(old, refresh=False)
        self._refresh_notifications()

    def _refresh_notifications(self) -> None:
        """Toasts show on the top screen only, and never on a dialog: a screen under a dialog
        shows through it, and its toasts would lie over the dialog."""
        super()._refresh_notifications()
        if not self.screen_stack:
            return  # shutting down: no screen to show them on
        modal = isinstance(self.screen, ModalScreen)
        for screen in self.screen_stack[:-1] if not modal else self.screen_stack:
            for rack in screen.query(ToastRack):
                self.call_later(rack.show, Notifications())

    def on_unmount(self) -> None:
        self._feed_stop.set()
        self.feed.wake.set()

    # -- the feed ----------------------------------------------------------------------------------

    def start_feed(self) -> None:
        """Called by the fleet screen once its widgets exist to show what the feed sends."""
        self._follow()

    @work(thread=True, group="feed", exit_on_error=False)
    def _follow(self) -> None:
        worker = get_current_worker()
        self.feed.run(self.post_message,
                      lambda: self._feed_stop.is_set() or worker.is_cancelled)

    def on_feed_update(self, msg: FeedUpdate) -> None:
        if self.client is None:
            self.client = self.feed.client
        try:
            self.fleet.apply(msg.update)
        finally:
            self.feed.ready.set()

    def on_feed_failed(self, msg: FeedFailed) -> None:
        self.notify(msg.error, title="cannot read the run", severity="error", timeout=10)

    def _check_supervisor(self) -> None:
        """Window 0 ends with its supervisor: 0 when the run ended, 1 when the loop died."""
        if self.supervisor_alive is not None and not self.supervisor_alive():
            ended = self.fleet.header.status in ("stopped", "finished")
            code = 0 if ended else 1
            self.exit(code, return_code=code)

    # -- acting --------------------------------------------------------------------------------

    @work(thread=True, group="submit", exit_on_error=False)
    def submit(self, kind: str, args: dict[str, Any], label: str, token: int,
               timeout: float | None = None) -> None:
        """Send one command through the inbox and report the supervisor's answer."""
        worker = get_current_worker()
        client = self.client or self.feed.client
        wait = timeout or ANSWER_TIMEOUT
        try:
            if client is None:
                client = self.feed.open()
            sent = client.submit(kind, args, source="tui", wait=False)
            deadline = time.monotonic() + wait
            while not worker.is_cancelled:
                cmd = client.store.command(sent.id)
                if cmd is not None and cmd.status != "pending":
                    res = cmd.result or {}
                    text = str(res.get("message") or res.get("error") or res.get("reason")
                               or cmd.status)
                    self.post_message(Answered(token, label, cmd.status == "done", text))
                    break
                if time.monotonic() > deadline:
                    self.post_message(Answered(token, label, False, (
                        f"no answer from the supervisor within {wait:.0f}s "
                        f"(command {sent.id} stays queued)")))
                    break
                time.sleep(0.05)  # the answer is written by the supervisor thread or process
        except SwarmError as e:
            self.post_message(Answered(token, label, False, str(e)))
        self.feed.wake.set()

    def on_answered(self, msg: Answered) -> None:
        self.fleet.answered(msg.token)
        self.notify(msg.text, title=msg.label, severity="information" if msg.ok else "error",
                    timeout=5 if msg.ok else 10)

    @work(thread=True, group="git", exclusive=True, exit_on_error=False)
    def read_tip(self, target: str) -> None:
        """The target branch's commit now (it moves when tasks merge), asked of the client off
        the loop."""
        client = self.client or self.feed.client
        tip = client.target_tip(target) if client is not None else None  # asked again later
        if tip:
            self.post_message(TipRead(target, tip))

    def on_tip_read(self, msg: TipRead) -> None:
        self.fleet.show_tip(msg.tip)

    @work(thread=True, group="report", exclusive=True, exit_on_error=False)
    def load_report(self, width: int, then: Callable[[Any, str], None]) -> None:
        """The run's report from its events (``swarmtui report``), built off the UI's loop."""
        from swarmtui.report import build_report

        try:
            client = self.client or self.feed.open()
            store = client.store
            run = store.current_run()
            events = []
            since = 0
            while batch := store.events(since, run=run, limit=5000):
                events += batch
                since = batch[-1].seq
            report = build_report(events, self.config, now=self.clock(), run=run)
        except (SwarmError, OSError, ValueError) as e:
            self.call_from_thread(then, None, str(e))
            return
        self.call_from_thread(then, report, "")

    @work(thread=True, group="hosts", exclusive=True, exit_on_error=False)
    def load_hosts(self, then: Callable[[dict[str, Any] | None], None]) -> None:
        """The running supervisor's view of its hosts (``.swarm/hosts.json``), or None."""
        from swarmtui.cli.hosts_cmd import supervisor_view

        self.call_from_thread(then, supervisor_view(self.repo))

    @work(thread=True, group="files", exit_on_error=False)
    def read_held(self, qid: str, then: Callable[[str | None], None]) -> None:
        """The whole held text ``qid`` (``.swarm/quarantine/<qid>.txt``), made terminal-safe,
        handed to ``then`` on the UI's loop (None when it cannot be read)."""
        self.call_from_thread(then, held_text(self.repo, qid))

    @work(thread=True, group="tmux", exit_on_error=False)
    def jump(self, window: str) -> None:
        """Show the agent's window in this session (F12 in swarmtui's tmux.conf comes back).
        A window that is still being opened (the attempt was just spawned) is waited for."""
        worker = get_current_worker()
        deadline = time.monotonic() + JUMP_WAIT
        while True:
            err = self.windows.show(window)
            if err is None or worker.is_cancelled:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the supervisor's tmux worker opens the window
        self.call_from_thread(self.notify, f"cannot jump to {window}: {err}",
                              severity="error", timeout=6)

    @work(thread=True, group="tmux", exit_on_error=False)
    def open_window(self, name: str, argv: list[str], cwd: Path) -> None:
        """Open a window of this session running ``argv`` (ssh to a remote agent, a shell in a
        worktree) and show it; F12 comes back as from an agent's window."""
        try:
            self.windows.open(name, argv, cwd)
        except WindowError as e:
            self.call_from_thread(self.notify, f"cannot open {name}: {e}", severity="error",
                                  timeout=8)
            return
        err = self.windows.show(name)
        if err is not None:
            self.call_from_thread(self.notify, f"opened {name}, cannot show it: {err}",
                                  severity="warning", timeout=6)

    @work(thread=True, group="tmux", exit_on_error=False)
    def detach(self) -> None:
        """Detach the tmux client (the one showing this session); agents and app keep running."""
        err = self.windows.detach()
        if err is not None:
            self.call_from_thread(self.notify, f"cannot detach: {err}", severity="warning",
                                  timeout=6)

    def action_quit_key(self) -> None:
        if self.read_only:
            self.exit(0, return_code=0)
        else:
            self.detach()

    def action_save_svg(self) -> None:
        """Save what the screen shows as SVG under .swarm/screenshots (for bug reports, docs)."""
        svg = self.export_screenshot()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"swarmtui-{stamp}-{self.size.width}x{self.size.height}.svg"
        self._write_svg(P.swarm_dir(self.repo) / "screenshots" / name, svg)

    @work(thread=True, group="files", exit_on_error=False)
    def _write_svg(self, path: Path, svg: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(svg, encoding="utf-8")
        except OSError as e:
            self.call_from_thread(self.notify, f"cannot save the screenshot: {e}",
                                  severity="error")
            return
        self.call_from_thread(self.notify, str(path), title="screenshot saved", timeout=8)

    def ring(self) -> None:
        if self.config.ui.bell:
            self.bells += 1
            self.bell()


def columns_off(names: list[str]) -> tuple[set[int], list[str]]:
    """The columns ``[ui] columns`` leaves out (none when it is empty), and a message for each
    name that is not a column."""
    if not names:
        return set(), []
    wanted = {n.strip().lower() for n in names}
    errors = [f"ui.columns: no column {n!r} (columns: {', '.join(COLUMN_KEYS)})"
              for n in sorted(wanted - set(COLUMN_KEYS))]
    return {i for i, key in enumerate(COLUMN_KEYS) if key not in wanted and key != "id"}, errors


HELD_MAX = 256 * 1024  # bytes of a held text read for the approve dialog
_QID = re.compile(r"q-[0-9a-f]{4,64}")


def held_text(repo: Path, qid: str) -> str | None:
    """A held text in full (up to ``HELD_MAX``), terminal-safe; never through a link."""
    if not _QID.fullmatch(qid):
        return None
    path = P.swarm_dir(repo) / "quarantine" / f"{qid}.txt"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        data = f.read(HELD_MAX + 1)
    text = data[:HELD_MAX].decode("utf-8", errors="replace")
    more = "\n[... the rest is longer than the dialog shows; the file has it all]" \
        if len(data) > HELD_MAX else ""
    return term_safe(text, multiline=True) + more


def run_app(repo: Path, config: Config, *, read_only: bool, windows: RunWindows,
            supervisor_alive: Callable[[], bool] | None, theme: str | None) -> int:
    """Run the app until it quits (watch), or until the supervisor thread ends (window 0)."""
    app = SwarmApp(repo, config, read_only=read_only, windows=windows,
                   supervisor_alive=supervisor_alive, theme=theme)
    app.run()
    return int(app.return_code or 0)
