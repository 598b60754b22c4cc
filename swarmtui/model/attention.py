"""What needs the operator, task by task, most urgent first (pure: no I/O).

This is the one place that decides it: the TUI's default sort, its attention filter, the
"needs you" count of its top bar and its jump key, and ``swarmtui status --json``'s
``needs_you`` all read ``need_of``. The order is what an operator has to act on first: an agent
blocked on a permission or an input only a person can give, then a merge that cannot land, then
tasks that will not move again by themselves, then agents going wrong, then results waiting to
be merged.

Every decision here reads typed fields of the projection (state, cause, health, the note's
kind, the forecast's verdict); the words of a note or a reason are only shown, never tested.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swarmtui.model.kinds import Cause, DeadWhy, Health, NoteKind, TaskState
from swarmtui.model.labels import HEALTH_LABEL, cause_label
from swarmtui.model.state import ACTIVE, RunState, TaskView
from swarmtui.model.steering import asking_text


class NeedKind(StrEnum):
    """Why a task needs the operator (``status --json``'s ``needs_you[].kind``)."""

    ASKS = "asks"  # its live agent waits, now, for a tool's permission (allow or deny it)
    PERMISSION = "permission"  # its agent was denied a tool, or stopped needing a permission
    INPUT = "input"  # its agent waits for a person's input or permission prompt
    HELD = "held"  # its prompt, or text from it, is held for review
    CONFLICT = "conflict"  # its passed work cannot merge (conflict, or the merge was refused)
    DEAD = "dead"  # it will not move again by itself
    AGENT_HELD = "agent-held"  # its agent config is held (the breaker for one agent)
    STUCK = "stuck"  # its agent is stuck, crashed, orphaned or lost
    QUIET = "quiet"  # its agent is quiet or unproductive
    USAGE = "usage"  # its account is usage-limited
    FAILED = "failed"  # its attempt failed and no retry follows by itself yet
    STALE = "stale"  # passed, waiting to be merged


# A lower rank needs the operator sooner.
RANKS: dict[str, int] = {
    NeedKind.ASKS: -1, NeedKind.PERMISSION: 0, NeedKind.INPUT: 0, NeedKind.HELD: 0,
    NeedKind.CONFLICT: 1,
    NeedKind.DEAD: 2, NeedKind.AGENT_HELD: 2,
    NeedKind.STUCK: 3,
    NeedKind.QUIET: 4,
    NeedKind.USAGE: 5,
    NeedKind.FAILED: 6,
    NeedKind.STALE: 7,
}
NONE_RANK = 99  # nothing to do


@dataclass(frozen=True)
class Need:
    kind: NeedKind
    text: str  # what the operator reads: "needs permission: Bash(git add:*)"
    command: str | None = None  # the swarmtui command that acts on it (None: it waits)

    @property
    def rank(self) -> int:
        return RANKS[self.kind]

    @property
    def urgent(self) -> bool:
        """Shown in place of the last progress line (the agent cannot go on without you)."""
        return self.rank <= 1


def _one_line(s: str, n: int = 120) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _cmd(*argv: str) -> str:
    return shlex.join(["swarmtui", *argv])


def _blocked_on_you(t: TaskView, state: RunState) -> Need | None:
    """Permission, input or a held text: nothing moves until the operator acts."""
    if t.asks and t.state in ACTIVE:
        return Need(NeedKind.ASKS, asking_text(t), _cmd("allow", f"{t.id}#{t.asks[0].n}"))
    if t.held:
        return Need(NeedKind.HELD, f"prompt held for review ({t.held}): approve or reject it",
                    _cmd("approve", t.held))
    held = next((h for h in state.quarantine.values() if h.task == t.id and h.state == "held"),
                None)
    if held is not None:
        return Need(NeedKind.HELD, f"text from its {held.source} held for review ({held.qid}): "
                    "approve or reject it", _cmd("approve", held.qid))
    if t.state in (TaskState.MERGED, TaskState.CANCELLED):
        return None
    if t.denied and (t.state in ACTIVE or t.cause == Cause.NEEDS_PERMISSION
                     or t.state in (TaskState.FAILED, TaskState.DEAD)):
        allow = [a for rule in t.denied for a in ("--allow", rule)]
        return Need(NeedKind.PERMISSION, "needs permission: " + ", ".join(t.denied),
                    _cmd("retry", t.id, *allow))
    if t.cause == Cause.NEEDS_PERMISSION and t.state in (TaskState.FAILED, TaskState.DEAD):
        return Need(NeedKind.PERMISSION, "needs permission: " + (_one_line(t.reason)
                                                                 or "see its log"),
                    _cmd("retry", t.id))
    if t.state in ACTIVE and t.note_kind == NoteKind.INTERRUPTED:
        return Need(NeedKind.INPUT, t.note, _cmd("send", t.id, "TEXT"))
    if t.state in ACTIVE and t.note_kind in (NoteKind.WAITING_INPUT,
                                             NoteKind.WAITING_PERMISSION):
        # An interactive screen takes a message typed in by `send`, or by you in its window.
        return Need(NeedKind.INPUT, t.note, _cmd("send", t.id, "TEXT") if (
            t.interactive and t.note_kind == NoteKind.WAITING_INPUT) else _cmd("attach"))
    return None


def _merge_problem(t: TaskView) -> Need | None:
    if t.state != TaskState.PASSED:
        return None
    fc = t.forecast or {}
    if fc.get("target") == "conflict":
        files = ", ".join(fc.get("files") or []) or "its files"
        return Need(NeedKind.CONFLICT, f"merge conflict with the target in {files}",
                    _cmd("resolve", t.id))
    if t.conflicts:
        return Need(NeedKind.CONFLICT, f"merge conflict in {', '.join(t.conflicts)}",
                    _cmd("resolve", t.id))
    if t.merge_note:
        return Need(NeedKind.CONFLICT, f"merge refused: {_one_line(t.merge_note)}",
                    _cmd("merge", t.id))
    return None


def _stopped(t: TaskView, state: RunState) -> Need | None:
    """Tasks that will not move again by themselves, or whose agent config is held."""
    if t.state == TaskState.DEAD:
        what = "needs you" if t.dead_why == DeadWhy.NEEDS_OPERATOR else "dead"
        return Need(NeedKind.DEAD, f"{what}: {_one_line(t.reason) or cause_label(t.cause)}",
                    _cmd("retry", t.id))
    if t.state in (TaskState.PENDING, TaskState.FAILED) and t.spec.agent in state.held_agents:
        return Need(NeedKind.AGENT_HELD, f"agent {t.spec.agent} held: "
                    f"{_one_line(state.held_agents[t.spec.agent])}", _cmd("resume"))
    return None


def _going_wrong(t: TaskView) -> Need | None:
    if t.state not in ACTIVE:
        return None
    if t.health in (Health.STUCK, Health.CRASHED, Health.ORPHAN, Health.LOST):
        return Need(NeedKind.STUCK, HEALTH_LABEL[t.health], _cmd("retry", t.id))
    if t.health in (Health.QUIET, Health.UNPRODUCTIVE):
        return Need(NeedKind.QUIET, HEALTH_LABEL[t.health], _cmd("attach"))
    return None


def _limited(t: TaskView, state: RunState, account: str, now: float) -> Need | None:
    if t.state in (TaskState.MERGED, TaskState.CANCELLED, TaskState.PASSED):
        return None
    lim = state.usage_limits.get(account)
    limited = t.cause == Cause.USAGE_LIMITED or t.note_kind == NoteKind.USAGE_LIMITED
    if lim is not None and lim.until > now and (limited or t.state == TaskState.PENDING):
        until = datetime.fromtimestamp(lim.until).strftime("%H:%M")
        kind = f" ({lim.limit_type.replace('_', ' ')})" if lim.limit_type else ""
        return Need(NeedKind.USAGE, f"usage-limited until {until}{kind}")
    if limited and t.state != TaskState.PENDING:
        return Need(NeedKind.USAGE, "usage-limited")
    return None


def need_of(t: TaskView, state: RunState, account: str, now: float) -> Need | None:
    """The most urgent thing ``t`` needs from the operator, or None. ``account`` is the usage
    account of the task's agent (``Config.account_of``)."""
    for need in (_blocked_on_you(t, state), _merge_problem(t), _stopped(t, state),
                 _going_wrong(t), _limited(t, state, account, now)):
        if need is not None:
            return need
    if t.state == TaskState.FAILED:
        why = _one_line(t.reason) or cause_label(t.cause) or "failed"
        return Need(NeedKind.FAILED, f"failed: {why}", _cmd("retry", t.id))
    if t.state == TaskState.PASSED and t.health == Health.STALE_RESULT:
        return Need(NeedKind.STALE, "passed, waiting to be merged", _cmd("merge", t.id))
    return None


def needs_you(state: RunState, account_of: Callable[[str], str], now: float
              ) -> list[tuple[TaskView, Need]]:
    """Every task that needs the operator with what it needs, most urgent first (then in the
    order the tasks were added). ``account_of`` maps an agent config's name to its account."""
    found = [(t, n) for t in state.tasks.values()
             if (n := need_of(t, state, account_of(t.spec.agent), now)) is not None]
    return [pair for _, pair in sorted(enumerate(found), key=lambda x: (x[1][1].rank, x[0]))]
