"""Finding the config file and loading it: lookup order, TOML reading, validation.

Every problem with a file is reported in one ``ConfigError``, one line per problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from swarmtui.config.messages import _describe_error
from swarmtui.config.model import Config, builtin_agents
from swarmtui.config.units import _FROM_FILE
from swarmtui.configpath import CONFIG_ENV_VAR, REPO_CONFIG, find_config_file
from swarmtui.errors import ConfigError

__all__ = ["CONFIG_ENV_VAR", "REPO_CONFIG", "config_from_dict", "find_config_file", "load_config",
           "load_config_file"]


def load_config(
    repo: Path | None = None,
    explicit: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Config:
    """Find the config file (see :func:`find_config_file`) and load it, or the defaults."""
    path = find_config_file(repo, explicit, environ)
    return Config() if path is None else load_config_file(path)


def load_config_file(path: Path) -> Config:
    """Read and validate one TOML config file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start})") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {_toml_error_position(str(err), text)}") from err
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nested too deeply to read") from None
    try:
        config = config_from_dict(data, str(path))
    except RecursionError:
        raise ConfigError(f"{path}: values nested too deeply to check") from None
    config._source = path
    return config


_TOML_POS_RE = re.compile(r"^(?P<what>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_TOML_END_RE = re.compile(r"^(?P<what>.*) \(at end of document\)$", re.S)


def _toml_error_position(message: str, text: str) -> str:
    """Turn tomllib's "<what> (at line L, column C)" into "line L, column C: <what>"."""
    if match := _TOML_POS_RE.match(message):
        return f"line {match['line']}, column {match['col']}: {match['what']}"
    if match := _TOML_END_RE.match(message):
        lines = text.split("\n")
        return f"line {len(lines)}, column {len(lines[-1]) + 1}: {match['what']} at end of file"
    return message


def config_from_dict(data: Mapping[str, Any], source: str) -> Config:
    """Validate parsed TOML data; ``source`` names the file in error messages.

    ``[agents.<name>]`` tables are added to the built-in agents, replacing one of the same name;
    every other table replaces the default value of its keys (so ``[slots.pools]`` lists all
    roles).
    """
    data = dict(data)
    user_agents = data.get("agents")
    if isinstance(user_agents, Mapping):
        data["agents"] = {**builtin_agents(), **user_agents}
    try:
        return Config.model_validate(data, strict=True, context={_FROM_FILE: True})
    except ValidationError as err:
        problems = [f"{source}: {_describe_error(e)}" for e in err.errors(include_url=False)]
        raise ConfigError("\n".join(problems)) from None
