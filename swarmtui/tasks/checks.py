"""Field checks shared by both task file formats and by ``validate_new_task``.

Each check reports a problem through a ``_Report`` (key or None, message) and returns the checked
value or None; ``_Problems`` collects the lines of one file, each naming the file, the task and
the key.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from swarmtui.errors import TaskFileError
from swarmtui.tasks.ids import ID_EXPECTED, is_valid_task_id

# A problem sink for one task: (key or None, message).
_Report = Callable[[str | None, str], None]


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
    check: str | None = None
    depends_on: tuple[str, ...] = ()
    max_attempts: int | None = None
    priority: int = 0
    accounts: tuple[str, ...] = ()
    mode: str = ""


MODES = ("stream", "interactive")


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
    if "check" in d:
        f.check = _check_str("check", d["check"], report)
    if "depends_on" in d:
        deps = _check_str_list("depends_on", d["depends_on"], report)
        f.depends_on = _dedupe(deps or ())
    if "max_attempts" in d:
        f.max_attempts = _check_max_attempts(d["max_attempts"], report)
    if "accounts" in d:
        names = _check_str_list("accounts", d["accounts"], report) or []
        if len(set(names)) != len(names):
            report("accounts", "expected each account (or CLI) once, in order of preference")
        f.accounts = _dedupe(names)
    if "mode" in d:
        if d["mode"] in MODES:
            f.mode = d["mode"]
        else:
            report("mode", f"expected one of {', '.join(map(_q, MODES))}, got "
                   + (_q(d["mode"]) if isinstance(d["mode"], str) else _type_name(d["mode"])))
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


# --- the per-file problem collector -----------------------------------------------------------


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
