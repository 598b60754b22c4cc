"""JSON feature lists, in the style of long-running agent harnesses.

The file is an array of objects with ``category``, ``description``, ``steps`` and ``passes``.
Every feature with ``passes: false`` becomes a task; features that already pass are skipped. A
``depends_on`` that names a passing feature is already satisfied, so it is dropped from the
task's ``depends_on``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from swarmtui.errors import TaskFileError
from swarmtui.model import TaskSpec
from swarmtui.tasks.checks import (
    _check_id,
    _check_str,
    _check_str_list,
    _check_unknown_keys,
    _common_fields,
    _Fields,
    _Problems,
    _q,
    _Report,
    _type_name,
)
from swarmtui.tasks.cross import _cross_check, _Entry
from swarmtui.tasks.ids import _slug, _title_from

FEATURE_REQUIRED = ("category", "description", "steps", "passes")
FEATURE_KEYS = (*FEATURE_REQUIRED, "id", "role", "agent", "files", "verify", "check",
                "depends_on", "priority", "max_attempts")

# _common_fields with the run's roles, agents and defaults bound: (object, report, check_members).
_FieldsOf = Callable[..., _Fields]


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
    doc = _parse_feature_list(path, text)
    fields_of = partial(
        _common_fields,
        roles=roles,
        agents=agents,
        default_role=default_role,
        default_agent=default_agent,
    )
    entries: list[_Entry] = []
    for i, d in enumerate(doc):
        if not isinstance(d, dict):
            problems.add(f"feature[{i}]", None, f"expected an object, got {_type_name(d)}")
            continue
        entries.append(_feature_entry(path, i, d, problems, fields_of))

    specs = _cross_check(entries, problems)
    if not specs:
        # Nothing to run is almost always a mistake (wrong file, or the work is already done);
        # starting an empty run would only hide it.
        raise TaskFileError([f"{path}: no tasks: every feature already passes"])
    return specs


def _parse_feature_list(path: Path, text: str) -> list[Any]:
    """The file's non-empty top-level array, or a TaskFileError saying what is wrong with it."""
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
    return doc


@dataclass
class _Texts:
    """The feature's own keys, checked: None where missing or bad (and reported)."""

    category: str | None
    description: str | None
    steps: list[str] | None
    active: bool  # False once the feature passes


def _feature_texts(d: Mapping[str, Any], report: _Report) -> _Texts:
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
    return _Texts(category, description, steps, active=passes is not True)


def _feature_id(d: Mapping[str, Any], i: int, category: str | None, report: _Report) -> str | None:
    """The id as written, else one made from the category and the (1-based) position."""
    if "id" in d:
        return _check_id(d["id"], report)
    if category is not None:
        return f"{_slug(category) or 'feature'}-{i + 1}"
    return None


def _feature_prompt(description: str | None, steps: list[str] | None) -> str | None:
    """The description, then the steps numbered; None unless both are valid."""
    if description is None or steps is None:
        return None
    prompt = description.strip()
    if steps:
        numbered = "\n".join(f"{n}. {s.strip()}" for n, s in enumerate(steps, 1))
        prompt += f"\n\nSteps:\n{numbered}"
    return prompt


def _feature_entry(
    path: Path, i: int, d: Mapping[str, Any], problems: _Problems, fields_of: _FieldsOf
) -> _Entry:
    pos = f"feature[{i}]"
    report = problems.for_task(pos)
    texts = _feature_texts(d, report)
    task_id = _feature_id(d, i, texts.category, report)
    label = f"{pos} {_q(task_id)}" if task_id is not None else pos
    # A passing feature never runs, so its role and agent need not exist any more.
    f = fields_of(d, problems.for_task(label), check_members=texts.active)
    prompt = _feature_prompt(texts.description, texts.steps)

    build = None
    if task_id is not None and prompt is not None:
        build = partial(
            TaskSpec,
            id=task_id,
            title=_title_from(texts.description or ""),
            prompt=prompt,
            role=f.role,
            agent=f.agent,
            files=f.files,
            verify=f.verify,
            check=f.check,
            max_attempts=f.max_attempts,
            priority=f.priority,
            source=path.name,
            feature={"file": str(path), "index": i},
        )
    return _Entry(
        pos=pos,
        label=label,
        raw_id=d.get("id", task_id),
        id=task_id,
        active=texts.active,
        depends_on=f.depends_on,
        build=build,
    )
