"""The attempt's ``signals.jsonl``, as the wrapper writes it: one redacted JSON line per
signal, appended under a lock (the output pump, the steering pipe, the request timeouts and the
setup all report), and bounded: past ``SIGNALS_MAX_BYTES`` a flood stops here while the exit
record still comes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from swarmtui.protocol import SIGNALS_FILE, SIGNALS_MAX_BYTES

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any


class SignalLog:
    def __init__(self, agent_dir: Path, redact: Callable[[str], str]) -> None:
        self.path = agent_dir / SIGNALS_FILE
        self.redact = redact
        self._lock = threading.Lock()

    def __call__(self, signals: list[dict[str, Any]]) -> None:
        if not signals:
            return
        try:
            with self._lock:
                if self.path.exists() and self.path.stat().st_size > SIGNALS_MAX_BYTES:
                    return
                with open(self.path, "a", encoding="utf-8") as f:
                    for s in signals:
                        f.write(self.redact(json.dumps({"t": time.time(), **s},
                                                       sort_keys=True)) + "\n")
        except OSError:
            pass
