"""Reading a task file and handing it to the loader of its format."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from swarmtui.errors import TaskFileError
from swarmtui.model import TaskSpec
from swarmtui.tasks.features import _load_features
from swarmtui.tasks.toml_tasks import _load_toml


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
