"""Snapshots of a run's projection, so that ``status``, ``watch`` and a restarted supervisor fold
only the events after the newest snapshot instead of the whole log.

A snapshot is a cache, never the truth: the log stays complete, and a snapshot that is missing,
unreadable or made by other model code is ignored (the reader replays from the start). It is a
pickle of the ``RunState``, tagged with a fingerprint of the code that folds events (the model
package, the legacy decoder and this store's row decoding) and the Python version: any change to
that code makes every older snapshot unusable rather than subtly wrong. Loading accepts only
classes of ``swarmtui.model``, so a tampered blob cannot name anything else to call.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from functools import cache
from pathlib import Path

from swarmtui.model import RunState

# The supervisor writes one when this many events, or this many seconds with at least one event,
# have passed since the last one; folding a few thousand events takes a reader well under 0.1 s.
EVERY_EVENTS = 2000
EVERY_S = 30.0

_PACKAGE = Path(__file__).resolve().parent
_ALLOWED_PREFIX = "swarmtui.model."


@cache
def fingerprint() -> str:
    """What snapshots of this code are tagged with; "" when the sources cannot be read (then
    no snapshot is written or used)."""
    h = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    files = sorted((_PACKAGE / "model").rglob("*.py"))
    files += [_PACKAGE / "legacy.py", _PACKAGE / "store.py", _PACKAGE / "storerows.py",
              Path(__file__).resolve()]
    try:
        for f in files:
            h.update(f.relative_to(_PACKAGE).as_posix().encode())
            h.update(f.read_bytes())
    except OSError:
        return ""
    return h.hexdigest()[:32] if len(files) > 4 else ""


def dump(state: RunState) -> bytes:
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


class _ModelOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if not module.startswith(_ALLOWED_PREFIX):
            raise pickle.UnpicklingError(f"a snapshot may not refer to {module}.{name}")
        cls = super().find_class(module, name)
        if not isinstance(cls, type):
            raise pickle.UnpicklingError(f"{module}.{name} is not a class")
        return cls


def load(blob: bytes) -> RunState | None:
    """The state in ``blob``, or None when it is not a snapshot this code can trust."""
    try:
        state = _ModelOnly(io.BytesIO(blob)).load()
    except Exception:  # noqa: BLE001 - any damage means "replay from the log instead"
        return None
    return state if isinstance(state, RunState) else None
