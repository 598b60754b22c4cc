"""Layering: the engine, store, model and CLI import without the TUI libraries, and the model
is pure (no I/O modules). Checked in fresh interpreters so other tests' imports do not leak in."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ENGINE_MODULES = ["swarmtui.engine.run.supervisor", "swarmtui.engine.run.scheduler",
                  "swarmtui.store", "swarmtui.model", "swarmtui.cli"]


MODEL_DIR = Path(__file__).resolve().parent.parent / "swarmtui" / "model"


def imported_names(path: Path) -> set[str]:
    """The modules a source file imports (absolute names; relative ones resolved)."""
    pkg = "swarmtui.model"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def modules_after_import(*names: str, prelude: str = "") -> set[str]:
    """The modules in sys.modules after running ``prelude`` and importing ``names`` in a new
    interpreter."""
    code = ("import importlib, json, sys\n"
            f"{prelude}"
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


BANNED_IN_MODEL = ("sqlite3", "subprocess", "socket", "libtmux", "git", "watchfiles", "textual",
                   "rich", "swarmtui.store", "swarmtui.engine")

# pydantic (the payload types) loads its plugin machinery when the first model is defined, and
# that (importlib.metadata -> email.utils) imports ``socket``: a baseline of what pydantic alone
# loads, so the check below is about what the model itself pulls in.
PYDANTIC_BASELINE = ("from pydantic import BaseModel\n"
                     "class _M(BaseModel):\n"
                     "    x: int\n")


def test_model_is_pure() -> None:
    """swarmtui.model pulls in no sqlite3, subprocess or other I/O-heavy modules beyond what
    pydantic itself loads, and none of its modules imports one."""
    baseline = modules_after_import(prelude=PYDANTIC_BASELINE)
    loaded = modules_after_import("swarmtui.model")
    for banned in BANNED_IN_MODEL:
        assert banned not in loaded or banned in baseline, banned
    # pydantic's baseline must not hide anything else on the list.
    assert {b for b in BANNED_IN_MODEL if b in baseline} <= {"socket"}
    # The model's own source imports none of them, the baseline's included.
    for path in sorted(MODEL_DIR.glob("*.py")):
        for name in imported_names(path):
            for banned in BANNED_IN_MODEL:
                assert name != banned and not name.startswith(banned + "."), (path.name, name)


def test_import_scan_sees_imports() -> None:
    """imported_names finds plain, dotted, from- and relative imports."""
    names = imported_names(MODEL_DIR / "__init__.py")
    assert "swarmtui.model.payloads" in names or "swarmtui.model" in names
    assert "__future__" in names


def test_checker_detects_a_loaded_module() -> None:
    """The subprocess check does see modules that are imported (so the tests above can fail)."""
    loaded = modules_after_import("sqlite3", "swarmtui.model")
    assert "sqlite3" in loaded and "_sqlite3" in loaded


def test_building_the_command_line_loads_no_api_client_or_report() -> None:
    """Every command, the fake agents and Claude Code's hooks included, builds the parser
    first: it must not pay for the anthropic client (seconds) or the report modules."""
    after = modules_after_import("swarmtui.cli.parser", prelude=(
        "from swarmtui.cli.parser import build_parser\nbuild_parser()\n"))
    heavy = sorted(m for m in after if m.split(".")[0] == "anthropic"
                   or m.startswith(("swarmtui.report", "swarmtui.engine.run.supervisor")))
    assert heavy == []


def test_a_supervisor_without_an_api_key_never_loads_the_api_client() -> None:
    """The client takes seconds to import: a supervisor (restarted often, spawning at once) or a
    `status` must not pay for it when no key is configured. Fitting a prompt estimates."""
    after = modules_after_import(
        "swarmtui.engine.run.supervisor", "swarmtui.cli.inspect", prelude=(
            "from swarmtui.engine.review.fit import fit\n"
            "assert not fit('a prompt', [], window=1000, warn_at=0.5).counted\n"))
    assert sorted(m for m in after if m.split(".")[0] == "anthropic") == []
