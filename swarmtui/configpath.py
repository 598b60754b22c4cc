"""Which config file a command uses: the lookup order, without reading the file.

Kept apart from ``swarmtui.config`` (pydantic, the whole model) so that the fast path of
`swarmtui status` can tell which file the slow path would load, and whether the supervisor has
already loaded that very file, without importing the config model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from swarmtui.errors import ConfigError

CONFIG_ENV_VAR = "SWARMTUI_CONFIG"
REPO_CONFIG = Path(".swarm") / "config.toml"


def find_config_file(
    repo: Path | None, explicit: Path | None, environ: Mapping[str, str] = os.environ
) -> Path | None:
    """The config file to use, or None for the built-in defaults.

    In order: ``explicit`` (must exist), ``$SWARMTUI_CONFIG`` (must exist),
    ``<repo>/.swarm/config.toml``, ``$XDG_CONFIG_HOME/swarmtui/config.toml`` (default
    ``~/.config``). A named file that is missing is an error rather than a silent fallback.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file given on the command line does not exist")
        return path
    from_env = environ.get(CONFIG_ENV_VAR, "")
    if from_env:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file named by ${CONFIG_ENV_VAR} does not exist")
        return path
    if repo is not None:
        path = Path(repo) / REPO_CONFIG
        if path.is_file():
            return path
    path = _user_config_dir(environ) / "swarmtui" / "config.toml"
    return path if path.is_file() else None


def _user_config_dir(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg)
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".config"
