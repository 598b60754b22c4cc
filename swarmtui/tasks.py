"""Task files: load and validate the tasks of a run.

Two formats are read:

* TOML: an array of ``[[task]]`` tables (see ``TOML_KEYS``).
* JSON feature list, in the style of long-running agent harnesses: an array of objects with
  ``category``, ``description``, ``steps`` and ``passes``. Every feature with ``passes: false``
  becomes a task; features that already pass are skipped. A ``depends_on`` that names a passing
  feature is already satisfied, so it is dropped from the task's ``depends_on``.

Validation collects every problem in the file and raises one ``TaskFileError`` listing them all,
one line each, every line naming the file, the task and the key, so a user fixes the whole file in
one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from swarmtui.errors import TaskFileError
from swarmtui.model import TaskSpec

# Ids become git branch names (``swarm/<id>-<attempt>``) and directory names under ``.swarm/``.
TASK_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_EXPECTED = (
    "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, "
    "not containing '..' and not ending in '.lock'"
)
TITLE_MAX = 60
SLUG_MAX = 24

TOML_KEYS = (
    "id",
    "title",
    "prompt",
    "prompt_file",
    "role",
    "agent",
    "files",
    "verify",
    "depends_on",
    "max_attempts",
    "priority",
)
FEATURE_REQUIRED = ("category", "description", "steps", "passes")
FEATURE_KEYS = (*FEATURE_REQUIRED, "id", "role", "agent", "files", "verify", "depends_on",
                "priority", "max_attempts")

# A problem sink for one task: (key or None, message).
_Report = Callable[[str | None, str], None]


def is_valid_task_id(task_id: str) -> bool:
    """Whether ``task_id`` may name a task (see ``TASK_ID_RE``)."""
    # The regex alone admits two things git and the file system reject: git refuses a ref
    # component ending in ".lock" (it keeps its own lock files under that name) and any ref
    # containing "..", which in a path would also read as a step up to the parent directory.
    return (
        TASK_ID_RE.fullmatch(task_id) is not None
        and ".." not in task_id
        and not task_id.endswith(".lock")
    )


def _q(value: object) -> str:
    """Quote a value for a message; JSON quoting keeps odd strings (newlines) on one line."""
    return json.dumps(value, ensure_ascii=False)


def _type_name(value: object) -> str:
    """The user-facing type of a parsed TOML/JSON value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return type(value).__name__


def _is_int(value: object) -> bool:
    # bool is a subclass of int; `priority = true` is a mistake, not priority 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _slug(text: str, limit: int = SLUG_MAX) -> str:
    """Lower-case ASCII words of ``text`` joined by '-', cut at a word boundary near ``limit``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text.lower()):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            # A single over-long first word is cut rather than dropped, so the id stays readable.
            return slug or word[:limit]
        slug = candidate
    return slug


def _title_from(text: str) -> str:
    """The first non-blank line of ``text``, whitespace collapsed, cut at ``TITLE_MAX``."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"
    return ""


def make_task_id(prompt: str, existing: Collection[str]) -> str:
    """A readable id for a task added at run time, unique among ``existing``.

    Built from the prompt's first words (``"Fix the login bug"`` -> ``fix-the-login-bug``), with
    ``-2``, ``-3``, ... appended when taken. Uniqueness ignores letter case, as ``load_tasks``
    does, because ids name directories and branches on possibly case-insensitive file systems.
    """
    base = _slug(prompt) or "task"
    taken = {e.casefold() for e in existing}
    candidate, n = base, 2
    while candidate.casefold() in taken or not is_valid_task_id(candidate):
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# --- field checks shared by both formats and by validate_new_task -----------------------------


def _check_id(value: object, report: _Report) -> str | None:
    """The id if it is a valid one, else None (after reporting why)."""
    if not isinstance(value, str):
        report("id", f"expected a string, got {_type_name(value)}")
        return None
    if not is_valid_task_id(value):
        report("id", f"{_q(value)} is not a valid task id ({ID_EXPECTED})")
        return None
    return value


def _check_member(kind: str, value: str, known: Collection[str], report: _Report) -> None:
    if value not in known:
        listed = ", ".join(sorted(known)) or "(none)"
        report(kind, f"unknown {kind} {_q(value)} (known: {listed})")


def _check_str(key: str, value: object, report: _Report) -> str | None:
    """A non-blank string, else None (after reporting)."""
    if not isinstance(value, str):
        report(key, f"expected a string, got {_type_name(value)}")
        return None
    if not value.strip():
        report(key, "expected a non-empty string")
        return None
    return value


def _check_str_list(key: str, value: object, report: _Report) -> list[str] | None:
    """A list of non-blank strings, else None (after reporting)."""
    if not isinstance(value, list):
        report(key, f"expected a list of strings, got {_type_name(value)}")
        return None
    bad = [i for i, v in enumerate(value) if not isinstance(v, str) or not v.strip()]
    if bad:
        i = bad[0]
        what = _type_name(value[i]) if not isinstance(value[i], str) else "an empty string"
        report(key, f"expected a list of non-empty strings, item {i} is {what}")
        return None
    return list(value)


def _check_files(value: object, report: _Report) -> tuple[str, ...]:
    globs = _check_str_list("files", value, report)
    if globs is None:
        return ()
    for g in globs:
        # The scope is matched against repository-relative paths: an absolute or escaping glob
        # would never match, silently leaving the task without a scope.
        if g.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", g):
            report("files", f"glob {_q(g)} must be relative to the repository root")
        elif ".." in re.split(r"[\\/]", g):
            report("files", f"glob {_q(g)} must not leave the repository ('..')")
    return tuple(globs)


def _check_max_attempts(value: object, report: _Report) -> int | None:
    if not _is_int(value):
        report("max_attempts", f"expected an integer >= 1, got {_type_name(value)}")
        return None
    assert isinstance(value, int)
    if value < 1:
        report("max_attempts", f"expected an integer >= 1, got {value}")
        return None
    return value


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass
class _Fields:
    """The options both formats share, checked, with defaults applied."""

    role: str
    agent: str
    files: tuple[str, ...] = ()
    verify: str | None = None
    depends_on: tuple[str, ...] = ()
    max_attempts: int | None = None
    priority: int = 0


def _common_fields(
    d: Mapping[str, Any],
    report: _Report,
    *,
    roles: Collection[str],
    agents: Collection[str],
    default_role: str,
    default_agent: str,
    check_members: bool = True,
) -> _Fields:
    f = _Fields(role=default_role, agent=default_agent)
    for key, default in (("role", default_role), ("agent", default_agent)):
        value = _check_str(key, d[key], report) if key in d else default
        if value is None:
            continue
        setattr(f, key, value)
        if check_members:
            _check_member(key, value, roles if key == "role" else agents, report)
    if "files" in d:
        f.files = _check_files(d["files"], report)
    if "verify" in d:
        f.verify = _check_str("verify", d["verify"], report)
    if "depends_on" in d:
        deps = _check_str_list("depends_on", d["depends_on"], report)
        f.depends_on = _dedupe(deps or ())
    if "max_attempts" in d:
        f.max_attempts = _check_max_attempts(d["max_attempts"], report)
    if "priority" in d:
        if _is_int(d["priority"]):
            f.priority = d["priority"]
        else:
            report("priority", f"expected an integer, got {_type_name(d['priority'])}")
    return f


def _check_unknown_keys(d: Mapping[str, Any], known: tuple[str, ...], report: _Report) -> None:
    for key in d:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {_q(close[0])}? " if close else ""
        report(key, f"unknown key ({hint}known keys: {', '.join(known)})")


# --- the per-file problem collector and the cross-task checks ---------------------------------


class _Problems:
    """Collects problem lines that all start with ``where``."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.lines: list[str] = []

    def add(self, who: str | None, key: str | None, msg: str) -> None:
        parts = [self.where]
        if who:
            parts.append(who)
        if key:
            parts.append(f"key {_q(key)}")
        parts.append(msg)
        self.lines.append(": ".join(parts))

    def for_task(self, who: str) -> _Report:
        return lambda key, msg: self.add(who, key, msg)

    def raise_if_any(self) -> None:
        if self.lines:
            raise TaskFileError(self.lines)


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

    graph = {tid: e.deps_out for tid, e in active.items()}
    for cycle, extra in _cycles(graph):
        line = "dependency cycle: " + " -> ".join([*cycle, cycle[0]])
        if extra:
            line += f" (also caught in it: {', '.join(extra)})"
        problems.add(None, None, line)

    problems.raise_if_any()
    specs = []
    for e in active.values():
        assert e.build is not None
        specs.append(e.build(depends_on=e.deps_out))
    return specs


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


# --- loading ------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file's text, or a TaskFileError naming why it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TaskFileError([f"{path}: not UTF-8 text (bad byte at offset {e.start})"]) from e
    except OSError as e:
        raise TaskFileError([f"{path}: cannot read the file: {e.strerror or e}"]) from e


def _looks_like_json(text: str) -> bool:
    # A JSON feature list opens with "[" then "{" or "]"; a TOML task file opens with "[[task]]",
    # a comment or a key, so the two cannot be confused.
    return re.match(r"\s*\[\s*[{\]]", text) is not None


def load_tasks(
    path: Path,
    *,
    roles: Collection[str],
    agents: Collection[str],
    default_role: str,
    default_agent: str,
) -> list[TaskSpec]:
    """Load the tasks of ``path``, in file order; raise ``TaskFileError`` listing every problem.

    A ``.json`` file (or one whose content is a JSON array of objects) is a feature list; anything
    else is TOML. Tasks are named ``task "<id>"`` in messages, or ``task[i]`` / ``feature[i]``
    (0-based position) when the id is missing or invalid.
    """
    path = Path(path)
    text = _read_text(path)
    is_json = path.suffix.lower() == ".json" or _looks_like_json(text)
    loader = _load_features if is_json else _load_toml
    return loader(
        path,
        text,
        roles=roles,
        agents=agents,
        default_role=default_role,
        default_agent=default_agent,
    )


def _load_toml(
    path: Path,
    text: str,
    *,
    roles: Collection[str],
    agents: Collection[str],
    default_role: str,
    default_agent: str,
) -> list[TaskSpec]:
    problems = _Problems(str(path))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib puts "(at line L, column C)" in the message itself.
        raise TaskFileError([f"{path}: TOML syntax error: {e}"]) from e
    except RecursionError:
        raise TaskFileError([f"{path}: arrays or tables nested too deeply to read"]) from None

    for key in doc:
        if key != "task":
            problems.add(None, key, "unknown top-level key (expected only [[task]] tables)")
    raw_tasks = doc.get("task", [])
    if not isinstance(raw_tasks, list):
        problems.add(None, "task", "expected an array of tables: write each task as [[task]]")
        raw_tasks = []
    if not raw_tasks:
        problems.add(None, None, "no tasks: expected at least one [[task]] table")

    entries: list[_Entry] = []
    seen_ids: set[str] = set()
    for i, d in enumerate(raw_tasks):
        pos = f"task[{i}]"
        if not isinstance(d, dict):
            problems.add(pos, None, f"expected a table, got {_type_name(d)}")
            continue
        if "id" in d:
            task_id = _check_id(d["id"], problems.for_task(pos))
        else:
            problems.add(pos, "id", "missing (every task needs an id)")
            task_id = None
        label = pos
        if task_id is not None:
            # A repeated id alone would not tell the user which of the two tables is meant.
            seen = task_id.casefold() in seen_ids
            seen_ids.add(task_id.casefold())
            label = f"{pos} {_q(task_id)}" if seen else f"task {_q(task_id)}"
        report = problems.for_task(label)
        _check_unknown_keys(d, TOML_KEYS, report)
        f = _common_fields(
            d,
            report,
            roles=roles,
            agents=agents,
            default_role=default_role,
            default_agent=default_agent,
        )
        prompt = _toml_prompt(path, d, report)
        title: str | None = None
        if "title" in d:
            title = _check_str("title", d["title"], report)
        if title is None and prompt is not None:
            title = _title_from(prompt)

        build = None
        if task_id is not None and prompt is not None:
            build = partial(
                TaskSpec,
                id=task_id,
                title=(title or "").strip(),
                prompt=prompt,
                role=f.role,
                agent=f.agent,
                files=f.files,
                verify=f.verify,
                max_attempts=f.max_attempts,
                priority=f.priority,
                source=path.name,
            )

        entries.append(
            _Entry(
                pos=pos,
                label=label,
                raw_id=d.get("id"),
                id=task_id,
                active=True,
                depends_on=f.depends_on,
                build=build,
            )
        )
    return _cross_check(entries, problems)


def _toml_prompt(path: Path, d: Mapping[str, Any], report: _Report) -> str | None:
    """The task's prompt from ``prompt`` or ``prompt_file`` (exactly one), else None."""
    has_prompt, has_file = "prompt" in d, "prompt_file" in d
    if has_prompt and has_file:
        report("prompt", 'give either "prompt" or "prompt_file", not both')
        return None
    if not has_prompt and not has_file:
        report("prompt", 'missing: give "prompt" (the text) or "prompt_file" (a path)')
        return None
    if has_prompt:
        return _check_str("prompt", d["prompt"], report)
    name = _check_str("prompt_file", d["prompt_file"], report)
    if name is None:
        return None
    file = path.parent / name
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        report("prompt_file", f"file {_q(name)} not found (looked for {file})")
        return None
    except UnicodeDecodeError as e:
        report("prompt_file", f"{file} is not UTF-8 text (bad byte at offset {e.start})")
        return None
    except OSError as e:
        report("prompt_file", f"cannot read {file}: {e.strerror or e}")
        return None
    if not text.strip():
        report("prompt_file", f"{file} is empty")
        return None
    return text


def _load_features(
    path: Path,
    text: str,
    *,
    roles: Collection[str],
    agents: Collection[str],
    default_role: str,
    default_agent: str,
) -> list[TaskSpec]:
    problems = _Problems(str(path))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise TaskFileError(
            [f"{path}: JSON syntax error: {e.msg} (at line {e.lineno}, column {e.colno})"]
        ) from e
    except RecursionError:
        raise TaskFileError([f"{path}: arrays or objects nested too deeply to read"]) from None
    if not isinstance(doc, list):
        raise TaskFileError(
            [f"{path}: expected a JSON array of feature objects, got {_type_name(doc)}"]
        )
    if not doc:
        raise TaskFileError([f"{path}: no features: the array is empty"])

    entries: list[_Entry] = []
    for i, d in enumerate(doc):
        pos = f"feature[{i}]"
        if not isinstance(d, dict):
            problems.add(pos, None, f"expected an object, got {_type_name(d)}")
            continue
        report = problems.for_task(pos)
        for key in FEATURE_REQUIRED:
            if key not in d:
                report(key, "missing (required in every feature)")
        _check_unknown_keys(d, FEATURE_KEYS, report)

        category = _check_str("category", d["category"], report) if "category" in d else None
        description = (
            _check_str("description", d["description"], report) if "description" in d else None
        )
        steps = _check_str_list("steps", d["steps"], report) if "steps" in d else None
        passes = d.get("passes")
        if "passes" in d and not isinstance(passes, bool):
            report("passes", f"expected true or false, got {_type_name(passes)}")
        active = passes is not True

        if "id" in d:
            task_id = _check_id(d["id"], report)
        elif category is not None:
            task_id = f"{_slug(category) or 'feature'}-{i + 1}"
        else:
            task_id = None
        label = f"{pos} {_q(task_id)}" if task_id is not None else pos
        f = _common_fields(
            d,
            problems.for_task(label),
            roles=roles,
            agents=agents,
            default_role=default_role,
            default_agent=default_agent,
            # A passing feature never runs, so its role and agent need not exist any more.
            check_members=active,
        )
        prompt = None
        if description is not None and steps is not None:
            prompt = description.strip()
            if steps:
                numbered = "\n".join(f"{n}. {s.strip()}" for n, s in enumerate(steps, 1))
                prompt += f"\n\nSteps:\n{numbered}"

        build = None
        if task_id is not None and prompt is not None:
            build = partial(
                TaskSpec,
                id=task_id,
                title=_title_from(description or ""),
                prompt=prompt,
                role=f.role,
                agent=f.agent,
                files=f.files,
                verify=f.verify,
                max_attempts=f.max_attempts,
                priority=f.priority,
                source=path.name,
                feature={"file": str(path), "index": i},
            )

        entries.append(
            _Entry(
                pos=pos,
                label=label,
                raw_id=d.get("id", task_id),
                id=task_id,
                active=active,
                depends_on=f.depends_on,
                build=build,
            )
        )

    specs = _cross_check(entries, problems)
    if not specs:
        # Nothing to run is almost always a mistake (wrong file, or the work is already done);
        # starting an empty run would only hide it.
        raise TaskFileError([f"{path}: no tasks: every feature already passes"])
    return specs


# --- tasks added at run time --------------------------------------------------------------------


def validate_new_task(
    spec: TaskSpec,
    *,
    existing: Mapping[str, TaskSpec] | Collection[str],
    roles: Collection[str],
    agents: Collection[str],
    where: str,
) -> None:
    """Check a task added at run time (``swarmtui add``, a spawn) against the run's tasks.

    ``existing`` holds the run's task ids (a mapping is read by its keys). Raises
    ``TaskFileError`` whose lines start with ``where``.
    """
    problems = _Problems(where)
    report = problems.for_task(f"task {_q(spec.id)}")
    ids = list(existing)
    if _check_id(spec.id, report) is not None:
        folded = {e.casefold(): e for e in ids}
        other = folded.get(spec.id.casefold())
        if other == spec.id:
            report("id", f"duplicate id: the run already has a task {_q(spec.id)}")
        elif other is not None:
            report("id", f"differs only in letter case from the existing task {_q(other)}")
    _check_member("role", spec.role, roles, report)
    _check_member("agent", spec.agent, agents, report)
    _check_files(list(spec.files), report)  # the same path rules as task files
    if not spec.prompt.strip():
        report("prompt", "expected a non-empty prompt")
    if spec.max_attempts is not None:
        _check_max_attempts(spec.max_attempts, report)
    known = set(ids)
    for dep in spec.depends_on:
        if dep == spec.id:
            # Existing tasks cannot depend on a task not yet added, so this is the only cycle.
            problems.add(None, None, f"dependency cycle: {spec.id} -> {spec.id}")
        elif dep not in known:
            report("depends_on", f"names unknown task {_q(dep)}")
    problems.raise_if_any()
