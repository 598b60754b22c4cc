"""A run's own config: what the run stores about how it was started, and the config rebuilt from
that when the run is resumed or inspected (light imports: every ``status`` reads it)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from swarmtui.config import Config, config_from_dict
from swarmtui.config.load import load_config_file
from swarmtui.errors import InputError
from swarmtui.model import RunSettings
from swarmtui.secrets import redact_config, restore_secrets


def config_digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def config_differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two configs as plain data."""
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        name = f"{prefix}{key}"
        if isinstance(va, dict) and isinstance(vb, dict):
            out += config_differences(va, vb, name + ".")
        elif va != vb:
            out.append(name)
    return out


def settings_for(config: Config, tasks_file: str) -> RunSettings:
    """What a run stores about how it was started; secret values of agent env are replaced by a
    marker (the log is read by every ``status``, and copied into reports)."""
    data = redact_config(config.to_dict())
    return RunSettings(config=data, config_path=str(config.source) if config.source else None,
                       config_digest=config_digest(data), tasks_file=tasks_file)


def config_of_run(settings: RunSettings | None, fallback: Config) -> Config:
    if settings is None:
        return fallback
    sources: list[dict[str, Any]] = []
    if settings.config_path and Path(settings.config_path).is_file():
        try:
            sources.append(load_config_file(Path(settings.config_path)).to_dict())
        except InputError:
            pass  # the file went bad since: the caller's config still fills secrets
    sources.append(fallback.to_dict())
    data = restore_secrets(settings.config, *sources)
    cfg = config_from_dict(data, "the run's stored config")
    if settings.config_path:
        cfg._source = Path(settings.config_path)
    return cfg
