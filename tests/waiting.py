"""The one way tests wait on the real world: poll a condition until it holds, or fail saying
what was awaited (and, when asked, what was last seen).

A test of real processes (tmux, git, sshd, the agent CLIs, a supervisor in another process)
cannot be told when the other side has done something, so it polls. Every such wait goes
through ``wait_until`` so that a timeout names its condition, and no test sleeps "long enough"
where it can wait for what it needs. The TUI tests wait through the app's event loop instead
(``tests/tui_pilot.py``'s ``until``), with the same message.

A condition is polled every 0.1 s unless a test says otherwise: many conditions read the run's
whole event log, and in a parallel run (pytest-xdist) many tests wait at once, so a tighter
poll costs the other workers CPU for a few hundredths of a second of latency.

Not a test module (it defines no tests).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def describe(cond: Callable[..., object]) -> str:
    """A condition as a reader would recognise it: a lambda's source line, else its name."""
    if getattr(cond, "__name__", "") == "<lambda>":
        try:
            src = " ".join(inspect.getsource(cond).split())
        except (OSError, TypeError):
            src = ""
        if src:
            return src[:200]
    return getattr(cond, "__qualname__", None) or repr(cond)


def timed_out(cond: Callable[..., object], timeout: float, what: str,
              seen: Callable[[], object] | None = None) -> str:
    """The message of a wait that ran out of time."""
    msg = f"timed out after {timeout:g}s waiting for {what or describe(cond)}"
    if seen is not None:
        try:
            msg += f"; last seen: {seen()!r}"[:2000]
        except Exception as e:
            msg += f"; last seen: (could not tell: {e!r})"
    return msg


def eventually(cond: Callable[[], T | None], timeout: float, *, interval: float = 0.1) -> T | None:
    """Call ``cond`` every ``interval`` seconds until it returns something true, and return
    that; None when ``timeout`` seconds pass first (for clean-ups that carry on either way:
    a test's wait is ``wait_until``, which fails instead)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


def wait_until(cond: Callable[[], T | None], timeout: float = 30.0, what: str = "", *,
               interval: float = 0.1, seen: Callable[[], object] | None = None) -> T:
    """Call ``cond`` every ``interval`` seconds until it returns something true, and return
    that. After ``timeout`` seconds raise AssertionError naming ``what`` (or the condition's
    source) and, when ``seen`` is given, what it returns at that moment."""
    value = eventually(cond, timeout, interval=interval)
    if value is None:
        raise AssertionError(timed_out(cond, timeout, what, seen))
    return value
