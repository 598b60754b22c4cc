"""The supervisor's status file, `.swarm/status.json`: `swarmtui status` without the log.

Answering `status` from the log means importing the model (pydantic: most of a second on a
loaded box), folding the events after the newest snapshot and building the view. A live
supervisor already holds that projection, so it writes the view (``engine/run/statusview.py``)
to this file now and then and whenever a reader asks, as `status --json`'s very text with a
marker for each value only the reader knows (``template``); `status` reads it with the
standard library alone and fills those in (``fill``: whether a supervisor holds the run, the
repository's path, the target's commit now, each forecast's staleness and the ages at the
reader's clock), which is what ``finish`` does to the view on the way from the log.

The file is a cache and never the truth. A reader uses it only when all of these hold, and
otherwise answers from the log as before (slower, never wrong):

- a supervisor holds the run lock, and it is the process that wrote the file (a file left by a
  supervisor that died, or by the one before a restart, is ignored); and that supervisor has
  folded every row of the run (one it did not write or could not read ends its file);
- it covers the whole log as it was when the reader started: its ``seq`` is at least the log's
  newest. When the supervisor has written events since, the reader nudges it and waits (at
  most ``WAIT_S``) for a newer file. So `status` after a command that was answered always shows
  that command's effect; a command still waiting in the inbox shows in neither answer (it is
  not in the log yet);
- nothing in it has gone stale with the clock alone (``valid_until``: the first usage limit to
  lapse), it was made in the reader's time zone (the "usage-limited until 14:05" words), by the
  same code (every module it depends on has the size and time it had when the supervisor
  loaded it), and the config file the reader would load is one the supervisor loaded without an
  error (a broken config still fails `status` the way it always did);
- it is a regular file (never followed through a symlink, nor a FIFO), at most ``MAX_BYTES``,
  whose head is JSON and whose body has the length and CRC-32 the head says (a file cut short
  or damaged is refused whole).

The supervisor writes a temporary file beside it and renames it over, so a reader sees a whole
file or the one before. Nothing is fsynced: after a crash of the machine no supervisor holds
the lock, and the file is not read.
"""

from __future__ import annotations

import os
import stat
import time
import zlib

from swarmtui.protocol import STATE_DB, SUPERVISOR_LOCK, SWARM_DIR

# The reader imports no Python module of the standard library it can do without: at 500 tasks
# the work is a few ms, and each of pathlib, re, json, subprocess and socket cost more than
# that to import (re alone about 10 ms of CPU; json imports re). It parses the head with the C
# scanner behind ``json`` (``_json``, as ``json.loads`` does for this text), fills the markers
# by splitting the text, runs git by ``posix_spawn`` (``gitcall.py``) and takes paths as
# strings or Paths alike.
TYPE_CHECKING = False  # not typing's: importing typing costs a `status` 4 ms for nothing
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    def _json_str(s: str) -> str: ...
    def _make_scanner(context: Any) -> Callable[[str, int], tuple[Any, int]]: ...
else:
    try:
        from _json import encode_basestring_ascii as _json_str
        from _json import make_scanner as _make_scanner
    except ImportError:  # a Python without the accelerator: the module, at its usual cost
        from json import dumps as _json_str
        from json.scanner import py_make_scanner as _make_scanner

FORMAT = 2
FILE = "status.json"
MAX_BYTES = 32 * 2**20  # about 700 bytes a task: room for 45,000 tasks
WAIT_S = 0.5  # how long a reader waits for the supervisor to catch up with the log
POLL_S = 0.005

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

Identity = list[int]  # [device, inode, size, mtime_ns]: a file as it was when it was read


# -- what only the reader knows ---------------------------------------------------------------

def finish(view: dict[str, Any], anchors: list[Any], *, live: bool, repo: str,
           tip: str | None, now: float) -> dict[str, Any]:
    """The status object, from a view and its rows' clock anchors (``statusview.view``), with
    the reader's parts filled in; ``view`` is changed in place and returned."""
    run = view["run"]
    if not live and run["state"] not in ("finished", "stopped"):
        run["state"] = "orphaned"  # unfinished, but no supervisor holds it
    run["supervisor"], run["repo"], run["target_tip"] = live, repo, tip
    for row, (progress_at, running_from) in zip(view["tasks"], anchors, strict=True):
        row["last_progress_age_s"] = None if progress_at is None else round(now - progress_at, 1)
        if running_from is not None:
            row["runtime_s"] = round(now - running_from, 1)
        fc = row["forecast"]
        if fc is not None:
            made_on = fc["target_commit"]
            fc["stale"] = bool(made_on and tip and made_on != tip)
    return view


def zone() -> list[Any]:
    """This process's time zone, as the words the view formats times in depend on it."""
    return [time.timezone, time.altzone, time.daylight, list(time.tzname),
            os.environ.get("TZ")]


def identity(path: Path | str) -> Identity | None:
    """``path`` as it is now: which file (by device and inode, whatever the path's spelling)
    and which version of it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def package_root() -> str:
    return os.path.dirname(os.path.realpath(__file__))


def same_code(code: Any) -> bool:
    """Whether ``code`` (what the writer recorded: its package, version and the size and time
    of every module its view depends on) is this process's code."""
    from swarmtui import __version__

    if not isinstance(code, dict) or code.get("version") != __version__:
        return False
    root = package_root()
    if code.get("root") != root or not isinstance(code.get("files"), list):
        return False
    for entry in code["files"]:
        try:
            rel, size, mtime = entry
            st = os.stat(os.path.join(root, rel))
        except (OSError, TypeError, ValueError):
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
    return bool(code["files"])


# -- the answer as a template ------------------------------------------------------------------
#
# Parsing the view and printing it again would cost a reader more than everything else it does
# (at 500 tasks, 40 ms of a 100 ms answer). So the file holds `status --json`'s very text, made
# by the writer with ``json.dumps(..., sort_keys=True)`` as the slow path prints it, where each
# value only the reader knows is a marker: a JSON string of NUL, a letter and a row number
# ("\u0000A17"). NUL never reaches the log (``textsafe.clean_text``), and in any other string
# JSON would print it after a backslash of its own, never right after a quote; so the only
# matches are markers, and ``fill`` replaces each with the JSON text of its value.

_OPEN = '"\\u0000'  # where a marker starts: a quote, then JSON's escape of NUL


def template(view: dict[str, Any], anchors: list[Any]) -> tuple[str, list[list[Any]]]:
    """`status --json`'s text for a live supervisor, with markers (changes ``view``), and per
    row what ``fill`` needs: [last progress time, running since, forecast's target commit]."""
    run = view["run"]
    import json

    run["supervisor"], run["repo"], run["target_tip"] = True, "\0R", "\0T"
    rows: list[list[Any]] = []
    for i, (row, (progress_at, running_from)) in enumerate(zip(view["tasks"], anchors,
                                                               strict=True)):
        if progress_at is not None:
            row["last_progress_age_s"] = f"\0A{i}"
        if running_from is not None:
            row["runtime_s"] = f"\0U{i}"
        fc = row["forecast"]
        made_on = fc["target_commit"] if fc is not None else None
        if made_on:
            fc["stale"] = f"\0F{i}"
        rows.append([progress_at, running_from, made_on])
    return json.dumps(view, sort_keys=True), rows


def fill(text: str, rows: list[Any], *, repo: str, tip: str | None, now: float) -> str:
    """``template``'s text with the reader's values: what ``finish`` gives, as JSON."""
    pieces = text.split(_OPEN)
    out = [pieces[0]]
    for piece in pieces[1:]:  # each starts where a marker may: a letter, digits, a quote
        end = piece.find('"')
        what, i = piece[:1], piece[1:end]
        if end < 1 or what not in ("R", "T", "A", "U", "F") or not (i.isdecimal() or i == ""):
            out += (_OPEN, piece)  # not a marker (none is ever written so): left as it is
            continue
        if what == "R":
            got = _json_str(repo)
        elif what == "T":
            got = "null" if tip is None else _json_str(tip)
        else:
            progress_at, running_from, made_on = rows[int(i)]
            if what == "A":
                got = repr(round(now - float(progress_at), 1))
            elif what == "U":
                got = repr(round(now - float(running_from), 1))
            else:
                got = "true" if made_on and tip and made_on != tip else "false"
        out += (got, piece[end + 1:])
    return "".join(out)


# -- writing (the supervisor, on a worker) -----------------------------------------------------

def write(swarm: Path, head: dict[str, Any], view: dict[str, Any], anchors: list[Any]) -> bool:
    """Replace ``swarm``/status.json: ``head`` (who wrote it, for which log position; see
    ``usable``) on the first line, the answer's ``template`` after it. Written to a temporary
    file beside it and renamed over. Over ``MAX_BYTES`` nothing is written (the old file is
    removed: readers use the log). False when nothing was written; never raises for a full
    disk or a missing folder."""
    text, rows = template(view, anchors)
    import json

    body = text.encode()
    head = {**head, "rows": rows, "target": view["run"]["target"],
            "body": [len(body), zlib.crc32(body)]}
    data = json.dumps(head, separators=(",", ":")).encode() + b"\n" + body
    try:
        dfd = os.open(swarm, _DIR)
    except OSError:
        return False
    tmp = f".{FILE}.{os.getpid()}.tmp"
    try:
        if len(data) > MAX_BYTES:
            os.unlink(FILE, dir_fd=dfd)
            return False
        try:
            os.unlink(tmp, dir_fd=dfd)  # one left by a write that failed half way
        except FileNotFoundError:
            pass
        fd = os.open(tmp, _WRITE, 0o600, dir_fd=dfd)
        try:
            left = memoryview(data)
            while left:
                left = left[os.write(fd, left):]
        finally:
            os.close(fd)
        os.rename(tmp, FILE, src_dir_fd=dfd, dst_dir_fd=dfd)  # replaces a link, never follows
        return True
    except OSError:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
        return False
    finally:
        os.close(dfd)


def remove(swarm: Path) -> None:
    """No status file (readers use the log); never through a link, never raises."""
    try:
        dfd = os.open(swarm, _DIR)
    except OSError:
        return
    try:
        os.unlink(FILE, dir_fd=dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# -- reading (any process, standard library only) ----------------------------------------------

if TYPE_CHECKING:  # head, template, and which file: (inode, mtime)
    Read = tuple[dict[str, Any], str, tuple[int, int]]


class _Plain:
    """What the C scanner asks of its decoder: ``json.loads``'s defaults."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int, parse_constant = float, int, float  # float("NaN") as json's
    memo: dict[str, str] = {}  # noqa: RUF012 - the pure-Python scanner's, never shared here


def loads(text: str) -> Any:
    """``json.loads(text)`` for text with no whitespace around it, without the json module (it
    imports re: 10 ms of a `status`); ValueError for anything else."""
    try:
        obj, end = _make_scanner(_Plain())(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("not JSON: more after the value")
    return obj


def read(repo: Path | str) -> Read | None:
    """The status file's head and template, and which file it was, when it is a regular file
    within bounds whose head is JSON and whose template has the length and CRC the head says;
    None otherwise (missing, a link, a FIFO, too big, cut short, garbled)."""
    try:
        dfd = os.open(os.path.join(repo, SWARM_DIR), _DIR)
        try:
            fd = os.open(FILE, _READ, dir_fd=dfd)
        finally:
            os.close(dfd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return None
        chunks, got = [], 0
        while got <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    first, nl, body = data.partition(b"\n")
    if not nl or len(data) > MAX_BYTES:
        return None
    try:
        head = loads(first.decode())
        size, digest = head["body"]
        if len(body) != size or zlib.crc32(body) != digest:
            return None
        return head, body.decode(), (st.st_ino, st.st_mtime_ns)
    except (ValueError, RecursionError, TypeError, KeyError):
        return None


def _changed(repo: Path | str, seen: tuple[int, int]) -> bool:
    try:
        st = os.stat(os.path.join(repo, SWARM_DIR, FILE), follow_symlinks=False)
    except OSError:
        return False
    return (st.st_ino, st.st_mtime_ns) != seen


_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def log_seq(repo: Path | str) -> int | None:
    """The log's newest seq (read-only; None when the store cannot be read)."""
    try:  # sqlite3's C half: its Python half adds datetime's adapters, 3 ms, unused here
        from _sqlite3 import Error, connect
    except ImportError:
        from sqlite3 import Error, connect

    db = os.fsencode(os.path.join(repo, SWARM_DIR, STATE_DB))
    quoted = "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in db)  # as urllib's quote
    try:
        con = connect(f"file:{quoted}?mode=ro", uri=True, timeout=1.0)
        try:
            row = con.execute("SELECT MAX(seq) FROM events").fetchone()
        finally:
            con.close()
    except Error:
        return None
    return int(row[0] or 0)


def holder(repo: Path | str) -> int | None:
    """The pid of the live supervisor holding the run lock; None when none holds it."""
    from swarmtui.runlock import holder_alive, holder_pid

    lock = os.path.join(repo, SWARM_DIR, SUPERVISOR_LOCK)
    return holder_pid(lock) if holder_alive(lock) else None


def usable(head: dict[str, Any], config: Path | str | None, pid: int) -> bool:
    """Everything but freshness (see the module): the writer, the zone, the clock, the config
    file and the code."""
    if head.get("format") != FORMAT or head.get("pid") != pid or not isinstance(
            head.get("seq"), int) or not isinstance(head.get("rows"), list):
        return False
    if head.get("zone") != zone():
        return False
    until = head.get("valid_until")
    if until is not None and (not isinstance(until, int | float) or time.time() >= until):
        return False
    if config is not None and identity(config) not in (head.get("vouched") or []):
        return False
    return same_code(head.get("code"))


def fresh_json(repo: Path | str, config: Path | str | None) -> str | None:
    """`status --json`'s answer from the file, when the file may give it (see the module);
    None when the log must."""
    pid = holder(repo)
    if pid is None:
        return None
    got = read(repo)
    if got is None or not usable(got[0], config, pid):
        return None
    newest = log_seq(repo)
    if newest is None:
        return None
    head, text, seen = got
    if head["seq"] < newest:
        from swarmtui.nudge import nudge

        nudge(repo)  # the supervisor writes a newer one at once (rate-limited)
        deadline = time.monotonic() + WAIT_S
        while head["seq"] < newest:
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL_S)
            if not _changed(repo, seen):
                continue
            again = read(repo)
            if again is None or not usable(again[0], config, pid):
                return None
            head, text, seen = again
    if holder(repo) != pid:
        return None  # it died while we read: the log says so
    from swarmtui.gitquick import target_tip

    return fill(text, head["rows"], repo=str(repo), tip=target_tip(str(repo), head.get("target")),
                now=time.time())
