"""The supervisor's end of a host's mirror: one long-lived ssh command per host.

A thread keeps ``sshremote mirror`` running on the host over the host's ControlMaster (started
again when it ends), tells it which attempts to watch (with the bytes already here, so a new
connection sends only what is new), forwards the age of the supervisor's own heartbeat file
once a second (the host's heartbeat file gets that mtime: an orphaned host ends its agents
after the orphan timeout, as a local one does), and writes what it streams back into the local
``.swarm/agents/<id>/``, where the watcher and ``ingest`` see it like any local write.

The stream is hostile input: frames are bounded lines of JSON, only watched attempts and the
protocol's file names are accepted, nothing is written through a link (every component is
opened with ``O_NOFOLLOW``), whole files are replaced atomically, and an appended file is only
ever written at the offset the stream says. A frame that breaks these rules ends the stream.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.runners.sshremotemirror import APPEND_FILES, WHOLE_FILES
from swarmtui.engine.runtime.ssh import SshHost
from swarmtui.engine.runtime.ssherrors import SshError
from swarmtui.engine.runtime.tmux import PaneInfo
from swarmtui.textsafe import clean_text

MAX_FRAME = 2 << 20
HEARTBEAT_EVERY = 1.0
RECONNECT_MAX = 5.0
FETCH_TRIES = 5  # pane reports (half a second apart) a results file waits for its branch
_AID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_APPEND = dict(APPEND_FILES)
_WHOLE = dict(WHOLE_FILES)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ProtocolError(Exception):
    pass


@dataclass
class Seen:
    """What the host last said about its session."""

    panes: dict[str, PaneInfo]
    groups: dict[str, bool]
    server: bool
    at: float  # monotonic


class MirrorLink:
    """Keeps one host's mirror stream up and applies what it sends."""

    def __init__(self, host: SshHost, *, name: str, local_swarm: Path, session: str,
                 argv: Callable[[], list[str]],
                 before_whole: Callable[[str, str], bool]) -> None:
        self.host = host
        self.name = name
        self.swarm = local_swarm
        self.session = session
        self._argv = argv  # the remote command (needs the host's root: may block, may raise)
        self._before_whole = before_whole  # (aid, file) -> False: not yet (the branch fetch)
        self.watched: set[str] = set()
        self.seen: Seen | None = None
        self.connected = False
        self.reason = ""  # why the host cannot be reached, while it cannot
        self.last_contact: float | None = None
        self.started_at = time.monotonic()
        self.frames = 0
        self.latency: float | None = None  # seconds of the last echo's round trip
        self.last_beat: float | None = None  # monotonic: the last heartbeat handed to ssh
        self._echo_sent: tuple[int, float] | None = None
        self._echo_n = 0
        self._pending: dict[tuple[str, str], bytes] = {}
        self._tries: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"swarm-mirror-{name}",
                                        daemon=True)

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        threading.Thread(target=self._beat, name=f"swarm-beat-{self.name}", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        proc = self._proc
        if proc is not None:
            SshHost.close_stream(proc, timeout=3)
        self._thread.join(5)

    def watch(self, aid: str) -> None:
        with self._lock:
            if aid in self.watched:
                return
            self.watched.add(aid)
        self._send(self._watch_line(aid))

    def unwatch(self, aid: str) -> None:
        with self._lock:
            self.watched.discard(aid)
        self._send(f"u {aid}\n")

    def wait_seen(self, timeout: float, after: float = 0.0) -> bool:
        """Wait until a pane report newer than ``after`` (monotonic) arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.seen is None or self.seen.at <= after:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed.is_set():
                    return False
                self._changed.wait(left)
        return True

    def pending_aids(self) -> set[str]:
        """Attempts whose results or exit record arrived but wait for their branch."""
        return {aid for aid, _ in list(self._pending)}

    def _watch_line(self, aid: str) -> str:
        offsets = []
        for name, _ in APPEND_FILES:
            try:
                offsets.append(str(os.lstat(self.swarm / P.AGENTS_DIR / aid / name).st_size))
            except OSError:
                offsets.append("0")
        return f"w {aid} {' '.join(offsets)}\n"

    def _send(self, line: str) -> bool:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return False
        try:
            proc.stdin.write(line.encode())
            proc.stdin.flush()
        except (OSError, ValueError):
            return False  # the stream is ending; the next one is told everything again
        return True

    def _beat(self) -> None:
        hb = self.swarm / P.HEARTBEAT_FILE
        while not self._closed.wait(HEARTBEAT_EVERY):
            try:
                age = max(0.0, time.time() - hb.stat().st_mtime)
            except OSError:
                continue  # no supervisor heartbeat here: the host's goes silent too
            if self._send(f"h {age:.2f}\n"):
                self.last_beat = time.monotonic()
            if self._echo_sent is None or time.monotonic() - self._echo_sent[1] > 10:
                self._echo_n += 1
                self._echo_sent = (self._echo_n, time.monotonic())
                self._send(f"e {self._echo_n}\n")

    # -- the stream ------------------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.2
        while not self._closed.is_set():
            try:
                argv = self._argv()
                proc = self.host.open_channel(argv)
            except (SshError, OSError, RuntimeError) as e:
                self._down(str(e))
                self._closed.wait(delay)
                delay = min(RECONNECT_MAX, delay * 2)
                continue
            self._proc = proc
            with self._lock:
                lines = [self._watch_line(aid) for aid in sorted(self.watched)]
            for line in lines:
                self._send(line)
            try:
                hb = self.swarm / P.HEARTBEAT_FILE
                if self._send(f"h {max(0.0, time.time() - hb.stat().st_mtime):.2f}\n"):
                    self.last_beat = time.monotonic()
            except OSError:
                pass
            why = self._read(proc)
            self._proc = None
            code = SshHost.close_stream(proc, timeout=2)
            if self._closed.is_set():
                break
            if self.frames:
                delay = 0.2
            self._down(why or f"the mirror stream ended (exit {code})")
            # Ask again at once: a broken connection is told apart from a dropped host by
            # whether a new master can be started.
            self._closed.wait(delay)
            delay = min(RECONNECT_MAX, delay * 2)
        self.connected = False

    def _down(self, reason: str) -> None:
        with self._changed:
            self.connected = False
            self.reason = reason
            self._changed.notify_all()

    def _read(self, proc: subprocess.Popen[bytes]) -> str:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline(MAX_FRAME)
            if not line:
                return ""
            if not line.endswith(b"\n"):
                return f"protocol error: a frame longer than {MAX_FRAME} bytes"
            try:
                self._apply(json.loads(line))
            except (ProtocolError, ValueError, TypeError, KeyError) as e:
                return f"protocol error: {e}"
            self.frames += 1

    def _apply(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            raise ProtocolError("a frame that is not an object")
        kind = frame.get("k")
        now = time.monotonic()
        self.last_contact = now
        if kind == "hello":
            with self._changed:
                self.connected = True
                self.reason = ""
                self._changed.notify_all()
        elif kind == "e":
            sent = self._echo_sent
            if sent is not None and str(frame.get("n")) == str(sent[0]):
                self.latency = now - sent[1]
                self._echo_sent = None
        elif kind == "p":
            self._panes(frame, now)
            self._retry_pending()
        elif kind == "x":
            # The host could not read its tmux session: no pane report, so its view goes
            # stale (and the host is lost after lost_after) instead of being misread.
            with self._changed:
                self.reason = "tmux there: " + clean_text(str(frame.get("m")))[:300]
        elif kind in ("f", "rm"):
            aid, name = frame.get("a"), frame.get("n")
            if not isinstance(aid, str) or not _AID.match(aid) or not isinstance(name, str):
                raise ProtocolError("a file frame without a valid attempt and name")
            with self._lock:
                if aid not in self.watched:
                    return  # no longer ours (unwatched meanwhile)
            if kind == "rm":
                self._remove(aid, name)
            elif frame.get("w"):
                self._whole(aid, name, _data(frame))
            else:
                off = frame.get("o")
                if not isinstance(off, int) or isinstance(off, bool) or off < 0:
                    raise ProtocolError("an append frame without a valid offset")
                self._append(aid, name, off, _data(frame), bool(frame.get("r")))
        else:
            raise ProtocolError(f"an unknown frame kind {str(kind)[:20]!r}")

    def _panes(self, frame: dict[str, Any], now: float) -> None:
        panes: dict[str, PaneInfo] = {}
        raw = frame.get("panes")
        if not isinstance(raw, list) or len(raw) > 10_000:
            raise ProtocolError("a pane report that is not a bounded list")
        for item in raw:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                    and isinstance(item[1], int) and isinstance(item[2], bool)):
                raise ProtocolError("a malformed pane")
            name = item[0][:200]
            panes[name] = PaneInfo(session=self.session, window_name=name, window_id="",
                                   window_index=0, pane_id="", pane_pid=item[1], dead=item[2],
                                   dead_status=None)
        groups_raw = frame.get("g")
        groups = {str(k)[:200]: bool(v) for k, v in groups_raw.items()} \
            if isinstance(groups_raw, dict) else {}
        with self._changed:
            self.seen = Seen(panes=panes, groups=groups, server=bool(frame.get("server")),
                             at=now)
            self.connected = True
            self.reason = ""
            self._changed.notify_all()

    # -- writing here ----------------------------------------------------------------------

    def _adir(self, aid: str) -> int:
        """A descriptor of the local agent folder, opened without following any link."""
        fd = os.open(self.swarm, _DIR_FLAGS)
        try:
            for part in (P.AGENTS_DIR, aid):
                try:
                    nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(part, 0o700, dir_fd=fd)
                    nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nfd
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _append(self, aid: str, name: str, off: int, data: bytes, restart: bool) -> None:
        limit = _APPEND.get(name)
        if limit is None:
            raise ProtocolError(f"not a mirrored file: {name[:40]!r}")
        if off + len(data) > limit:
            return
        dfd = self._adir(aid)
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=dfd)
        finally:
            os.close(dfd)
        try:
            size = os.fstat(fd).st_size
            if restart or off < size:
                os.ftruncate(fd, off)  # rewritten there (a capped log): rewritten here
            elif off > size:
                raise ProtocolError(f"{name}: bytes from {off} but {size} are here")
            if data:
                os.pwrite(fd, data, off)
        finally:
            os.close(fd)

    def _whole(self, aid: str, name: str, data: bytes) -> None:
        cap = _WHOLE.get(name)
        if cap is None:
            raise ProtocolError(f"not a mirrored file: {name[:40]!r}")
        data = data[:cap + 1]
        dfd = self._adir(aid)
        try:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
                with os.fdopen(fd, "rb") as f:
                    if f.read(cap + 2) == data:
                        return  # already here (a new stream says everything again)
            except OSError:
                pass
            if name in (P.RESULTS_FILE, P.EXIT_FILE) and not self._before_whole(aid, name):
                tries = self._tries.get((aid, name), 0) + 1
                self._tries[(aid, name)] = tries
                if tries < FETCH_TRIES:
                    self._pending[(aid, name)] = data  # the branch could not be fetched yet
                    return
                # Written anyway: verification then sees what the branch here has.
            self._pending.pop((aid, name), None)
            self._tries.pop((aid, name), None)
            tmp = f".{name}.mirror"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=dfd)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        finally:
            os.close(dfd)

    def _retry_pending(self) -> None:
        for (aid, name), data in list(self._pending.items()):
            self._whole(aid, name, data)

    def _remove(self, aid: str, name: str) -> None:
        if name not in _WHOLE:
            raise ProtocolError(f"not a mirrored file: {name[:40]!r}")
        dfd = self._adir(aid)
        try:
            os.unlink(name, dir_fd=dfd)
        except FileNotFoundError:
            pass
        finally:
            os.close(dfd)


def _data(frame: dict[str, Any]) -> bytes:
    raw = frame.get("d")
    if not isinstance(raw, str):
        raise ProtocolError("a file frame without data")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("a file frame whose data is not base64") from None
