"""Layering: the engine, store, model and CLI import without the TUI libraries, and the model
is pure (no I/O modules). Checked in fresh interpreters so other tests' imports do not leak in."""

from __future__ import annotations

import json
import subprocess
import sys

ENGINE_MODULES = ["swarmtui.engine.supervisor", "swarmtui.engine.scheduler", "swarmtui.store",
                  "swarmtui.model", "swarmtui.cli"]


def modules_after_import(*names: str) -> set[str]:
    """The top-level packages in sys.modules after importing ``names`` in a new interpreter."""
    code = ("import importlib, json, sys\n"
            f"for n in {list(names)!r}:\n"
            "    importlib.import_module(n)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(names) <= set(loaded)  # the check is meaningful: the imports happened
    return set(loaded)


def test_engine_and_cli_do_not_import_textual_or_rich() -> None:
    """Importing the supervisor, scheduler, store, model and CLI loads neither textual nor
    rich."""
    loaded = modules_after_import(*ENGINE_MODULES)
    tui = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich"))
    assert tui == []


def test_model_is_pure() -> None:
    """swarmtui.model pulls in no sqlite3, subprocess or other I/O-heavy modules."""
    loaded = modules_after_import("swarmtui.model")
    for banned in ("sqlite3", "subprocess", "socket", "libtmux", "git", "watchfiles",
                   "textual", "rich", "swarmtui.store", "swarmtui.engine"):
        assert banned not in loaded, banned


def test_checker_detects_a_loaded_module() -> None:
    """The subprocess check does see modules that are imported (so the tests above can fail)."""
    loaded = modules_after_import("sqlite3", "swarmtui.model")
    assert "sqlite3" in loaded and "_sqlite3" in loaded
