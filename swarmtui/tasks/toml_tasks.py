"""TOML task files: an array of ``[[task]]`` tables (see ``TOML_KEYS``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from swarmtui.errors import TaskFileError
from swarmtui.model import TaskSpec
from swarmtui.tasks.checks import (
    _check_id,
    _check_str,
    _check_unknown_keys,
    _common_fields,
    _Problems,
    _q,
    _Report,
    _type_name,
)
from swarmtui.tasks.cross import _cross_check, _Entry
from swarmtui.tasks.ids import _title_from

TOML_KEYS = (
    "id",
    "title",
    "prompt",
    "prompt_file",
    "role",
    "agent",
    "files",
    "verify",
    "check",
    "depends_on",
    "max_attempts",
    "priority",
    "accounts",
    "mode",
)


def config_sections() -> frozenset[str]:
    """The config file's top-level tables ([agents.*], [slots], ...)."""
    from swarmtui.config.model import Config

    return frozenset(Config.model_fields)


def _config_in_tasks(text: str, key: str, value: object) -> str:
    """Why a config table in a tasks file is refused, with the line where it starts."""
    head = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[.\]]")
    line = next((n for n, ln in enumerate(text.splitlines(), 1) if head.match(ln)), None)
    names = sorted(value) if key == "agents" and isinstance(value, dict) else []
    what = ", ".join(f"[{key}.{n}]" for n in names[:5]) if names else f"[{key}]"
    where = f"line {line}: " if line else ""
    return (f"{where}{what} is configuration, not a task: it belongs in the config file "
            "(.swarm/config.toml in the repository, ~/.config/swarmtui/config.toml, or "
            "--config FILE; see config.toml.example); a tasks file holds only [[task]] tables"
            + (", and a task picks its agent with agent = \"NAME\"" if key == "agents" else ""))


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
        if key in config_sections():
            problems.add(None, None, _config_in_tasks(text, key, doc[key]))
        elif key != "task":
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
                check=f.check,
                max_attempts=f.max_attempts,
                priority=f.priority,
                accounts=f.accounts,
                mode=f.mode,
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
