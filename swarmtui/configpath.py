"""Which config file a command uses: the lookup order, without reading the file.

Kept apart from ``swarmtui.config`` (pydantic, the whole model) so that the fast path of
`swarmtui status` can tell which file the slow path would load, and whether the supervisor has
already loaded that very file, without importing the config model; and free of pathlib at
import (``find_config_path``), which would be a fifth of that path's cost.
"""

from __future__ import annotations

import os

from swarmtui.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

CONFIG_ENV_VAR = "SWARMTUI_CONFIG"


def __getattr__(name: str) -> object:
    """``REPO_CONFIG`` (a Path) on first use, so that importing this module loads no pathlib."""
    if name == "REPO_CONFIG":
        from pathlib import Path

        return Path(".swarm") / "config.toml"
    raise AttributeError(name)


def find_config_file(
    repo: Path | None, explicit: Path | None, environ: Mapping[str, str] = os.environ
) -> Path | None:
    """The config file to use, or None for the built-in defaults.

    In order: ``explicit`` (must exist), ``$SWARMTUI_CONFIG`` (must exist),
    ``<repo>/.swarm/config.toml``, ``$XDG_CONFIG_HOME/swarmtui/config.toml`` (default
    ``~/.config``). A named file that is missing is an error rather than a silent fallback.
    """
    from pathlib import Path

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
    found = find_config_path(None if repo is None else os.fspath(repo), None, environ)
    return None if found is None else Path(found)


def find_config_path(repo: str | None, explicit: str | None,
                     environ: Mapping[str, str] = os.environ) -> str | None:
    """``find_config_file``'s answer as a string: the same file. A named file (``explicit`` or
    ``$SWARMTUI_CONFIG``) takes ``find_config_file``'s way, with its errors; the lookup in
    the repository and the user's folder is done here, on strings."""
    if explicit is not None or environ.get(CONFIG_ENV_VAR, ""):
        from pathlib import Path

        named = find_config_file(None, None if explicit is None else Path(explicit), environ)
        return None if named is None else str(named)
    if repo is not None:
        path = os.path.join(repo, ".swarm", "config.toml")
        if os.path.isfile(path):
            return path
    xdg = environ.get("XDG_CONFIG_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    if not (xdg and os.path.isabs(xdg)):
        xdg = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".config")
    path = os.path.join(xdg, "swarmtui", "config.toml")
    return path if os.path.isfile(path) else None
