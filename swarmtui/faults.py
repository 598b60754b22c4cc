"""Fault points for tests of crash recovery: ``SWARMTUI_FAULT=<point>:<kill|stop|raise>`` makes
the process SIGKILL (a crash), SIGSTOP (a pause a test can act in) itself, or raise
``InjectedFault`` (a bug) at that point. Unset, each point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

ENV = "SWARMTUI_FAULT"
_SIGNALS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}


class InjectedFault(RuntimeError):
    """Raised at a fault point set to ``raise``: stands in for any bug at that point."""


def point(name: str) -> None:
    value = os.environ.get(ENV)
    if not value:
        return
    where, _, how = value.partition(":")
    if where != name:
        return
    if how == "raise":
        raise InjectedFault(f"fault injected at {name} ({ENV})")
    if how in _SIGNALS:
        os.kill(os.getpid(), _SIGNALS[how])
