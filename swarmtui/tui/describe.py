"""What a confirmation says before an action (pure): the merge forecast, the rules a grant
adds, what a cancel takes with it. Each returns the lines to show and the problems that ask
for a second confirmation."""

from __future__ import annotations

from typing import Any

from swarmtui.model import TaskState, TaskView
from swarmtui.model.labels import STATE_LABEL
from swarmtui.textsafe import term_safe


def _list(items: list[str], n: int = 6) -> str:
    shown = [term_safe(x) for x in items[:n]]
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(shown) + more


def agent(t: TaskView) -> str:
    return f"{t.id}-{t.attempt}" if t.attempt else t.id


def merge_forecast(t: TaskView, target: str) -> tuple[list[str], list[str]]:
    """(lines, problems) of merging ``t`` into ``target``, from its recorded forecast."""
    lines: list[str] = []
    problems: list[str] = []
    if t.state != TaskState.PASSED:
        problems.append(f"it is {STATE_LABEL[t.state]}: only a passed task can be merged")
    if t.diff:
        n = t.diff.get("files", 0)
        lines.append(f"changes: +{t.diff.get('insertions', 0)} -{t.diff.get('deletions', 0)} "
                     f"in {n} file{'s' if n != 1 else ''}")
    fc: dict[str, Any] = t.forecast or {}
    if not fc.get("target"):
        lines.append("forecast: none yet (the merge checks for conflicts when it runs)")
    elif fc["target"] == "clean":
        lines.append(f"forecast: merges cleanly into {target}")
    else:
        problems.append(f"conflicts with {target} in {_list(fc.get('files') or []) or 'files'}")
    if fc.get("conflicts_with"):
        problems.append(f"conflicts with the branches of {_list(fc['conflicts_with'])}: they "
                        "will need a resolve once this lands")
    if fc.get("out_of_scope"):
        problems.append(f"edits files outside its declared scope: {_list(fc['out_of_scope'])}")
    for r in (fc.get("reverts") or [])[:4]:
        who, where = term_safe(str(r.get("task"))), term_safe(str(r.get("file")))
        problems.append(f"undoes {r.get('lines', '?')} ledger line(s) of {who} in {where}")
    if t.merge_note:
        problems.append(f"its last merge was refused: {term_safe(t.merge_note)}")
    if t.review:
        verdict = t.review.get("verdict") or ("no review" if not t.review.get("ok") else "?")
        lines.append(f"review: {term_safe(str(verdict))}")
    return lines, problems


def grant_lines(t: TaskView) -> list[str]:
    rules = [term_safe(r) for r in t.denied]
    return [f"allow {r}" for r in rules] + [
        "from then on for this task (a fresh attempt starts with them), as "
        f"`swarmtui retry {t.id} --allow RULE` does"]


def cancel_lines(t: TaskView, state: dict[str, TaskView]) -> list[str]:
    deps = [d.id for d in state.values() if t.id in d.spec.depends_on
            and d.state not in (TaskState.MERGED, TaskState.CANCELLED)]
    out = ["its agent is ended if it is running; worktree and branch are kept until gc"]
    if deps:
        out.append(f"tasks depending on it die: {_list(deps)}")
    return out
