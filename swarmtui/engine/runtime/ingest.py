"""Reading one attempt's protocol files so that no file an agent controls can block, exhaust or
blind the supervisor.

Every open goes through ``runtime.files`` (no symlinks followed, no FIFO or device opened,
regular files only), every read is bounded, and the loop only ever learns facts from here:

* progress.md is read from a byte offset; only complete lines count; a file that shrank or whose
  bytes before the offset changed (rewritten with ``>`` instead of appended) is read again from
  its start; a flood is coalesced (one event for the newest line, the rest counted): more than
  50 lines in one read, and more than one a second since the file was last read to its end;
* results.json is read only when it is no larger than its cap and complete: valid JSON that has
  not changed for a moment, or invalid JSON that stays invalid past a grace period (a writer
  that truncates first and writes later is not misread as invalid);
* exit.json is small and written atomically by the wrapper.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarmtui import boundedjson
from swarmtui import protocol as P
from swarmtui.agentfiles import AgentFileError, Results, parse_progress_line, parse_results
from swarmtui.engine.runtime.files import FileStat, Refused, read_small, read_under, stat_under
from swarmtui.model.kinds import Refusal
from swarmtui.textsafe import clean_text

PROGRESS_READ = 256 * 1024  # bytes of progress.md read per look
# Lines of one look that become events; beyond that, coalesced: at least 50, and one more per
# second since the file was last read to its end (up to 1000), so that an agent writing no
# faster than a line a second never has a line folded away because the loop read it late.
PROGRESS_LINES_EMITTED = 50
PROGRESS_LINES_PER_S = 1.0
PROGRESS_LINES_MAX = 1000
STATUS_CHARS = 500
LINE_CAP = 64 * 1024  # a "line" longer than this without a newline is cut there
RESULTS_CAP = 1024 * 1024
EXIT_CAP = 64 * 1024
RESULTS_SETTLE_NS = 250_000_000  # valid results.json untouched this long is complete
RESULTS_INVALID_GRACE_NS = 2_000_000_000  # invalid JSON must stay so this long
_CHECK_BYTES = 64  # bytes before the offset remembered to notice a rewrite
SIGNALS_PER_LOOK = 100
SIGNAL_LINE_CAP = 64 * 1024  # a signal line longer than this is skipped, not waited for


@dataclass(frozen=True)
class ProgressItem:
    status: str
    outputs: int | None
    n: int  # the count of lines read so far, this one included
    offset: int  # byte offset just past this line
    reread: bool = False
    skipped: int = 0  # lines before this one that were counted but not reported


@dataclass(frozen=True)
class ResultsSeen:
    results: Results | None = None
    invalid: str = ""
    wait: bool = False  # still being written: look again shortly


@dataclass(frozen=True)
class ResultsRefusal:
    """Why the attempt's results.json was not taken: typed, with the limit it went over."""

    refusal: Refusal
    limit: int | None
    why: str  # for people: names the file and what was expected


@dataclass(frozen=True)
class ExitRecord:
    how: str
    code: int | None
    signal: str | None
    data: dict[str, Any]


@dataclass
class AttemptFiles:
    """The reading position in one attempt's files. Lives in the loop thread only."""

    swarm: Path  # the trusted root: <repo>/.swarm
    aid: str
    progress_n: int = 0
    progress_offset: int = 0
    signals_offset: int = 0
    _check: bytes = b""
    _results_seen: tuple[int, int, int] | None = None  # (size, mtime_ns, ino) last parsed
    _progress_seen: FileStat | None = None  # progress.md as it was when last read to its end
    progress_read_ns: int = 0  # the loop's time.monotonic_ns() at that read (0: none since)
    # The run's clock at that read (None: not yet read; the reader starts it at the spawn).
    progress_since: float | None = None
    _since_before: float | None = None  # what it was before the last read moved it
    _results_done: bool = False
    refused: set[str] = field(default_factory=set)  # files already reported as refused
    # Why results.json was last refused (None once a good one was read): settling an attempt
    # without results says this rather than "it wrote none".
    results_refusal: ResultsRefusal | None = None
    _signals_skipping: bool = False  # inside a runaway signal line: skip to its end

    def _rel(self, name: str) -> str:
        return f"{P.AGENTS_DIR}/{self.aid}/{name}"

    def resume(self, n: int, offset: int) -> None:
        """Continue after what the log says was read (after a supervisor restart)."""
        self.progress_n, self.progress_offset = n, offset
        self._check, self._progress_seen = b"", None
        if offset:
            chunk = _safe(lambda: read_under(self.swarm, self._rel(P.PROGRESS_FILE),
                                             offset=max(0, offset - _CHECK_BYTES),
                                             limit=min(offset, _CHECK_BYTES)))
            if chunk is not None:
                self._check = chunk.data

    # -- progress ---------------------------------------------------------------------------

    def new_progress(self, now: float | None = None) -> list[ProgressItem]:
        """Progress lines appended since the last look (Refused propagates). ``now``: the
        run's clock, for how many lines may become events (``_emitted_at_most``)."""
        rel = self._rel(P.PROGRESS_FILE)
        # One open for the stat, the bytes before the read position (a rewritten file no
        # longer has them) and what follows it: three opens a line were most of its cost.
        back = len(self._check)  # never more than the offset: the bytes just before it
        chunk = read_under(self.swarm, rel, offset=self.progress_offset - back,
                           limit=back + PROGRESS_READ)
        if chunk is None:
            return []
        st = chunk.stat
        if st == self._progress_seen:  # nothing new: a look at an idle agent is one open
            self._read_to_end(st, now)
            return []
        reread = False
        data = chunk.data[back:]
        if st.size < self.progress_offset or chunk.data[:back] != self._check:
            self.progress_offset, self._check, reread = 0, b"", True
            chunk = read_under(self.swarm, rel, offset=0, limit=PROGRESS_READ)
            if chunk is None:
                return []
            data = chunk.data
        most = self._emitted_at_most(now)
        if chunk.stat == st and len(data) < PROGRESS_READ:
            # Read to its end (a partial last line is kept unread), or nothing past the offset.
            self._read_to_end(st, now)
        if not data:
            return []
        return self._lines(data, reread, most)

    def _read_to_end(self, st: FileStat, now: float | None) -> None:
        self._progress_seen, self.progress_read_ns = st, time.monotonic_ns()
        if now is not None:
            self._since_before, self.progress_since = self.progress_since, now

    def _emitted_at_most(self, now: float | None) -> int:
        """How many of the lines read now become events: what was written since the last read
        to the end, at a line a second, is never folded away (a loop far behind reads many)."""
        if now is None or self.progress_since is None:
            return PROGRESS_LINES_EMITTED
        due = int((now - self.progress_since) * PROGRESS_LINES_PER_S) + 1
        return max(PROGRESS_LINES_EMITTED, min(PROGRESS_LINES_MAX, due))

    def progress_read_to(self, st: FileStat) -> bool:
        """progress.md, as ``st`` describes it, was last read to its end: nothing new in it
        (what ``new_progress`` checks first, for a look taken elsewhere)."""
        return st == self._progress_seen

    def progress_read_since(self, ns: int) -> bool:
        """progress.md was read to its end after ``ns`` (the loop's ``time.monotonic_ns``):
        whatever was written before then has been read."""
        return self.progress_read_ns > ns

    def look_again(self) -> None:
        """Read progress.md from the read position next time, whatever its stat says (a
        rewrite that kept its size, time and inode is caught by the bytes before the offset)."""
        self._progress_seen, self.progress_read_ns = None, 0

    def _lines(self, data: bytes, reread: bool, most: int = PROGRESS_LINES_EMITTED
               ) -> list[ProgressItem]:
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < LINE_CAP:
                return []  # no complete line yet
            end = LINE_CAP - 1  # a runaway line: cut it so it cannot wedge reading
            data = data[:LINE_CAP - 1] + b"\n"
        base = self.progress_offset
        items: list[tuple[str, int | None, int]] = []
        pos = 0
        for raw in data[: end + 1].split(b"\n")[:-1]:
            pos += len(raw) + 1
            line = parse_progress_line(raw.decode("utf-8", "replace"))
            if line is not None:
                items.append((clean_text(line.status)[:STATUS_CHARS], line.outputs, base + pos))
        self.progress_offset = base + end + 1
        consumed = data[: end + 1]
        self._check = consumed[-_CHECK_BYTES:] if len(consumed) >= _CHECK_BYTES else (
            self._check + consumed)[-_CHECK_BYTES:]
        out: list[ProgressItem] = []
        keep = items[-most:]
        skipped = len(items) - len(keep)
        n = self.progress_n + skipped
        for i, (status, outputs, offset) in enumerate(keep):
            n += 1
            out.append(ProgressItem(status=status, outputs=outputs, n=n, offset=offset,
                                    reread=reread and i == 0, skipped=skipped if i == 0 else 0))
        self.progress_n = n
        return out

    # -- signals (what the agent CLI said about itself) -----------------------------------

    def new_signals(self) -> list[tuple[dict[str, Any], int]]:
        """Signal lines appended since the last look: (JSON object, offset just past it).
        Each line is bounded (size and nesting) before it is parsed; a line over the cap is
        skipped to its end rather than waited for, so it cannot wedge the file."""
        chunk = read_under(self.swarm, self._rel(P.SIGNALS_FILE), offset=self.signals_offset,
                           limit=PROGRESS_READ)
        if chunk is None or not chunk.data:
            return []
        if chunk.stat.size < self.signals_offset:
            self.signals_offset = 0  # replaced: start again
            return []
        data = chunk.data
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) >= SIGNAL_LINE_CAP:  # a runaway line: drop what there is of it
                self.signals_offset += len(data)
                self._signals_skipping = True
            return []
        base = self.signals_offset
        self.signals_offset += end + 1
        out: list[tuple[dict[str, Any], int]] = []
        pos = 0
        for raw in data[: end + 1].split(b"\n")[:-1]:
            pos += len(raw) + 1
            if self._signals_skipping:  # the end of a runaway line
                self._signals_skipping = False
                continue
            obj = signal_object(raw)
            if obj is not None:
                out.append((obj, base + pos))
        return out[-SIGNALS_PER_LOOK:]

    def rollback_progress(self, n: int, offset: int) -> None:
        """Forget lines that could not be recorded (the store refused them)."""
        self.progress_n, self.progress_offset, self._check = n, offset, b""
        self.progress_since = self._since_before
        self.look_again()

    # -- results ----------------------------------------------------------------------------

    def results(self, now_ns: int, *, final: bool = False) -> ResultsSeen | None:
        """The agent's results when complete; None when there is none (or nothing new).
        Raises Refused (typed) for a file that is not taken: too large, too deep, a link,
        another user's, or one that names another attempt.

        ``final``: the agent has exited, so the file is as complete as it will ever be."""
        if self._results_done:
            return None
        rel = self._rel(P.RESULTS_FILE)
        try:
            st = stat_under(self.swarm, rel)
            if st is None:
                return None
            if st.size > RESULTS_CAP:
                raise Refused(f"it is {st.size} bytes, over the {RESULTS_CAP}-byte cap",
                              Refusal.TOO_LARGE, RESULTS_CAP)
            sig = (st.size, st.mtime_ns, st.ino)
            if sig == self._results_seen:
                return None
            chunk = read_small(self.swarm, rel, cap=RESULTS_CAP)
        except Refused as e:
            self.results_refusal = ResultsRefusal(e.refusal, e.limit,
                                                  f"{P.RESULTS_FILE} refused: {e}")
            raise
        if chunk is None:
            return None
        age = now_ns - chunk.stat.mtime_ns
        if final:
            age = RESULTS_INVALID_GRACE_NS
        try:
            text = chunk.data.decode("utf-8")
        except UnicodeDecodeError as e:
            return self._invalid(chunk.stat, age, f"{P.RESULTS_FILE}: not UTF-8 (byte {e.start})")
        try:
            res = parse_results(text, where=P.RESULTS_FILE, agent_id=self.aid)
        except AgentFileError as e:
            if e.refusal != Refusal.INVALID:  # over a limit, or another attempt's: refused
                self._results_seen = sig
                self.results_refusal = ResultsRefusal(e.refusal, e.limit,
                                                      clean_text(str(e))[:1000])
                raise Refused(str(e).removeprefix(f"{P.RESULTS_FILE} refused: "), e.refusal,
                              e.limit) from None
            return self._invalid(chunk.stat, age, str(e))
        if age < RESULTS_SETTLE_NS:
            return ResultsSeen(wait=True)
        self._results_seen = sig
        self._results_done = True
        self.results_refusal = None
        return ResultsSeen(results=_clean_results(res))

    def results_unseen(self, st: FileStat) -> bool:
        """results.json, as ``st`` describes it, may say something ``results`` has not taken:
        it is not yet done with, and the file is not the one it last parsed."""
        return not self._results_done and (st.size, st.mtime_ns, st.ino) != self._results_seen

    def _invalid(self, st: FileStat, age: int, error: str) -> ResultsSeen:
        if age < RESULTS_INVALID_GRACE_NS:
            return ResultsSeen(wait=True)
        self._results_seen = (st.size, st.mtime_ns, st.ino)
        why = clean_text(error)[:1000]
        self.results_refusal = ResultsRefusal(Refusal.INVALID, None, why)
        return ResultsSeen(invalid=why)

    def results_again(self) -> None:
        """After an operator's verify: the same results.json may be read once more."""
        self._results_done = False
        self._results_seen = None

    # -- exit -------------------------------------------------------------------------------

    def exit_record(self) -> ExitRecord | None:
        chunk = read_small(self.swarm, self._rel(P.EXIT_FILE), cap=EXIT_CAP)
        if chunk is None:
            return None
        try:
            data = boundedjson.loads(chunk.data, max_chars=EXIT_CAP)
        except boundedjson.JsonRefused as e:
            raise Refused(str(e), Refusal(e.refusal), e.limit) from None
        except ValueError:
            return None  # written atomically, so a partial read is a race: look again later
        if not isinstance(data, dict):
            return None
        how = str(data.get("how") or ("orphaned" if data.get("reason") == "orphan" else
                                      "terminated" if data.get("signal") else "exited"))
        code = data.get("code")
        sig = data.get("signal")
        return ExitRecord(how=how, code=code if isinstance(code, int) else None,
                          signal=str(sig) if isinstance(sig, str) else None, data=data)

    def pgid(self) -> int | None:
        """The agent's process group as its wrapper recorded it."""
        return self._pid_file(P.AGENT_PGID_FILE)

    def wrapper_pid(self) -> int | None:
        return self._pid_file(P.WRAP_PID_FILE)

    def _pid_file(self, name: str) -> int | None:
        """A process id the wrapper wrote (bounded, never followed); None unless it is one."""
        try:
            chunk = read_small(self.swarm, self._rel(name), cap=64)
        except (Refused, OSError):
            return None
        if chunk is None:
            return None
        text = chunk.data.decode("ascii", "replace").strip()
        return int(text) if text.isdigit() and int(text) > 1 else None


def signal_object(raw: bytes) -> dict[str, Any] | None:
    """One signals.jsonl line as an object with a ``kind``, or None: over the line cap, nested
    too deep, not JSON, or not such an object."""
    try:
        obj = boundedjson.loads(raw, max_chars=SIGNAL_LINE_CAP)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("kind"), str) else None


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except (Refused, OSError):
        return None


def _clean_results(res: Results) -> Results:
    return Results(status=res.status, summary=clean_text(res.summary)[:20_000],
                   files_modified=tuple(clean_text(f)[:500] for f in res.files_modified[:2000]),
                   do_not_revert=res.do_not_revert, outputs=res.outputs,
                   extra=res.extra)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


class AgentFolders:
    """Every attempt's reader of its protocol folder, made once and kept (the offsets already
    read live in it): the supervisor's one view of what agents wrote."""

    def __init__(self, swarm: Path) -> None:
        self.swarm = swarm
        self.by_agent: dict[str, AttemptFiles] = {}

    def of(self, task: str, attempt: int, *, lines: int = 0, offset: int = 0,
           signals_offset: int = 0) -> AttemptFiles:
        """The attempt's reader; a new one carries on after what the log says was read
        (``lines``, ``offset`` of progress, ``signals_offset``), as after a restart."""
        aid = P.agent_id(task, attempt)
        f = self.by_agent.get(aid)
        if f is None:
            f = self.by_agent[aid] = AttemptFiles(self.swarm, aid)
            if lines:
                f.resume(lines, offset)
            f.signals_offset = signals_offset
        return f
