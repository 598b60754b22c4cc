"""Colour themes from TOML files.

The bundled themes live in the package (``swarmtui/data/themes/*.toml``; ``themes/`` at the top of
the repository holds the same files as the documented copy); users add their own under
``$XDG_CONFIG_HOME/swarmtui/themes/``, where a file with a bundled theme's name replaces it.
Every problem in a file is reported naming the file and the key, and a broken file never stops
the app: it is skipped and reported.

Besides Textual's base colours a theme defines swarmtui's own variables (``SWARM_VARIABLES``),
used only from ``*.tcss`` files. A theme that leaves some out (a user's, or one of Textual's
built-in themes chosen from the palette) gets them from its own generated palette, so every
theme can colour every agent state.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "swarm-dark"

# swarmtui's variables, each with the generated Textual colour it falls back to.
SWARM_VARIABLES: dict[str, str] = {
    "state-pending": "foreground-muted",
    "state-blocked": "text-warning",
    "state-running": "text-primary",
    "state-verifying": "text-secondary",
    "state-passed": "text-success",
    "state-failed": "text-error",
    "state-merged": "success",
    "state-dead": "error",
    "state-cancelled": "foreground-disabled",
    "health-ok": "text-success",
    "health-warn": "text-warning",
    "health-bad": "text-error",
    "diff-add": "text-success",
    "diff-del": "text-error",
    "diff-hunk": "text-accent",
    "log-tool": "text-accent",
    "log-result": "foreground-muted",
    "log-error": "text-error",
    "dim-text": "",  # between foreground and background; computed when missing
}

_COLOR_KEYS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground",
               "background", "surface", "panel", "boost")
_TOP_KEYS = {"name", "dark", "colors", "variables", "luminosity_spread", "text_alpha"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VARIABLE_RE = re.compile(r"^[a-z][a-z0-9-]*$")


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass
class ThemeSet:
    themes: dict[str, Theme] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def packaged_theme_dir() -> Path:
    return Path(str(resources.files("swarmtui") / "data" / "themes"))


def user_theme_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "swarmtui" / "themes"


def _color(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f'{where}: key {key}: expected a colour such as "#4ea1ff", got '
                             f"{type(value).__name__} {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f'{where}: key {key}: expected a colour such as "#4ea1ff", got '
                             f"{value!r}") from None
    return value


def _top(data: dict[str, Any], where: str, default_name: str, fail: Callable[[str], None]
         ) -> tuple[Any, Any, dict[str, float]]:
    """The name, ``dark`` and the two numbers of a theme table (problems go to ``fail``)."""
    for key in data:
        if key not in _TOP_KEYS:
            fail(f"{where}: key {key}: unknown (expected one of {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        fail(f"{where}: key name: expected lower-case letters, digits, '-' or '_', got {name!r}")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        fail(f"{where}: key dark: expected true or false, got {dark!r}")
    extra: dict[str, float] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                fail(f"{where}: key {key}: expected a number from 0 to 1, got {v!r}")
            else:
                extra[key] = float(v)
    return name, dark, extra


def _table(data: dict[str, Any], key: str, where: str, what: str,
           fail: Callable[[str], None]) -> dict[str, Any]:
    value = data.get(key, {})
    if isinstance(value, dict):
        return value
    fail(f"{where}: key {key}: expected {what}")
    return {}


def _colors(colors: dict[str, Any], where: str, fail: Callable[[str], None]) -> dict[str, str]:
    """The base colours of ``[colors]``: known keys only, each a colour Textual can parse."""
    if "primary" not in colors:
        fail(f"{where}: key colors.primary: missing (every theme needs a primary colour)")
    base: dict[str, str] = {}
    for key, value in colors.items():
        if key not in _COLOR_KEYS:
            fail(f"{where}: key colors.{key}: unknown (expected one of {', '.join(_COLOR_KEYS)})")
            continue
        try:
            base[key] = _color(where, f"colors.{key}", value)
        except ThemeFileError as e:
            fail(str(e))
    return base


def _variables(variables: dict[str, Any], where: str, fail: Callable[[str], None]
               ) -> dict[str, str]:
    """``[variables]``: swarmtui's colours and colour-like Textual ones are checked as colours;
    any other Textual variable must be a string."""
    out: dict[str, str] = {}
    for key, value in variables.items():
        if not _VARIABLE_RE.match(key):
            fail(f"{where}: key variables.{key}: not a variable name (lower-case words joined "
                 "by '-')")
            continue
        if key in SWARM_VARIABLES or key.endswith(("-background", "-foreground", "-color")):
            try:
                out[key] = _color(where, f"variables.{key}", value)
            except ThemeFileError as e:
                fail(str(e))
        elif not isinstance(value, str):
            fail(f"{where}: key variables.{key}: expected a string, got {value!r}")
        else:
            out[key] = value
    return out


def parse_theme(data: dict[str, Any], where: str, default_name: str) -> Theme:
    """Build a Theme from a parsed TOML table; raises ThemeFileError naming ``where`` and key
    (every problem of the file at once)."""
    problems: list[str] = []
    fail = problems.append
    name, dark, extra = _top(data, where, default_name, fail)
    base = _colors(_table(data, "colors", where, "a table of colours", fail), where, fail)
    out_vars = _variables(_table(data, "variables", where, "a table", fail), where, fail)
    if problems:
        raise ThemeFileError("\n".join(problems))
    theme = Theme(name=name, dark=dark, variables=out_vars,
                  **base, **extra)  # type: ignore[arg-type]
    try:
        theme.to_color_system().generate()
    except Exception as e:  # noqa: BLE001 - Textual's own complaint, reported against the file
        raise ThemeFileError(f"{where}: the colours do not make a theme: {e}") from None
    return theme


def load_theme_file(path: Path) -> Theme:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ThemeFileError(f"{where}: cannot read: {e.strerror or e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ThemeFileError(f"{where}: not valid TOML: {e}") from None
    except RecursionError:
        raise ThemeFileError(f"{where}: tables nested too deeply to read") from None
    return parse_theme(data, where, path.stem)


def load_themes(dirs: list[Path]) -> ThemeSet:
    """Every ``*.toml`` theme in ``dirs``, in order: a later file replaces an earlier name."""
    out = ThemeSet()
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as e:
                out.errors.append(str(e))
                continue
            out.themes[theme.name] = theme
            out.sources[theme.name] = path
    return out


def with_swarm_variables(theme: Theme) -> Theme:
    """``theme`` with every swarmtui variable it lacks taken from its own generated palette."""
    missing = [v for v in SWARM_VARIABLES if v not in theme.variables]
    if not missing:
        return theme
    generated = theme.to_color_system().generate()
    fallback = generated.get("foreground", "white")
    filled = {v: generated.get(SWARM_VARIABLES[v], fallback) for v in missing
              if SWARM_VARIABLES[v]}
    if "dim-text" in missing:
        try:
            fg, bg = Color.parse(generated["foreground"]), Color.parse(generated["background"])
            filled["dim-text"] = fg.blend(bg, 0.45).hex
        except (KeyError, ColorParseError):  # ANSI themes name their colours: nothing to blend
            filled["dim-text"] = fallback
    return dataclasses.replace(theme, variables={**filled, **theme.variables})
