"""The interactive CLI's first-run answers, written into its global config before it starts
(the keys and why: ``adapters/claude_interactive.py``).

The file is the operator's own (``~/.claude.json``, or the one in ``$CLAUDE_CONFIG_DIR``) and
the CLI rewrites it while it runs, so it is changed only where something is missing, under a
lock of our own (two wrappers starting at once), through a temporary file renamed over it; a
file that is not plain JSON, or is a link, is left alone (the agent may then stop at a screen,
and the reason is returned to be said).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from swarmtui.boundedjson import loads
from swarmtui.engine.adapters.claude_interactive import config_file, first_run, trusted_folders

MAX_CONFIG = 16 * 1024 * 1024  # the CLI's config grows with every project it has seen


def prepare(env: Mapping[str, str], argv: list[str], cwd: str, mode: str) -> str | None:
    """Answer the first-run screens for the command ``argv`` run in ``cwd``; None when done,
    else why not."""
    where = config_file(env)
    if where is None:
        return "no HOME or CLAUDE_CONFIG_DIR to find the CLI's config in"
    path = Path(where)
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        lock = os.open(f"{path}.swarmtui-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        return f"cannot lock {path}: {e}"
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            current: object = {}
        else:
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONFIG:
                return f"{path} is not a regular file of at most {MAX_CONFIG} bytes: left alone"
            try:
                current = loads(path.read_bytes(), max_chars=MAX_CONFIG) if st.st_size else {}
            except ValueError as e:
                return f"{path} is not JSON ({e}): left alone"
        if not isinstance(current, dict):
            return f"{path} does not hold a JSON object: left alone"
        folders = [os.path.realpath(f) for f in trusted_folders(argv, cwd)]
        updated = first_run(current, folders=folders,
                            api_key=env.get("ANTHROPIC_API_KEY"), mode=mode)
        if updated != current:
            tmp = path.with_name(f".{path.name}.swarmtui.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(updated, f, indent=2)
                f.write("\n")
            os.replace(tmp, path)
        return None
    except OSError as e:
        return f"cannot write {path}: {e}"
    finally:
        os.close(lock)
