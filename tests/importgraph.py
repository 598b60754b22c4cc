"""The import graph of ``swarmtui``, read from the source with ``ast`` (nothing is imported).

``python tests/importgraph.py`` prints what the layering tests guard: the engine's modules at its
top level, its rooms, every import cycle inside ``engine/`` and every import that runs back up
(from a room to a room above it). Imports under ``if TYPE_CHECKING:`` count too: a cycle that
only the type checker sees still ties the modules' meaning together.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "swarmtui"

# The engine's rooms from the bottom up: a room may import the rooms below it, never one above.
# The top-level modules of ``engine/`` (ports, intents, messages) sit below every room but
# ``runtime`` and ``adapters``, which know nothing of the supervisor at all.
ROOMS = ("runtime", "sandbox", "adapters", "wrapper", "guard", "runners", "<base>", "accounts",
         "health", "integrate", "review", "attempts", "run")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(under: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(under.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The known modules ``name`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in known:
                    out.add(full)
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def graph(prefix: str = "swarmtui.engine") -> dict[str, set[str]]:
    mods = {n: p for n, p in modules().items() if n == prefix or n.startswith(prefix + ".")}
    known = set(mods)
    return {n: imports_of(n, p, known) for n, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(g.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def room_of(name: str) -> str:
    """``swarmtui.engine.<room>.x`` -> room; a top-level module of the engine -> "<base>"."""
    parts = name.split(".")
    if len(parts) >= 4 or (len(parts) == 3 and parts[2] in ROOMS):
        return parts[2]
    return "<base>"


def upward_imports(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a room to a room above it (or to a room not in ROOMS's order)."""
    rank = {r: i for i, r in enumerate(ROOMS)}
    out = []
    for src, dsts in sorted(g.items()):
        for dst in sorted(dsts):
            a, b = room_of(src), room_of(dst)
            if a != b and rank.get(b, len(ROOMS)) > rank.get(a, -1):
                out.append((src, dst))
    return out


def top_level(under: Path = PACKAGE / "engine") -> list[str]:
    """The modules directly in ``under`` (its subpackages and ``__init__`` aside)."""
    return sorted(p.stem for p in under.glob("*.py") if p.stem != "__init__")


def rooms(under: Path = PACKAGE / "engine") -> list[str]:
    return sorted(p.parent.name for p in under.glob("*/__init__.py"))


def long_modules(limit: int, under: Path = PACKAGE / "engine") -> list[tuple[str, int]]:
    out = []
    for name, path in modules(under).items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append((name, n))
    return sorted(out, key=lambda x: -x[1])


def main() -> int:
    g = graph()
    tops = top_level()
    print(f"engine modules: {len(g)}; at the top level of engine/: {len(tops)} "
          f"({' '.join(tops)}); rooms: {' '.join(rooms())}")
    cyc = cycles(g)
    print(f"import cycles inside engine/: {len(cyc)}")
    for c in cyc:
        print(f"  {len(c)} modules: {' '.join(m.removeprefix('swarmtui.engine.') for m in c)}")
    up = upward_imports(g)
    print(f"imports that run back up (rooms, bottom up: {' < '.join(ROOMS)}): {len(up)}")
    for src, dst in up:
        print(f"  {src} -> {dst}")
    longs = long_modules(400)
    print(f"modules over 400 lines: {len(longs)}")
    for name, n in longs:
        print(f"  {name}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
