"""What needs the operator, task by task, most urgent first (pure: no Textual, no I/O).

The default sort of the agents table, the attention filter, the "needs you" count of the top bar
and its jump key all read ``need_of``. The order is what an operator has to act on first: an
agent blocked on a permission or an input only a person can give, then a merge that cannot
land, then tasks that will not move again by themselves, then agents going wrong, then results
waiting to be merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from swarmtui.model import ACTIVE, Cause, DeadWhy, Health, RunState, TaskState, TaskView
from swarmtui.model.labels import HEALTH_LABEL, cause_label

# (kind, rank): a lower rank needs the operator sooner.
RANKS: dict[str, int] = {
    "permission": 0, "input": 0, "held": 0,
    "conflict": 1,
    "dead": 2, "agent-held": 2,
    "stuck": 3,
    "quiet": 4,
    "usage": 5,
    "failed": 6,
    "stale": 7,
}
NONE_RANK = 99  # nothing to do


@dataclass(frozen=True)
class Need:
    kind: str  # a key of RANKS
    text: str  # what the operator reads: "needs permission: Bash(git add:*)"

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


def _blocked_on_you(t: TaskView, state: RunState) -> Need | None:
    """Permission, input or a held text: nothing moves until the operator acts."""
    if t.held:
        return Need("held", f"prompt held for review ({t.held}): approve or reject it")
    held = next((h for h in state.quarantine.values() if h.task == t.id and h.state == "held"),
                None)
    if held is not None:
        return Need("held", f"text from its {held.source} held for review ({held.qid}): "
                    "approve or reject it")
    if t.state in (TaskState.MERGED, TaskState.CANCELLED):
        return None
    if t.denied and (t.state in ACTIVE or t.cause == Cause.NEEDS_PERMISSION
                     or t.state in (TaskState.FAILED, TaskState.DEAD)):
        return Need("permission", "needs permission: " + ", ".join(t.denied))
    if t.cause == Cause.NEEDS_PERMISSION and t.state in (TaskState.FAILED, TaskState.DEAD):
        return Need("permission", "needs permission: " + (_one_line(t.reason) or "see its log"))
    if t.state in ACTIVE and t.note.startswith(("waiting for input", "waiting for permission")):
        return Need("input", t.note)
    return None


def _merge_problem(t: TaskView) -> Need | None:
    if t.state != TaskState.PASSED:
        return None
    fc = t.forecast or {}
    if fc.get("target") == "conflict":
        files = ", ".join(fc.get("files") or []) or "its files"
        return Need("conflict", f"merge conflict with the target in {files}")
    if t.conflicts:
        return Need("conflict", f"merge conflict in {', '.join(t.conflicts)}")
    if t.merge_note:
        return Need("conflict", f"merge refused: {_one_line(t.merge_note)}")
    return None


def _stopped(t: TaskView, state: RunState) -> Need | None:
    """Tasks that will not move again by themselves, or whose agent config is held."""
    if t.state == TaskState.DEAD:
        what = "needs you" if t.dead_why == DeadWhy.NEEDS_OPERATOR else "dead"
        return Need("dead", f"{what}: {_one_line(t.reason) or cause_label(t.cause)}")
    if t.state in (TaskState.PENDING, TaskState.FAILED) and t.spec.agent in state.held_agents:
        return Need("agent-held", f"agent {t.spec.agent} held: "
                    f"{_one_line(state.held_agents[t.spec.agent])}")
    return None


def _going_wrong(t: TaskView) -> Need | None:
    if t.state not in ACTIVE:
        return None
    if t.health in (Health.STUCK, Health.CRASHED, Health.ORPHAN, Health.LOST):
        return Need("stuck", HEALTH_LABEL[t.health])
    if t.health in (Health.QUIET, Health.UNPRODUCTIVE):
        return Need("quiet", HEALTH_LABEL[t.health])
    return None


def _limited(t: TaskView, state: RunState, account: str, now: float) -> Need | None:
    if t.state in (TaskState.MERGED, TaskState.CANCELLED, TaskState.PASSED):
        return None
    lim = state.usage_limits.get(account)
    limited = t.cause == Cause.USAGE_LIMITED or t.note.startswith("usage-limited")
    if lim is not None and lim.until > now and (limited or t.state == TaskState.PENDING):
        until = datetime.fromtimestamp(lim.until).strftime("%H:%M")
        kind = f" ({lim.limit_type.replace('_', ' ')})" if lim.limit_type else ""
        return Need("usage", f"usage-limited until {until}{kind}")
    if limited and t.state != TaskState.PENDING:
        return Need("usage", "usage-limited")
    return None


def need_of(t: TaskView, state: RunState, account: str, now: float) -> Need | None:
    """The most urgent thing ``t`` needs from the operator, or None."""
    for need in (_blocked_on_you(t, state), _merge_problem(t), _stopped(t, state),
                 _going_wrong(t), _limited(t, state, account, now)):
        if need is not None:
            return need
    if t.state == TaskState.FAILED:
        why = _one_line(t.reason) or cause_label(t.cause) or "failed"
        return Need("failed", f"failed: {why}")
    if t.state == TaskState.PASSED and t.health == Health.STALE_RESULT:
        return Need("stale", "passed, waiting to be merged")
    return None
