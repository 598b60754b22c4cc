"""Typed, validated configuration.

The config is a tree of pydantic models. Every field has a default, so ``Config()`` is the
built-in configuration, and unknown keys are errors so that a typo never silently falls back to
a default. Durations are written with units ("90s", "1h30m") and sizes with units ("512MiB") so
that no value's unit has to be guessed.

Files are read with :func:`load_config` (which looks the file up, see :func:`find_config_file`),
:func:`load_config_file` or :func:`config_from_dict`. Every problem with a file is reported in
one :class:`~swarmtui.errors.ConfigError`, one line per problem, each naming the file and the
dotted key path. Building models directly in Python raises pydantic's ``ValidationError`` instead
and, unlike a file, also accepts plain numbers of seconds or bytes for durations and sizes.

The file a config came from is kept on ``Config.source`` (a private attribute, not a setting: it
is not part of ``model_dump()``, ``to_dict()`` or equality).

The package is split by concern: ``units`` (durations and sizes), ``model`` (the sections and
``Config``), ``agentcfg`` (permissions, review, context fit, prices), ``messages`` (error
messages) and ``load`` (lookup and loading); everything is imported from here.
"""

from swarmtui.config.accounts import AccountConfig, RoleConfig
from swarmtui.config.agentcfg import (
    DEFAULT_ALLOW,
    ContextConfig,
    ModelPrice,
    PermissionsConfig,
    ReviewConfig,
    SandboxConfig,
    ScreenConfig,
    WorktreeConfig,
)
from swarmtui.config.load import (
    CONFIG_ENV_VAR,
    REPO_CONFIG,
    config_from_dict,
    find_config_file,
    load_config,
    load_config_file,
)
from swarmtui.config.model import (
    DEFAULT_PASS_ENV,
    ID_PATTERN,
    AgentConfig,
    Argv,
    BreakerConfig,
    BudgetConfig,
    Config,
    Count,
    EnvName,
    HeartbeatConfig,
    MergeConfig,
    Name,
    NotifyConfig,
    PositiveCount,
    RetryConfig,
    RunConfig,
    SlotsConfig,
    UIConfig,
    VerifyConfig,
    builtin_agents,
)
from swarmtui.config.units import (
    Duration,
    PositiveDuration,
    Size,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_ALLOW",
    "DEFAULT_PASS_ENV",
    "ID_PATTERN",
    "REPO_CONFIG",
    "AccountConfig",
    "AgentConfig",
    "Argv",
    "BreakerConfig",
    "BudgetConfig",
    "Config",
    "ContextConfig",
    "Count",
    "Duration",
    "EnvName",
    "HeartbeatConfig",
    "MergeConfig",
    "ModelPrice",
    "Name",
    "NotifyConfig",
    "PermissionsConfig",
    "PositiveCount",
    "PositiveDuration",
    "RetryConfig",
    "ReviewConfig",
    "RoleConfig",
    "RunConfig",
    "SandboxConfig",
    "ScreenConfig",
    "Size",
    "SlotsConfig",
    "UIConfig",
    "VerifyConfig",
    "WorktreeConfig",
    "builtin_agents",
    "config_from_dict",
    "find_config_file",
    "format_duration",
    "format_size",
    "load_config",
    "load_config_file",
    "parse_duration",
    "parse_size",
]
