"""Fault points for tests of crash recovery: ``SWARMTUI_FAULT=<point>:<kill|stop>`` makes the
process SIGKILL (a crash) or SIGSTOP (a pause a test can act in) itself at that point. Unset,
each point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

ENV = "SWARMTUI_FAULT"
_SIGNALS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}


def point(name: str) -> None:
    value = os.environ.get(ENV)
    if not value:
        return
    where, _, how = value.partition(":")
    if where == name and how in _SIGNALS:
        os.kill(os.getpid(), _SIGNALS[how])
