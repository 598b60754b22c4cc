"""Layering of the TUI and decisions on typed fields, checked on the source with ``ast``:

- the TUI imports nothing of ``engine/runtime`` (it reaches the store and git through
  ``client.py``, tmux through ``windows.py``);
- the TUI starts no process and runs no git itself (blocking work goes through the client, in
  workers);
- neither the TUI nor the engine decides by the wording of a note, reason, error or message
  (``x.note.startswith(...)``, ``"..." in x.reason``): decisions read typed fields.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.importgraph import PACKAGE, ROOT, module_name

TUI = PACKAGE / "tui"
ENGINE = PACKAGE / "engine"
RUNTIME = "swarmtui.engine.runtime"
WORDED = ("note", "reason", "error", "message")  # attributes that hold words for people
TEXT_TESTS = ("startswith", "endswith")
# Process and tmux/git modules the TUI may not import: it asks the client (and windows.py).
NO_PROCESS = ("subprocess", "pty", "libtmux", "git", "multiprocessing")
NO_PROCESS_CALLS = {("os", n) for n in ("system", "popen", "fork", "forkpty", "posix_spawn",
                                        "posix_spawnp", "execv", "execve", "execvp", "execvpe",
                                        "execl", "execlp", "spawnv", "spawnvp")} | {
    ("asyncio", "create_subprocess_exec"), ("asyncio", "create_subprocess_shell")}


def sources(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (relative imports resolved); ``from a import b``
    counts as both ``a`` and ``a.b``."""
    name = module_name(path)
    pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def within(name: str, top: str) -> bool:
    return name == top or name.startswith(top + ".")


def runtime_imports(path: Path) -> list[str]:
    return sorted(n for n in imports(path) if within(n, RUNTIME))


def process_uses(path: Path) -> list[str]:
    """Imports of process, git and tmux modules, process-starting calls, and argument lists that
    start with ``"git"`` (a git command about to be run), as ``line: what``."""
    found = [f"import {n}" for n in sorted(imports(path))
             if any(within(n, banned) for banned in NO_PROCESS)]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in NO_PROCESS_CALLS):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
        elif (isinstance(node, ast.List | ast.Tuple) and node.elts
              and isinstance(node.elts[0], ast.Constant) and node.elts[0].value == "git"):
            found.append(f"{node.lineno}: a git command line")
    return found


def _worded(node: ast.expr) -> str | None:
    """``x.note`` (or reason, error, message) as source text, else None."""
    if isinstance(node, ast.Attribute) and node.attr in WORDED:
        return ast.unparse(node)
    return None


def worded_decisions(path: Path) -> list[tuple[int, str]]:
    """Where ``path`` tests the words of a note, reason, error or message: ``x.note.startswith``
    (or endswith), and ``... in x.reason`` / ``... not in x.error``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in TEXT_TESTS and (w := _worded(node.func.value))):
            found.append((node.lineno, w))
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and (w := _worded(right)):
                    found.append((node.lineno, w))
    return found


def test_the_tui_imports_nothing_of_the_runtime() -> None:
    """No module under swarmtui/tui imports swarmtui.engine.runtime or anything under it."""
    bad = {rel(p): names for p in sources(TUI) if (names := runtime_imports(p))}
    assert bad == {}


def test_the_tui_runs_no_process_and_no_git() -> None:
    """No module under swarmtui/tui imports subprocess (or git, libtmux, pty), starts a process
    through os or asyncio, or builds a git command line: it asks the client."""
    bad = {rel(p): uses for p in sources(TUI) if (uses := process_uses(p))}
    assert bad == {}


def test_no_decision_reads_the_words_of_a_message() -> None:
    """No module under swarmtui/tui or swarmtui/engine decides by the wording of a note, reason,
    error or message (startswith, endswith, in)."""
    found = {(rel(p), w): line for under in (TUI, ENGINE) for p in sources(under)
             for line, w in worded_decisions(p)}
    bad = sorted(f"{path}:{line}: {w}" for (path, w), line in found.items())
    assert bad == []


# -- the checks see what they look for ------------------------------------------------------------


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A source file placed as swarmtui/tui/probe.py under a scratch root."""
    import tests.importgraph as ig

    monkeypatch.setattr(ig, "ROOT", tmp_path)
    path = tmp_path / "swarmtui" / "tui" / "probe.py"
    path.parent.mkdir(parents=True)
    return path


def test_the_runtime_check_sees_every_form_of_import(module: Path) -> None:
    for src in ("import swarmtui.engine.runtime.tmux",
                "from swarmtui.engine.runtime.tmux import Tmux",
                "from swarmtui.engine import runtime",
                "from ..engine.runtime import git"):
        module.write_text(src + "\n")
        assert runtime_imports(module), src
    module.write_text("from swarmtui.engine.runners.sshremote import TMUX_SOCKET\n"
                      "from swarmtui.windows import RunWindows\n")
    assert runtime_imports(module) == []


def test_the_process_check_sees_subprocess_os_and_git_lines(module: Path) -> None:
    for src in ("import subprocess", "from subprocess import run", "import libtmux",
                "import os\nos.system('ls')", "import asyncio\nasyncio.create_subprocess_exec",
                "run(['git', 'diff', 'a..b'])", "cmd = ('git', 'rev-parse')"):
        module.write_text(src + "\n")
        assert process_uses(module), src
    module.write_text("import os\nos.path.join('a', 'git')\nx = ['diff', 'git']\n")
    assert process_uses(module) == []


def test_the_wording_check_sees_prefix_and_membership_tests(module: Path) -> None:
    for src in ("t.note.startswith('waiting')", "msg.error.startswith(('server gone', 'x'))",
                "'limit' in t.reason", "'x' not in ev.message", "a.b.reason.endswith('!')"):
        module.write_text(src + "\n")
        assert worded_decisions(module), src
    module.write_text("t.note_kind == 1\nline.startswith('diff')\nt.note or t.reason\n"
                      "'x' in t.denied\n")
    assert worded_decisions(module) == []
