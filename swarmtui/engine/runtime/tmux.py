"""swarmtui's own tmux server: one session per repository, one window per agent attempt.

Every call runs the tmux client on a dedicated socket, so the user's own tmux server is never
touched, with ``-u`` (``tmuxcli``): what swarmtui reads from tmux is the same whatever locale
the supervisor was started in. Liveness for the whole fleet is one ``list-panes -s`` per tick
rather than one query per agent (peers poll per agent and burn CPU).
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import shlex
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from swarmtui.engine.runtime.tmuxcli import (
    CALL_TIMEOUT,
    FormatError,
    client_argv,
    round_trip,
    split_fields,
)

if TYPE_CHECKING:
    import libtmux

DEFAULT_SOCKET = f"swarmtui-{os.getuid()}"
SUPERVISOR_WINDOW = "swarmtui"
EVENTS_WINDOW = "events"  # window 0 of a headless run: it follows the event log

# The tmux server keeps the environment of whoever started it as its global environment, and
# every window inherits that. swarmtui starts it with only these, so no caller's secret (an API
# key, say) lives on in the server; agents get their environment from the supervisor instead.
SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_*", "TZ",
              "TMPDIR", "XDG_RUNTIME_DIR", "COLORTERM")
SECRET_NAME_PATTERNS = ("*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*", "*CREDENTIAL*")


def server_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    return {k: v for k, v in env.items() if any(fnmatch.fnmatchcase(k, p) for p in SERVER_ENV)}


def looks_secret(name: str) -> bool:
    up = name.upper()
    return any(fnmatch.fnmatchcase(up, p) for p in SECRET_NAME_PATTERNS)


class TmuxError(Exception):
    pass


class TmuxServerGone(TmuxError):
    """swarmtui's tmux server is not running (never started, or killed from outside)."""


class TmuxSessionGone(TmuxServerGone):
    """The run's session is gone from a live server (killed, or the server is shutting down:
    ``kill-server`` ends the sessions first): every window in it went with it."""


@dataclass(frozen=True)
class PaneInfo:
    session: str
    window_name: str
    window_id: str
    window_index: int
    pane_id: str
    pane_pid: int
    dead: bool
    dead_status: int | None


def session_name_for(repo: Path) -> str:
    """A stable, tmux-safe session name for a repository: its name plus a path hash."""
    repo = Path(repo).resolve()
    digest = hashlib.sha1(str(repo).encode()).hexdigest()[:8]
    base = "".join(c if c.isalnum() or c in "-_" else "-" for c in repo.name)[:24] or "repo"
    return f"swarm-{base}-{digest}"


def tmux_conf_path() -> Path:
    return Path(str(resources.files("swarmtui") / "data" / "tmux.conf"))


class Tmux:
    """A handle on swarmtui's tmux server and one session in it."""

    def __init__(self, session: str, socket: str | Path | None = None) -> None:
        socket = socket or os.environ.get("SWARMTUI_TMUX_SOCKET") or DEFAULT_SOCKET
        self.socket = str(socket)
        self.session = session

    @functools.cached_property
    def server(self) -> libtmux.Server:
        """libtmux's handle, for the TUI's calls whose output nobody parses (swarmtui's own
        calls go through ``_cmd``). Made on first use: importing libtmux costs a process that
        never needs it (the supervisor, every CLI command) about a tenth of a second.
        A value with a slash is a socket path (-S), otherwise a socket name (-L)."""
        import libtmux

        if "/" in self.socket:
            return libtmux.Server(socket_path=self.socket, config_file=str(tmux_conf_path()))
        return libtmux.Server(socket_name=self.socket, config_file=str(tmux_conf_path()))

    # -- low level --------------------------------------------------------------------------

    def _cmd(self, *args: str) -> list[str]:
        """Run one tmux command; its output lines (trailing empty lines dropped)."""
        code, lines, err = self._call(*args)
        if code != 0:
            raise TmuxError(f"tmux {args[0]}: {err or f'exit {code}'}")
        return lines

    def _call(self, *args: str) -> tuple[int, list[str], str]:
        """Run tmux: exit code, output lines (trailing empty ones dropped), error text. A
        server that is not there raises TmuxServerGone."""
        try:
            proc = subprocess.run([*self.base_argv(), *args], env=server_env(),
                                  capture_output=True, text=True, encoding="utf-8",
                                  errors="replace", timeout=CALL_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise TmuxError(f"tmux {args[0]}: no answer within {CALL_TIMEOUT:.0f}s") from None
        except OSError as e:
            raise TmuxError(f"tmux {args[0]}: {e}") from None
        err = " ".join(proc.stderr.split("\n")).strip()
        if proc.returncode != 0 and _means_no_server(err):
            raise TmuxServerGone(err or "tmux server not running")
        lines = proc.stdout.split("\n")
        while lines and lines[-1] == "":
            lines.pop()
        return proc.returncode, lines, err

    def _socket_args(self) -> list[str]:
        return ["-S" if "/" in self.socket else "-L", self.socket]

    def base_argv(self) -> list[str]:
        """The tmux client as swarmtui runs it (UTF-8 output whatever the locale)."""
        return client_argv(self._socket_args(), str(tmux_conf_path()))

    # -- server and session -----------------------------------------------------------------

    def server_alive(self) -> bool:
        try:
            self._cmd("list-sessions", "-F", "#{session_name}")
        except TmuxServerGone:
            return False
        except TmuxError:
            return False
        return True

    def has_session(self) -> bool:
        try:
            names = self._cmd("list-sessions", "-F", "#{session_name}")
        except (TmuxServerGone, TmuxError):
            return False
        return self.session in names

    def new_session(self, argv: list[str], cwd: Path, *, window_name: str = SUPERVISOR_WINDOW,
                    env: dict[str, str] | None = None) -> None:
        """Create the session detached, window 0 running ``argv`` (not through a shell).

        The command runs with a clean environment: if this starts the server, the server's
        global environment holds nothing but ``SERVER_ENV``.
        """
        args = ["new-session", "-d", "-s", self.session, "-n", window_name, "-c",
                _dir_arg(cwd), "-x", "200", "-y", "50"]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        proc = subprocess.run([*self.base_argv(), *args, *argv], env=server_env(),
                              capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            err = proc.stderr.strip()
            if "duplicate session" in err:
                raise TmuxError(f"tmux new-session: {err}")
            raise TmuxError(f"tmux new-session: {err or f'exit {proc.returncode}'}")
        self.scrub_global_env()

    def scrub_global_env(self) -> None:
        """Remove secret-looking variables from the server's global environment (a server
        started by an older swarmtui, or by hand, may hold the caller's API key)."""
        try:
            lines = self._cmd("show-environment", "-g")
        except TmuxError:
            return
        for line in lines:
            name = line.split("=", 1)[0].lstrip("-")
            if name and looks_secret(name):
                try:
                    self._cmd("set-environment", "-g", "-u", name)
                except TmuxError:
                    pass

    def new_window(self, name: str, argv: list[str], cwd: Path,
                   env: dict[str, str] | None = None, *, index: int | None = None) -> PaneInfo:
        """Open a detached window running ``argv`` directly (tmux runs a multi-word command
        without a shell, so nothing is interpolated into a shell string)."""
        out = self._cmd(*self._new_window_args(name, argv, cwd, env, index))
        if not out:
            raise TmuxError(f"tmux new-window {name}: no pane reported")
        return _parse_pane(out[0])

    def _new_window_args(self, name: str, argv: list[str], cwd: Path,
                         env: dict[str, str] | None = None, index: int | None = None
                         ) -> list[str]:
        target = f"={self.session}:" if index is None else f"={self.session}:{index}"
        args = ["new-window", "-d", "-P", "-F", _PANE_FORMAT, "-t", target,
                "-n", name, "-c", _dir_arg(cwd)]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        return [*args, *argv]

    def new_windows(self, windows: list[tuple[str, list[str], Path]],
                    env: dict[str, str] | None = None) -> dict[str, PaneInfo | TmuxError]:
        """Several ``new_window`` calls as one tmux command sequence (one client process for
        up to ``WINDOWS_PER_CALL``, not one each); name -> its pane, or why it did not open.
        tmux stops a sequence at its first failing command: the windows after it, and any
        whose arguments tmux would read as a separator (ending in ``;``), open one by one.
        ``env`` is added to every window's environment. Raises TmuxSessionGone (none opened)
        when the session is not there."""
        got: dict[str, PaneInfo | TmuxError] = {}
        batch = [(n, a, c) for n, a, c in windows
                 if not any(x.endswith(";") for x in self._new_window_args(n, a, c, env))]
        for i in range(0, len(batch), WINDOWS_PER_CALL):
            part = batch[i:i + WINDOWS_PER_CALL]
            seq: list[str] = []
            for name, argv, cwd in part:
                if seq:
                    seq.append(";")  # tmux's command separator, an argument of its own
                seq += self._new_window_args(name, argv, cwd, env)
            _, out, err = self._call(*seq)
            if not out and ("can't find session" in err or "session not found" in err):
                raise TmuxSessionGone(err)  # none opened: the caller makes the session first
            wanted = {name for name, _, _ in part}
            for line in out:
                try:
                    pane = _parse_pane(line)
                except TmuxError:
                    continue
                if pane.window_name in wanted and pane.session == self.session:
                    got[pane.window_name] = pane
        if len(got) < len(windows):
            # Opened but not reported (never expected) must not open twice: look first.
            try:
                there = self.list_panes()
            except TmuxServerGone:
                raise
            except TmuxError:
                there = {}
            got.update({n: there[n] for n, _, _ in windows if n not in got and n in there})
        for name, argv, cwd in windows:
            if name not in got:  # not tried, or stopped by another's failure: on its own
                try:
                    got[name] = self.new_window(name, argv, cwd, env)
                except TmuxServerGone:
                    raise
                except TmuxError as e:
                    got[name] = e
        return got

    def windows(self) -> dict[int, str]:
        """Window index -> name of this session."""
        try:
            out = self._cmd("list-windows", "-t", f"={self.session}", "-F",
                            "#{window_index}\t#{window_name}")
        except TmuxError:
            return {}
        res: dict[int, str] = {}
        for line in out:
            try:
                idx, name = split_fields(line, 2, "#{window_index}\t#{window_name}",
                                         "list-windows")
            except FormatError as e:
                raise TmuxError(str(e)) from None
            if idx.isdigit():
                res[int(idx)] = name
        return res

    def free_window_zero(self) -> None:
        """Make index 0 free for the supervisor's window: a leftover event follower or dead
        supervisor window is closed, anything else (an agent) moves to a free index."""
        name = self.windows().get(0)
        if name is None:
            return
        if name in (SUPERVISOR_WINDOW, EVENTS_WINDOW):
            self._cmd("kill-window", "-t", f"={self.session}:0")
        else:
            self._cmd("move-window", "-s", f"={self.session}:0", "-t", f"={self.session}:")

    def list_panes(self) -> dict[str, PaneInfo]:
        """Every pane of this session by window name, in one tmux call.

        Raises TmuxServerGone when the server is not running, TmuxSessionGone when the session
        is not there.
        """
        try:
            out = self._cmd("list-panes", "-s", "-t", f"={self.session}", "-F", _PANE_FORMAT)
        except TmuxError as e:
            if "can't find session" in str(e) or "session not found" in str(e):
                raise TmuxSessionGone(f"tmux session {self.session} is gone") from None
            raise
        panes: dict[str, PaneInfo] = {}
        for line in out:
            p = _parse_pane(line)
            panes[p.window_name] = p
        return panes

    def kill_window(self, name: str) -> bool:
        try:
            self._cmd("kill-window", "-t", f"={self.session}:={name}")
        except TmuxError:
            return False
        return True

    def kill_session(self) -> None:
        try:
            self._cmd("kill-session", "-t", f"={self.session}")
        except TmuxError:
            pass

    def kill_server(self) -> None:
        try:
            self._cmd("kill-server")
        except TmuxError:
            pass

    def select_window(self, name: str) -> None:
        self._cmd("select-window", "-t", f"={self.session}:={name}")

    def set_option(self, name: str, value: str) -> None:
        # set-option takes a pane-style target: "=name:" matches the session exactly.
        self._cmd("set-option", "-t", f"={self.session}:", name, value)

    def capture(self, window: str, lines: int = 200) -> str:
        out = self._cmd("capture-pane", "-p", "-J", "-S", f"-{lines}", "-t",
                        f"={self.session}:={window}")
        return "\n".join(out)

    def attach_argv(self) -> list[str]:
        # No -u: whether the person's terminal takes UTF-8 is for their own locale to say.
        return ["tmux", *self._socket_args(), "-f", str(tmux_conf_path()), "attach-session",
                "-t", f"={self.session}"]

    def shell_attach_hint(self) -> str:
        return shlex.join(self.attach_argv())


def _dir_arg(path: Path) -> str:
    """A start directory for tmux, which expands formats in it: a literal '#' is '##'."""
    return str(path).replace("#", "##")


# The names (free text) come last: a line splits into exactly these fields.
WINDOWS_PER_CALL = 50  # new windows per tmux client call (bounds one argv)
_PANE_FORMAT = (
    "#{window_index}\t#{window_id}\t#{pane_id}\t#{pane_pid}\t#{pane_dead}"
    "\t#{pane_dead_status}\t#{session_name}\t#{window_name}"
)


def _parse_pane(line: str) -> PaneInfo:
    try:
        index, window_id, pane_id, pid, dead, status, session, name = split_fields(
            line, 8, _PANE_FORMAT, "list-panes")
        return PaneInfo(session=session, window_name=name, window_id=window_id,
                        window_index=int(index), pane_id=pane_id, pane_pid=int(pid or 0),
                        dead=dead == "1", dead_status=int(status) if status else None)
    except (FormatError, ValueError) as e:
        raise TmuxError(f"{e}" if isinstance(e, FormatError) else
                        f"tmux list-panes printed {line[:200]!r}: {e}") from None


def _means_no_server(err: str) -> bool:
    return ("no server running" in err or "error connecting" in err
            or "No such file or directory" in err or "server exited" in err)


def output_check() -> str | None:
    """For ``doctor``: run tmux as swarmtui runs it here, on a server of its own, and read a
    formatted list back. None when intact, else what went wrong."""
    return round_trip(str(tmux_conf_path()), server_env())
