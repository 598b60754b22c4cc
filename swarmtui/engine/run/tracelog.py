"""The supervisor's own trace: standard logging into a bounded ``.swarm/supervisor.log``, and
the crash record a dying loop leaves in the event log.

Why both: the event log is the run's truth and what every client reads, so a crash is an event
(``supervisor_crashed``) that raises an alert; the log file keeps what is not an event (warnings
from parts that carried on, the lines around a crash) for whoever debugs it. The file is rotated
at a fixed size so a supervisor that runs for days cannot fill the disk with its own trace.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
import traceback
from pathlib import Path

from swarmtui import protocol as P

LOG_NAME = "swarmtui"
LOG_MAX_BYTES = 1024 * 1024  # one file; two rotated copies behind it: 3 MiB at most
LOG_BACKUPS = 2
TRACEBACK_MAX_CHARS = 8000  # in the event; the log file keeps it whole
_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

log = logging.getLogger(LOG_NAME)


def log_path(repo: Path) -> Path:
    return P.swarm_dir(repo) / P.SUPERVISOR_LOG


def open_supervisor_log(repo: Path) -> logging.Handler | None:
    """Send the ``swarmtui`` loggers to the run's bounded log file (0600). Returns the handler
    to close later, or None when the file cannot be opened (the run goes on untraced)."""
    path = log_path(repo)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    return handler


def close_supervisor_log(handler: logging.Handler | None) -> None:
    if handler is not None:
        log.removeHandler(handler)
        handler.close()


def describe_crash(exc: BaseException) -> tuple[str, str]:
    """(one-line error, bounded traceback) for a crash record."""
    first = " ".join(str(exc).split())[:300]
    error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    tb = "".join(traceback.format_exception(exc))
    if len(tb) > TRACEBACK_MAX_CHARS:
        # The innermost frames say where it broke: keep the end.
        tb = "…" + tb[-(TRACEBACK_MAX_CHARS - 1):]
    return error, tb


def thread_name() -> str:
    return threading.current_thread().name
