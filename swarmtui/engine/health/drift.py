"""Scope drift while an agent works: the files it changed that its task's ``files`` do not cover.

Drift from the declared scope is an early sign of a confused agent, so it is shown while the
agent works, not only when a merge refuses it. Nothing extra runs for it: the watchdog's
productivity sample already lists the worktree's changed paths (committed, uncommitted and
untracked, in a git worker), and they are read with the same globs as the merge's check
(``scope.out_of_scope``). A ``scope_drift`` event is recorded when the set changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from swarmtui.engine.ports import Ports
from swarmtui.engine.scope import out_of_scope
from swarmtui.model import TaskView
from swarmtui.model import payloads as p
from swarmtui.model.payloads.readings import DRIFT_FILES_CAP
from swarmtui.textsafe import clean_text

PATH_CHARS = 300


def drifted(paths: Sequence[str], scope: tuple[str, ...]) -> list[str]:
    """The changed paths outside ``scope``, sorted (an empty scope declares nothing)."""
    return sorted(set(out_of_scope(list(paths), scope)))


def record_drift(ports: Ports, t: TaskView, paths: Sequence[str]) -> None:
    """On the loop, with a productivity sample's paths of the task's current attempt."""
    if not t.spec.files:
        return
    outside = drifted(paths, t.spec.files)
    # Paths are names the agent chose: cleaned and bounded before they enter the log.
    shown = [clean_text(f)[:PATH_CHARS] for f in outside[:DRIFT_FILES_CAP]]
    if shown == t.drift:
        return
    ports.emit(p.ScopeDrift(files=shown, count=len(outside)), t.id, t.attempt)
