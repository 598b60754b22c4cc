"""Why a file an agent wrote was not taken. Its own module, outside the model package: the
wrapper and the safe readers use it, and importing ``swarmtui.model`` (every payload, pydantic)
costs each agent launch a third of a second."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Why a file an agent wrote was not taken (``file_refused``; the limit travels with it)."""

    TOO_LARGE = "too_large"  # over its byte cap
    TOO_DEEP = "too_deep"  # JSON nested deeper than the limit
    LINK = "link"  # a symbolic link (anywhere below .swarm)
    NOT_REGULAR = "not_regular"  # a FIFO, device, socket or directory
    NOT_OWNED = "not_owned"  # owned by another user than swarmtui's
    WRONG_AGENT = "wrong_agent"  # says it belongs to another attempt than its folder's
    INVALID = "invalid"  # not JSON, or not the shape the protocol asks for
    FORGED = "forged"  # an exit record written while the agent still runs
