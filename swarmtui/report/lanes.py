"""Timeline lanes: attempts placed greedily, by start time, in the first lane free by then.

Slots are a count, not places, so a lane is a drawing device: greedy assignment by start
time needs exactly as many lanes as the most attempts that ever ran at once (interval
colouring), so the number of lanes is the peak of slots in use.
"""

from __future__ import annotations

from collections.abc import Sequence


def assign_lanes(spans: Sequence[tuple[str, float, float]]) -> list[list[str]]:
    """Ids of ``(id, start, end)`` spans per lane. A span may start in a lane at the moment the
    lane's last span ends; ties in start time keep the given order."""
    lanes: list[list[str]] = []
    free_at: list[float] = []
    for sid, start, end in sorted(spans, key=lambda s: s[1]):
        for i, t in enumerate(free_at):
            if t <= start:
                lanes[i].append(sid)
                free_at[i] = max(end, start)
                break
        else:
            lanes.append([sid])
            free_at.append(max(end, start))
    return lanes
