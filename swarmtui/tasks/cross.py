"""Cross-task checks of one task file: duplicate ids, unknown dependencies and cycles.

Each format's loader turns its entries into ``_Entry`` values (field problems already reported);
``_cross_check`` then checks them against each other and builds the specs of the active ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from swarmtui.model import TaskSpec
from swarmtui.tasks.checks import _Problems, _q


@dataclass
class _Entry:
    """One declared task (or passing feature) between field and cross-task checks."""

    pos: str  # "task[3]" / "feature[3]": names the entry even when its id is bad
    label: str  # how messages name it once the id is known
    raw_id: object  # as written, for "unknown task" noise suppression
    id: str | None  # None when missing or invalid (already reported)
    active: bool  # False for features that already pass
    depends_on: tuple[str, ...] = ()
    # The spec without its dependencies; None when a field is bad (and already reported).
    build: Callable[..., TaskSpec] | None = None
    deps_out: tuple[str, ...] = ()  # depends_on minus the already-passing features


def _cross_check(entries: list[_Entry], problems: _Problems) -> list[TaskSpec]:
    """Duplicates, unknown dependencies and cycles; builds the specs of the active entries."""
    unique = _unique_entries(entries, problems)
    active = _resolve_dependencies(entries, unique, problems)
    _report_cycles(active, problems)
    problems.raise_if_any()
    specs = []
    for e in active.values():
        assert e.build is not None
        specs.append(e.build(depends_on=e.deps_out))
    return specs


def _unique_entries(entries: list[_Entry], problems: _Problems) -> list[_Entry]:
    """The entries with a valid id, first of each id; later ones are reported as duplicates."""
    first: dict[str, _Entry] = {}
    unique: list[_Entry] = []
    for e in entries:
        if e.id is None:
            continue
        prev = first.get(e.id.casefold())
        if prev is None:
            first[e.id.casefold()] = e
            unique.append(e)
        elif prev.id == e.id:
            problems.add(e.pos, "id", f"duplicate id {_q(e.id)} (also {prev.pos})")
        else:
            # Ids name branches and directories; on case-insensitive file systems (macOS,
            # Windows) two ids that differ only in case would share them.
            problems.add(
                e.pos,
                "id",
                f"id {_q(e.id)} differs only in letter case from {_q(prev.id)} ({prev.pos})",
            )
    return unique


def _resolve_dependencies(
    entries: list[_Entry], unique: list[_Entry], problems: _Problems
) -> dict[str, _Entry]:
    """The active entries by id, each with ``deps_out`` set; unknown dependencies reported."""
    active = {e.id: e for e in unique if e.active and e.id is not None}
    passing = {e.id for e in unique if not e.active}
    written = {e.raw_id for e in entries if isinstance(e.raw_id, str)}
    for e in unique:
        if not e.active:
            continue
        kept: list[str] = []
        for dep in e.depends_on:
            if dep in active:
                kept.append(dep)
            elif dep in passing:
                pass  # an already-passing feature: the dependency is satisfied
            elif dep not in written:  # an invalid or duplicate id is reported already
                problems.add(e.label, "depends_on", f"names unknown task {_q(dep)}")
        e.deps_out = tuple(kept)
    return active


def _report_cycles(active: Mapping[str, _Entry], problems: _Problems) -> None:
    graph = {tid: e.deps_out for tid, e in active.items()}
    for cycle, extra in _cycles(graph):
        line = "dependency cycle: " + " -> ".join([*cycle, cycle[0]])
        if extra:
            line += f" (also caught in it: {', '.join(extra)})"
        problems.add(None, None, line)


def _cycles(graph: Mapping[str, tuple[str, ...]]) -> list[tuple[list[str], list[str]]]:
    """One cycle per strongly connected component that has one, in declaration order.

    Each item is (the shortest cycle through the component's first-declared task, the other
    tasks of the component in declaration order). A self-dependency is a cycle of one.
    """
    order = {tid: i for i, tid in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(root: str) -> None:
        # Iterative Tarjan: deep dependency chains must not hit the recursion limit.
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            deps = graph[node]
            if i < len(deps):
                work.append((node, i + 1))
                dep = deps[i]
                if dep not in index:
                    work.append((dep, 0))
                elif dep in on_stack:
                    low[node] = min(low[node], index[dep])
                continue
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                components.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for tid in graph:
        if tid not in index:
            strongconnect(tid)

    found = []
    for comp in components:
        members = set(comp)
        start = min(comp, key=order.__getitem__)
        if len(comp) == 1 and start not in graph[start]:
            continue
        cycle = _shortest_cycle(graph, start, members)
        extra = sorted(members - set(cycle), key=order.__getitem__)
        found.append((cycle, extra))
    found.sort(key=lambda c: order[c[0][0]])
    return found


def _shortest_cycle(
    graph: Mapping[str, tuple[str, ...]], start: str, within: set[str]
) -> list[str]:
    """The shortest path start -> ... -> start inside ``within`` (breadth first)."""
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for dep in graph[node]:
                if dep not in within:
                    continue
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1]
                if dep not in prev:
                    prev[dep] = node
                    nxt.append(dep)
        frontier = nxt
    raise AssertionError("no cycle in a cyclic component")  # pragma: no cover
