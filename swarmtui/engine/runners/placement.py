"""Placement (pure): which host a new attempt runs on.

A host takes an attempt when it is reachable, takes the attempt's role, and has a free slot
(its own ``slots`` less the attempts whose process may still exist there). Among those, a host
already holding a clone of the repository comes first (no first push of the whole history),
then the one with the most free slots (the fleet spreads), then the order of the config (this
machine first). The total (``slots.max_agents``) is the scheduler's business, not this one's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    name: str
    slots: int
    roles: tuple[str, ...] = ()  # empty: every role
    reachable: bool = True
    has_clone: bool = True


def place(hosts: Sequence[Candidate], role: str, busy: Mapping[str, int]) -> str | None:
    best: tuple[int, int, int] | None = None
    chosen: str | None = None
    for order, h in enumerate(hosts):
        if not h.reachable or (h.roles and role not in h.roles):
            continue
        free = h.slots - busy.get(h.name, 0)
        if free <= 0:
            continue
        key = (0 if h.has_clone else 1, -free, order)
        if best is None or key < best:
            best, chosen = key, h.name
    return chosen
