"""Tasks added at run time (``swarmtui add``, a spawn): checked against the run's tasks."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from swarmtui.model import TaskSpec
from swarmtui.tasks.checks import (
    _check_files,
    _check_id,
    _check_max_attempts,
    _check_member,
    _Problems,
    _q,
)


def validate_new_task(
    spec: TaskSpec,
    *,
    existing: Mapping[str, TaskSpec] | Collection[str],
    roles: Collection[str],
    agents: Collection[str],
    where: str,
) -> None:
    """Check a task added at run time (``swarmtui add``, a spawn) against the run's tasks.

    ``existing`` holds the run's task ids (a mapping is read by its keys). Raises
    ``TaskFileError`` whose lines start with ``where``.
    """
    problems = _Problems(where)
    report = problems.for_task(f"task {_q(spec.id)}")
    ids = list(existing)
    if _check_id(spec.id, report) is not None:
        folded = {e.casefold(): e for e in ids}
        other = folded.get(spec.id.casefold())
        if other == spec.id:
            report("id", f"duplicate id: the run already has a task {_q(spec.id)}")
        elif other is not None:
            report("id", f"differs only in letter case from the existing task {_q(other)}")
    _check_member("role", spec.role, roles, report)
    _check_member("agent", spec.agent, agents, report)
    _check_files(list(spec.files), report)  # the same path rules as task files
    if not spec.prompt.strip():
        report("prompt", "expected a non-empty prompt")
    if spec.max_attempts is not None:
        _check_max_attempts(spec.max_attempts, report)
    known = set(ids)
    for dep in spec.depends_on:
        if dep == spec.id:
            # Existing tasks cannot depend on a task not yet added, so this is the only cycle.
            problems.add(None, None, f"dependency cycle: {spec.id} -> {spec.id}")
        elif dep not in known:
            report("depends_on", f"names unknown task {_q(dep)}")
    problems.raise_if_any()
