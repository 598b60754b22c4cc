"""The agents table's rows, computed from the run state (pure: no Textual, no I/O).

The feed thread turns a ``RunState`` into these small frozen values; comparing them is how it
finds the rows that changed, so the UI touches only those. Styles are names of component
classes (``state--running``), coloured by theme variables in ``app.tcss``. Every word shown is
a label for people (``model/labels.py``), never an internal name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from rich.cells import cell_len

from swarmtui.config import Config
from swarmtui.engine.accounts.choose import limit_account
from swarmtui.model import ACTIVE, AttemptRec, Health, NoteKind, RunState, TaskState, TaskView
from swarmtui.model.attention import NONE_RANK, Need, need_of
from swarmtui.model.labels import HEALTH_LABEL, STATE_LABEL, cause_label
from swarmtui.render import format_age
from swarmtui.textsafe import term_safe


@dataclass(frozen=True)
class Cell:
    text: str
    style: str | None = None
    # Differently styled fragments (e.g. "+12" and "-3"); when set they replace ``text``.
    parts: tuple[tuple[str, str | None], ...] = ()

    @property
    def width(self) -> int:
        return len(self.text) if not self.parts else sum(len(s) for s, _ in self.parts)


@lru_cache(maxsize=8192)
def cell(text: str, style: str | None = None) -> Cell:
    """A plain cell, shared: most of a row's cells read the same from one build to the next,
    and a frozen dataclass costs more to make than to look up (the feed builds 250 rows a
    second for an idle fleet of 500)."""
    return Cell(text, style)


BLANK = Cell("")
DASH = Cell("-")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    max_width: int = 0  # 0: as wide as the widest value
    min_width: int = 0  # what it may shrink to when the screen is narrow (0: its label)
    meaning: str = ""  # for the legend


# Left to right in order of what matters at a glance. ID stays put when the table scrolls
# sideways; LAST PROGRESS takes the spare width of a wide screen.
COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", 24, 10, "the task (the detail panel's title adds the attempt)"),
    Column("state", "STATE", 0, 0, "where the task is: queued, running, passed, merged, ..."),
    Column("try", "TRY", 0, 0, "attempts used of the most it may have (1/3)"),
    Column("health", "HEALTH", 18, 8, "how the running agent is doing; what its CLI says"),
    Column("context", "CTX", 0, 0, "how full the agent's context window is after its latest "
           "turn (only agents that report it; the column shows once one does)"),
    Column("runtime", "RUN", 0, 0, "how long the current (or last) attempt ran"),
    Column("age", "AGE", 0, 0, "time since the agent's last progress line"),
    Column("progress", "LAST PROGRESS", 40, 16,
           "its newest progress line, or what it needs, why it waits or failed"),
    Column("title", "TITLE", 26, 10, "the task's title"),
    Column("role", "ROLE", 12, 6, "its slot pool"),
    Column("host", "HOST", 14, 6, "where its attempt runs: a [[hosts]] entry, or local (this "
           "machine); the column shows once the config has hosts"),
    Column("outputs", "OUT", 0, 0, "outputs the agent reported ([outputs: N])"),
    Column("diff", "DIFF", 0, 0, "lines added and removed since the attempt started"),
    Column("cost", "COST", 0, 0, "what its attempts cost"),
    Column("merge", "MERGE", 24, 8, "merge forecast: clean or conflict with the target; "
           "≠edit-b: conflicts with that branch; +scope: edits outside its files; "
           "↺: undoes ledger lines"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
CAPS = tuple(c.max_width for c in COLUMNS)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
RUNTIME, AGE = COLUMN_INDEX["runtime"], COLUMN_INDEX["age"]
HEALTH, PROGRESS = COLUMN_INDEX["health"], COLUMN_INDEX["progress"]
OUT, HOST = COLUMN_INDEX["outputs"], COLUMN_INDEX["host"]
# The columns that change with the clock alone (``Row.times``).
CLOCK_COLUMNS = frozenset({RUNTIME, AGE})

STATE_RANK = {s: i for i, s in enumerate((
    TaskState.RUNNING, TaskState.VERIFYING, TaskState.FAILED, TaskState.DEAD, TaskState.BLOCKED,
    TaskState.PENDING, TaskState.PASSED, TaskState.MERGED, TaskState.CANCELLED))}
_BAD_HEALTH = {Health.STUCK, Health.CRASHED, Health.ORPHAN, Health.LOST}
# Every other health value but ok (context filling, a failing check, ...) is a warning.
HEALTH_CLASS = {h: "ok" if h == Health.OK else "bad" if h in _BAD_HEALTH else "warn"
                for h in Health}
HEALTH_RANK = {"ok": 0, "warn": 1, "bad": 2}
# The HEALTH column's word for each value: 8 cells at most, so it is never cut at 80 columns
# (the detail panel, the alerts and the legend use the whole label).
HEALTH_WORD: dict[Health, str] = {
    Health.OK: "ok", Health.QUIET: "quiet", Health.STUCK: "stuck",
    Health.UNPRODUCTIVE: "unprod", Health.STALE_RESULT: "unmerged", Health.CRASHED: "crashed",
    Health.ORPHAN: "orphaned", Health.LOST: "lost", Health.CONTEXT: "context",
    Health.CHECK_FAILING: "chk fail",
}
NEED_WORD = {"permission": "perm", "held": "held", "input": "input"}
NOTE_WORD = {NoteKind.API_RETRY: "retrying", NoteKind.API_ERROR: "API err",
             NoteKind.USAGE_LIMITED: "limited", NoteKind.STOPPED_ON_ERROR: "stopped",
             NoteKind.STOPPED: "stopped"}

# Sort modes in the order ``s`` cycles through them; the first is the default.
SORT_MODES = ("attention", "added", "state", "health", "age", "runtime", "cost", "id")

# "part 3/14", "step 2 of 5": how far an agent says it is.
_FRACTION_RE = re.compile(r"\b(?:part|step|stage|phase|chunk|batch|item)\s+(\d{1,6})\s*"
                          r"(?:/|of)\s*(\d{1,6})\b", re.IGNORECASE)
BAR_CELLS = 5


@dataclass(frozen=True)
class Row:
    """One task's row. Its RUN and AGE cells are kept as instants (``run_since``,
    ``age_since``), not as words: "12s" turns into "13s" with no event, and a row that held
    the words would differ from itself every second, so every row would be rebuilt, compared
    and sent once a second. The table renders them when it paints (``times``)."""

    task: str
    cells: tuple[Cell, ...]  # RUN and AGE hold "" here: ``shown`` fills them in
    order: int  # position in the task file / order added
    state_rank: int
    health_rank: int
    need_rank: int  # attention.RANKS, NONE_RANK when the task needs nothing
    run_since: float | None  # a running attempt's start: RUN counts up from it
    run_for: float | None  # or how long a finished attempt ran (None with neither: "-")
    age_since: float | None  # an active task's last progress line (or start): AGE; else "-"
    cost: float
    search: str  # lower-case text the filter matches against
    # Each cell's width in cells, up to its column's cap (0 for RUN and AGE): measured here,
    # in the feed's thread, so the UI's loop does not measure every changed row again.
    lengths: tuple[int, ...] = ()

    @property
    def needs_you(self) -> bool:
        return self.need_rank < NONE_RANK

    def runtime(self, now: float) -> float | None:
        if self.run_since is not None:
            return round(now - self.run_since, 1)
        return self.run_for

    def age(self, now: float) -> float | None:
        return None if self.age_since is None else round(now - self.age_since, 1)

    def times(self, now: float) -> tuple[str, str]:
        """What RUN and AGE show at ``now``."""
        return format_age(self.runtime(now)), format_age(self.age(now))

    def shown(self, now: float) -> tuple[Cell, ...]:
        """The cells as shown at ``now`` (RUN and AGE filled in)."""
        run, age = self.times(now)
        cells = list(self.cells)
        cells[RUNTIME] = Cell(run, cells[RUNTIME].style)
        cells[AGE] = Cell(age, cells[AGE].style)
        return tuple(cells)

    def sort_key(self, mode: str, now: float = 0.0) -> tuple[Any, ...]:
        """The row's place in ``mode``. Only "runtime" moves with the clock (a running attempt
        overtakes a finished one); "age" orders by the instant, which keeps its order."""
        if mode == "attention":
            return (self.need_rank, self.state_rank, self.order)
        if mode == "state":
            return (self.state_rank, self.order)
        if mode == "health":
            return (-self.health_rank, self.state_rank, self.order)
        if mode == "age":
            return (self.age_since if self.age_since is not None else float("inf"), self.order)
        if mode == "runtime":
            return (-(self.runtime(now) or 0.0), self.order)
        if mode == "cost":
            return (-self.cost, self.order)
        if mode == "id":
            return (self.task,)
        return (self.order,)


@lru_cache(maxsize=4096)
def clip(s: str, n: int = 0) -> str:
    """One line, terminal-safe, cut to ``n`` characters (0: not cut). Remembered: a task's id,
    title and role are clipped again each time its row is built."""
    s = " ".join(term_safe(s).split())
    return s if not n or len(s) <= n else s[: n - 1] + "…"


def progress_fraction(text: str) -> tuple[int, int] | None:
    """(done, total) when a progress line says "part 3/14" or "step 2 of 5"."""
    m = _FRACTION_RE.search(text)
    if m is None:
        return None
    done, total = int(m.group(1)), int(m.group(2))
    return (done, total) if total > 0 and 0 <= done <= total else None


def bar(done: int, total: int, cells: int = BAR_CELLS) -> str:
    filled = round(cells * done / total) if total else 0
    return "█" * filled + "░" * (cells - filled)


def note(t: TaskView) -> str:
    """The most useful words about a task: why it waits or failed, else its last progress."""
    st = t.state
    if st in (TaskState.BLOCKED, TaskState.FAILED, TaskState.DEAD, TaskState.CANCELLED):
        return t.reason or cause_label(t.cause)
    if st == TaskState.PENDING:
        return f"retry: {t.reason}" if t.reason else "queued"
    if st in ACTIVE:
        if t.note and t.last_progress:
            return f"{t.note} · {t.last_progress}"
        return t.note or t.last_progress
    return t.summary


def progress_cell(t: TaskView, need: Need | None) -> Cell:
    if need is not None and need.urgent:
        return Cell(clip(need.text), "attention--urgent")
    text = clip(note(t))
    frac = progress_fraction(t.last_progress) if t.state in ACTIVE else None
    if frac is None:
        return Cell(text)
    return Cell(text, parts=((bar(*frac), "progress--bar"), (" " + text, None)))


def health_cell(t: TaskView, need: Need | None) -> Cell:
    """The health label of a live agent (or what its CLI says); finished tasks show none."""
    hclass = HEALTH_CLASS.get(t.health, "ok")
    if need is not None and need.kind in NEED_WORD:
        return cell(NEED_WORD[need.kind], "health--bad")
    if t.state in ACTIVE:
        word = NOTE_WORD.get(t.note_kind) if t.note_kind is not None else None
        if word is not None and t.health == Health.OK:
            return cell(word, "health--warn")
        return cell(HEALTH_WORD[t.health], f"health--{hclass}")
    if t.state == TaskState.PASSED and t.health == Health.STALE_RESULT:
        return cell(HEALTH_WORD[t.health], "health--warn")
    return BLANK


def host_cell(rec: AttemptRec | None, hosts: bool) -> Cell:
    """Where the task's attempt runs; "" on a run with no [[hosts]] (the column stays hidden)."""
    if rec is None:
        return DASH if hosts else BLANK
    if not hosts and rec.runner == "local":
        return BLANK
    return cell(clip(rec.runner))


def forecast_cell(fc: dict[str, Any] | None) -> Cell:
    if not fc or not fc.get("target"):
        return Cell("-")
    others = fc.get("conflicts_with") or []
    text = str(fc["target"])
    if others:
        text += " ≠" + ",".join(others)
    if fc.get("out_of_scope"):
        text += " +scope"
    if fc.get("reverts"):
        text += " ↺"
    bad = fc["target"] == "conflict" or others or fc.get("reverts")
    return Cell(clip(text), "forecast--conflict" if bad else "forecast--clean")


def diff_cell(diff: dict[str, Any] | None) -> Cell:
    if not diff:
        return Cell("-")
    ins, dels, files = diff.get("insertions", 0), diff.get("deletions", 0), diff.get("files", 0)
    if not ins and not dels and files:
        return Cell(f"{files} file{'s' if files != 1 else ''}")  # new files git cannot count yet
    return Cell("", parts=((f"+{ins}", "diff--add"), (" ", None), (f"-{dels}", "diff--del")))


def context_cell(t: TaskView, warn: float = 0.6, act: float = 0.8) -> Cell:
    """The context fill of a live agent that reports it ("" otherwise: the column hides while
    no agent does). ``warn`` and ``act`` are heartbeat.context_warn and context_act."""
    pct = t.context_pct
    if pct is None or t.state not in ACTIVE:
        return Cell("")
    level = "bad" if pct >= act * 100 else "warn" if pct >= warn * 100 else "ok"
    return Cell(f"{pct:.0f}%", f"health--{level}")


def context_words(t: TaskView) -> str:
    """ "62% of 200k tokens (124k, latest turn)", or "" when the agent reports none."""
    if t.context_pct is None:
        return ""
    tokens, window = t.context_tokens, t.context_window
    of = f" of {_k(window)} tokens" if window else ""
    used = f" ({_k(tokens)}, latest turn)" if tokens is not None else " (latest turn)"
    return f"{t.context_pct:.0f}%{of}{used}"


def _k(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 10_000 else str(n)


def make_row(t: TaskView, order: int, max_attempts: int,
             need: Need | None = None, context: tuple[float, float] = (0.6, 0.8),
             host: Cell = Cell("")) -> Row:
    """The task's row; nothing in it depends on the time (the caller's ``need`` may)."""
    active = t.state in ACTIVE
    hclass = HEALTH_CLASS.get(t.health, "ok")
    # As render.task_row counts them: an active attempt runs until now (unless its agent has
    # ended), a finished one ran until it ended.
    run_since = run_for = None
    if t.started_at is not None:
        if t.ended_at is not None:
            run_for = round(t.ended_at - t.started_at, 1)
        elif active:
            run_since = t.started_at
    age_since = None
    if active:
        # No progress line yet: silent since the start.
        age_since = t.last_progress_at if t.last_progress_at is not None else t.started_at
    cost = float(t.cost_usd or 0.0)
    health = health_cell(t, need)
    progress = progress_cell(t, need)
    cells = (
        cell(clip(t.id), "cell--id"),
        cell(STATE_LABEL[t.state], f"state--{t.state}"),
        cell(f"{t.attempt - t.attempt_base}/{t.spec.max_attempts or max_attempts}"),
        health,
        context_cell(t, *context),
        BLANK,  # RUN: Row.times
        cell("", f"health--{hclass}" if active and hclass != "ok" else None),  # AGE
        progress,
        cell(clip(t.spec.title)),
        cell(clip(t.spec.role)),
        host,
        DASH if t.outputs is None else cell(str(t.outputs)),
        diff_cell(t.diff),
        cell(f"${cost:.2f}") if cost else DASH,
        forecast_cell(t.forecast) if t.state not in (TaskState.MERGED, TaskState.CANCELLED)
        else DASH,  # a merged task's forecast is history
    )
    search = _search(t, health, host, progress, need)
    return Row(task=t.id, cells=cells, order=order, state_rank=STATE_RANK.get(t.state, 99),
               health_rank=HEALTH_RANK[hclass] if active or t.health != Health.OK else 0,
               need_rank=need.rank if need else NONE_RANK, run_since=run_since,
               run_for=run_for, age_since=age_since, cost=cost, search=search,
               lengths=tuple([min(n, cap) if cap else n
                              for n, cap in zip(map(_width, cells), CAPS, strict=True)]))


def _search(t: TaskView, health: Cell, host: Cell, progress: Cell, need: Need | None) -> str:
    return " ".join((t.id, t.spec.title, t.spec.role, STATE_LABEL[t.state], health.text,
                     HEALTH_LABEL[t.health], host.text, progress.text,
                     need.text if need else "")).lower()


def progressed_row(old: Row, t: TaskView, order: int, need: Need | None) -> Row:
    """``old`` after progress events alone (``feed.ROW_ONLY``): they move the task's last
    line, its time, its outputs and its note (a progress line clears a passing API retry), and
    nothing else a row shows; what needs the operator is asked again. The same row as
    ``make_row`` would build (a test holds them equal), for a third of its cost."""
    health, progress = health_cell(t, need), progress_cell(t, need)
    out = DASH if t.outputs is None else cell(str(t.outputs))
    cells, lengths = list(old.cells), list(old.lengths)
    for i, c in ((HEALTH, health), (PROGRESS, progress), (OUT, out)):
        cells[i] = c
        lengths[i] = min(_width(c), CAPS[i]) if CAPS[i] else _width(c)
    age_since = old.age_since
    if age_since is not None:  # active: silent since the last line, or since the start
        age_since = t.last_progress_at if t.last_progress_at is not None else t.started_at
    return replace(old, cells=tuple(cells), order=order,
                   need_rank=need.rank if need else NONE_RANK, age_since=age_since,
                   search=_search(t, health, old.cells[HOST], progress, need),
                   lengths=tuple(lengths))


def _width(c: Cell) -> int:
    """How many cells ``c`` takes on screen (the caller caps it at its column's width)."""
    if not c.parts:
        return len(c.text) if c.text.isascii() else cell_len(c.text)
    return sum(len(s) if s.isascii() else cell_len(s) for s, _ in c.parts)


def make_rows(state: RunState, config: Config, now: float,
              only: Collection[str] | None = None, previous: Mapping[str, Row] | None = None,
              progressed: Collection[str] = ()) -> dict[str, Row]:
    """The rows of every task, or of the tasks in ``only`` (those that had news). ``now``
    matters only for what needs the operator (a usage limit that has lifted). Tasks in
    ``progressed`` had only progress events since their row in ``previous`` was built."""
    ma = config.retry.max_attempts
    hb = config.heartbeat
    limits = (hb.context_warn, hb.context_act)
    hosts = bool(config.hosts)
    # The account each agent's work waits on (one on [[accounts]] waits only when all are).
    waits_on = {a: limit_account(state, config, a, now) for a in config.agents}
    out: dict[str, Row] = {}
    for i, t in enumerate(state.tasks.values()):
        if only is not None and t.id not in only:
            continue
        need = need_of(t, state, waits_on.get(t.spec.agent, config.account_of(t.spec.agent)),
                       now)
        old = previous.get(t.id) if previous is not None and t.id in progressed else None
        out[t.id] = progressed_row(old, t, i, need) if old is not None else make_row(
            t, i, ma, need, limits, host_cell(state.attempts.get(f"{t.id}-{t.attempt}"), hosts))
    return out
