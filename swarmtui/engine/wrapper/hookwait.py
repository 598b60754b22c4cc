"""The hooks an agent CLI ran as it exited, waited for by its wrapper before the attempt is
settled: each keeps its payload (``.hook.<Event>.*``) in the attempt's folder until its
detached reader (``python -m swarmtui.hook``) has written its line."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from swarmtui.engine.runtime import proc as procs

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

HOOK_WAIT_S = 5.0  # a hook's payload still waiting for its line, at most this long


def await_hooks(agent_dir: Path, record: Callable[[list[dict[str, Any]]], None]) -> None:
    """Wait (bounded) for the payloads while a reader may still run. One that can no longer
    (a sandbox ends every process in it with the agent) is finished here, so its line still
    lands (``record`` takes it as the reader would have)."""
    deadline = time.monotonic() + HOOK_WAIT_S
    while time.monotonic() < deadline:
        if not hook_files(agent_dir):
            return
        if not procs.descendants(os.getpid()):  # no reader left to write them
            from swarmtui.hook import finish_hook  # only then: a wrapper's start stays small

            for name in hook_files(agent_dir):
                record(finish_hook(agent_dir / name))
            return
        time.sleep(0.05)  # the hook is another process; its file going is the only sign


def hook_files(agent_dir: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(agent_dir) if n.startswith(".hook."))
    except OSError:
        return []
