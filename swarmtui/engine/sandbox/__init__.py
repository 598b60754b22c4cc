"""The OS box an attempt runs in (bubblewrap on Linux): the argv around the agent's command,
its mounts, the probe that says whether it works here, the per-attempt git refs it commits to
and the channel through which it asks the supervisor for things as itself."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any



def box_asked(extra: dict[str, Any]) -> bool:
    """Whether an attempt's ``launch.json`` (its ``extra``) asks for a box. Here, not in
    ``box.py``: the wrapper imports the box's modules only when it is asked for, since every
    spawn pays for what a wrapper imports (docs/performance.md, "Spawning N")."""
    sb = extra.get("sandbox")
    return isinstance(sb, dict) and sb.get("mode") == "bwrap"
