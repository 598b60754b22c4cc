"""Layering: the engine, store, model and CLI import without the TUI libraries, and the model
is pure (no I/O modules). Checked in fresh interpreters so other tests' imports do not leak in."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests import importgraph

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


# -- the engine's rooms (tests/importgraph.py prints the same figures) --------------------------

PARTS_ROOMS = ("run", "attempts", "health", "integrate", "review", "guard")
COMPOSITION = {"swarmtui.engine.run.wiring", "swarmtui.engine.run.supervisor"}
MAX_LINES = 440  # "about 400": a module past this is split by what it holds


def test_no_import_cycle_inside_the_engine() -> None:
    assert importgraph.cycles(importgraph.graph()) == []


def test_no_import_runs_back_up_between_rooms() -> None:
    """Each room imports only the rooms below it (importgraph.ROOMS, bottom up)."""
    assert importgraph.upward_imports(importgraph.graph()) == []


def test_every_engine_module_lives_in_a_room() -> None:
    assert set(importgraph.rooms()) == {r for r in importgraph.ROOMS if r != "<base>"}
    assert len(importgraph.top_level()) <= 12
    assert "context" not in importgraph.top_level()  # the shared bag is gone


def test_engine_modules_stay_small() -> None:
    assert importgraph.long_modules(MAX_LINES) == []


def _part_classes() -> set[str]:
    """The part classes: the types of the fields of ``wiring.Parts``."""
    tree = ast.parse((importgraph.PACKAGE / "engine" / "run" / "wiring.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Parts":
            return {ast.unparse(s.annotation) for s in node.body if isinstance(s, ast.AnnAssign)}
    raise AssertionError("no Parts in run/wiring.py")


def _from_imports(path: Path) -> list[tuple[str, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, a.name) for a in node.names]
    return out


def test_no_part_imports_another_part() -> None:
    """A part holds no other part: only the wiring (and the supervisor that runs it) name the
    part classes; the rest ask through intents."""
    parts = _part_classes()
    assert len(parts) >= 15  # the scan sees the parts
    found = []
    for name, path in importgraph.modules(importgraph.PACKAGE).items():
        if name in COMPOSITION:
            continue
        for module, imported in _from_imports(path):
            if imported in parts and module.startswith("swarmtui.engine") and (
                    not name.startswith(module)):
                found.append((name, imported))
    assert found == []


def test_parts_spawn_no_subprocess_themselves() -> None:
    """Processes are started by the runtime (commands, git, tmux) and the runners, never by a
    part of the supervisor."""
    banned = {"subprocess", "pty", "multiprocessing"}
    found = []
    for room in PARTS_ROOMS:
        for name, path in importgraph.modules(importgraph.PACKAGE / "engine" / room).items():
            for imported in imported_names_of(path):
                if imported.split(".")[0] in banned:
                    found.append((name, imported))
            if "os.system(" in path.read_text() or "os.fork(" in path.read_text():
                found.append((name, "os.system/fork"))
    assert found == []


def test_every_intent_has_exactly_one_owner(tmp_path: Path) -> None:
    """The wiring gives each intent type one owner (a second owner fails at ``owns``)."""
    import inspect

    from swarmtui.config import config_from_dict
    from swarmtui.engine import intents
    from swarmtui.engine.run import wiring
    from tests.standins import make_ports

    ports, loop = make_ports(tmp_path, config_from_dict({}, "t"))
    wiring.build(ports, loop, [])
    kinds = {c for _, c in inspect.getmembers(intents, inspect.isclass)
             if issubclass(c, intents.Intent) and c is not intents.Intent}
    assert len(kinds) > 25
    assert set(loop._owners) == kinds
    ports.workers.shutdown()


def imported_names_of(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def test_the_checks_see_what_they_guard() -> None:
    """The scans are meaningful: a cycle, an upward import and a subprocess import are found
    when present."""
    g = {"swarmtui.engine.run.a": {"swarmtui.engine.attempts.b"},
         "swarmtui.engine.attempts.b": {"swarmtui.engine.run.a"}}
    assert importgraph.cycles(g) == [sorted(g)]
    assert importgraph.upward_imports(g) == [("swarmtui.engine.attempts.b",
                                              "swarmtui.engine.run.a")]
    readiness_src = importgraph.PACKAGE / "engine" / "runtime" / "shell.py"
    assert "subprocess" in imported_names_of(readiness_src)
