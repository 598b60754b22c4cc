"""``sshremote mirror``: the one long-lived command per SSH host. It streams every watched
attempt's protocol files, the session's panes and which agents' process groups live, and turns
the supervisor's heartbeat into the mtime of the host's heartbeat file.

Like the rest of the host's side, only the standard library, ``swarmtui.protocol`` and
``tmuxcli``; files are read without following links and bounded.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.runtime import tmuxcli

TMUX_SOCKET = "swarmtui"  # under the user's own tmux directory there
SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TMUX_TMPDIR")
APPEND_FILES = ((P.PROGRESS_FILE, 64 << 20), (P.SIGNALS_FILE, P.SIGNALS_MAX_BYTES),
                (P.OUTPUT_LOG, 256 << 20))
WHOLE_FILES = ((P.RESULTS_FILE, 1 << 20), (P.EXIT_FILE, 64 << 10), (P.AGENT_PGID_FILE, 64),
               (P.WRAP_PID_FILE, 64))
CHUNK = 192 << 10  # bytes of one file in one frame
FILE_POLL = 0.1
PANE_POLL = 0.5
PANES_FORMAT = "#{pane_pid}\t#{pane_dead}\t#{window_name}"  # the name (free text) last
_NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def _tmux_conf() -> str:
    return str(Path(__file__).resolve().parents[2] / "data" / "tmux.conf")


def _tmux_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in SERVER_ENV}


def _tmux(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [*tmuxcli.client_argv(["-L", TMUX_SOCKET], _tmux_conf()), *args]
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=_tmux_env(),
                              check=False, encoding="utf-8", errors="replace",
                              timeout=tmuxcli.CALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"tmux {args[0]}: no answer within "
                                           f"{tmuxcli.CALL_TIMEOUT:.0f}s")


def _signal_group(pgid: int | None, sig: int) -> bool:
    if not pgid or pgid <= 1 or pgid == os.getpgrp():
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class _Watched:
    def __init__(self) -> None:
        self.sent: dict[str, tuple[int | None, int]] = {}  # append file -> (inode, sent)
        self.whole: dict[str, tuple[int, int, int]] = {}  # whole file -> (ino, size, mtime)


def _open_under(agents_fd: int, aid: str, name: str) -> tuple[int, os.stat_result] | None:
    try:
        dfd = os.open(aid, _NOFOLLOW | os.O_DIRECTORY, dir_fd=agents_fd)
    except OSError:
        return None
    try:
        fd = os.open(name, _NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except OSError:
        return None
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


class Mirror:
    def __init__(self, root: Path, session: str) -> None:
        self.root = root
        self.session = session
        self.watched: dict[str, _Watched] = {}
        self.lock = threading.Lock()
        self.out_lock = threading.Lock()

    def send(self, obj: dict[str, Any]) -> None:
        with self.out_lock:
            sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
            sys.stdout.flush()

    def commands(self) -> None:
        hb = self.root / P.SWARM_DIR / P.HEARTBEAT_FILE
        for line in sys.stdin:
            word, _, arg = line.strip().partition(" ")
            if word == "w":
                words = arg.split()
                if not words or "/" in words[0] or words[0].startswith("."):
                    continue
                aid, have = words[0], words[1:]
                w = _Watched()
                for (name, _), off in zip(APPEND_FILES, have, strict=False):
                    if off.isdigit():
                        w.sent[name] = (None, int(off))  # already there: send what follows
                with self.lock:
                    self.watched.setdefault(aid, w)
            elif word == "e":
                self.send({"k": "e", "n": arg[:20]})  # an echo: the round trip, measured
            elif word == "u":
                with self.lock:
                    self.watched.pop(arg, None)
            elif word == "h":
                try:
                    when = time.time() - max(0.0, float(arg))
                    if not hb.exists():
                        hb.touch()
                    os.utime(hb, (when, when))
                except (OSError, ValueError):
                    pass
        os._exit(0)  # the supervisor's side closed the stream

    def _files(self, agents_fd: int, aid: str, w: _Watched) -> None:
        for name, limit in APPEND_FILES:
            got = _open_under(agents_fd, aid, name)
            if got is None:
                continue
            fd, st = got
            try:
                ino, sent = w.sent.get(name, (st.st_ino, 0))
                restart = (ino is not None and ino != st.st_ino) or st.st_size < sent
                if restart:
                    sent = 0
                if st.st_size > sent and sent < limit:
                    data = os.pread(fd, min(CHUNK, st.st_size - sent, limit - sent), sent)
                    self.send({"k": "f", "a": aid, "n": name, "o": sent, "r": restart,
                               "d": base64.b64encode(data).decode()})
                    sent += len(data)
                elif restart:
                    self.send({"k": "f", "a": aid, "n": name, "o": 0, "r": True, "d": ""})
                w.sent[name] = (st.st_ino, sent)
            finally:
                os.close(fd)
        for name, cap in WHOLE_FILES:
            got = _open_under(agents_fd, aid, name)
            if got is None:
                if name in w.whole:
                    del w.whole[name]
                    self.send({"k": "rm", "a": aid, "n": name})
                continue
            fd, st = got
            try:
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if w.whole.get(name) == key:
                    continue
                data = os.pread(fd, cap + 1, 0)  # one byte over the cap says "too large"
                self.send({"k": "f", "a": aid, "n": name, "o": 0, "w": True,
                           "d": base64.b64encode(data).decode()})
                w.whole[name] = key
            finally:
                os.close(fd)

    def _panes(self) -> None:
        done = _tmux("list-panes", "-s", "-t", f"={self.session}", "-F", PANES_FORMAT)
        panes = []
        if done.returncode == 0:
            for line in done.stdout.splitlines():
                try:
                    pid, dead, name = tmuxcli.split_fields(line, 3, PANES_FORMAT, "list-panes")
                    panes.append([name, int(pid or 0), dead == "1"])
                except ValueError as e:
                    # Never a wrong list: a window misread would be taken for gone.
                    self.send({"k": "x", "m": str(e)[:500]})
                    return
        groups: dict[str, bool] = {}
        agents = self.root / P.SWARM_DIR / P.AGENTS_DIR
        with self.lock:
            aids = list(self.watched)
        for aid in aids:
            try:
                pgid = int((agents / aid / P.AGENT_PGID_FILE).read_text()[:20].strip())
            except (OSError, ValueError):
                continue
            groups[aid] = _signal_group(pgid, 0)
        self.send({"k": "p", "server": done.returncode == 0, "panes": panes, "g": groups,
                   "t": time.time()})

    def run(self) -> None:
        agents = self.root / P.SWARM_DIR / P.AGENTS_DIR
        agents.mkdir(mode=0o700, parents=True, exist_ok=True)
        threading.Thread(target=self.commands, daemon=True).start()
        self.send({"k": "hello", "root": str(self.root), "pid": os.getpid()})
        next_panes = 0.0
        while True:
            try:
                fd = os.open(agents, _NOFOLLOW | os.O_DIRECTORY)
            except OSError:
                agents.mkdir(mode=0o700, parents=True, exist_ok=True)
                time.sleep(FILE_POLL)
                continue
            try:
                with self.lock:
                    items = list(self.watched.items())
                for aid, w in items:
                    self._files(fd, aid, w)
            finally:
                os.close(fd)
            if time.monotonic() >= next_panes:
                self._panes()
                next_panes = time.monotonic() + PANE_POLL
            time.sleep(FILE_POLL)
