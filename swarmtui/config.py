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
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import ConfigError

__all__ = [
    "AgentConfig",
    "BreakerConfig",
    "BudgetConfig",
    "Config",
    "Duration",
    "HeartbeatConfig",
    "MergeConfig",
    "NotifyConfig",
    "RetryConfig",
    "RunConfig",
    "Size",
    "SlotsConfig",
    "UIConfig",
    "VerifyConfig",
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

CONFIG_ENV_VAR = "SWARMTUI_CONFIG"

# What an agent gets from the environment of whoever started (or resumed) the run: the basics
# of a shell, locale, API keys and endpoints of the agent CLIs, git and SSH agent access, and
# the usual toolchain variables. Anything else must be named in run.pass_env.
DEFAULT_PASS_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "TZ", "TMPDIR",
    "LANG", "LANGUAGE", "LC_*", "XDG_*", "SSH_AUTH_SOCK",
    "ANTHROPIC_*", "CLAUDE_*", "OPENAI_*", "GEMINI_*", "GOOGLE_API_KEY", "AWS_*",
    "GIT_*", "GH_TOKEN", "GITHUB_TOKEN", "NODE_*", "NPM_*", "npm_config_*", "PYTHON*",
    "VIRTUAL_ENV", "CONDA_*", "CARGO_HOME", "RUSTUP_HOME", "GOPATH", "JAVA_HOME",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "IS_SANDBOX",
)
REPO_CONFIG = Path(".swarm") / "config.toml"

# Validation context key set when the data comes from a file: there, a bare number for a
# duration or size is an error, because "90" could mean seconds or minutes.
_FROM_FILE = "from_file"


class _Expect:
    """Annotated metadata: how an error message describes what the value should be.

    ``show`` turns a validated value back into the way a file writes it, so that a value that
    parsed but broke a bound is quoted as the user wrote it ("0s", not 0.0).
    """

    def __init__(self, text: str, show: Callable[[Any], str] | None = None) -> None:
        self.text = text
        self.show = show

    def __repr__(self) -> str:
        return f"_Expect({self.text!r})"


# --- durations --------------------------------------------------------------------------------

_DURATION_EXPECTED = 'a duration with a unit such as "90s", "10m" or "1h"'
_DURATION_UNITS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_RE = re.compile(r"(?:\s*(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ms|[dhms]))+\s*")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|[dhms])")


def parse_duration(text: str) -> float:
    """Parse "500ms", "90s", "10m", "1h30m", "2d" into seconds.

    Parts must come largest unit first, each unit at most once. Raises ``ValueError`` for a
    bare number or a string without units, since the unit would have to be guessed.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {_DURATION_EXPECTED}, got {_describe_input(text)}")
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"expected {_DURATION_EXPECTED}, got {text!r}")
    order = list(_DURATION_UNITS)
    total = 0.0
    last_rank = -1
    for number, unit in _DURATION_PART_RE.findall(text):
        rank = order.index(unit)
        if rank <= last_rank:
            raise ValueError(
                f"expected {_DURATION_EXPECTED} with the largest unit first and each unit "
                f"once, got {text!r}"
            )
        last_rank = rank
        total += float(number) * _DURATION_UNITS[unit]
    return total


def format_duration(seconds: float) -> str:
    """Format seconds the way a config file writes them: 90 -> "1m30s", 0.5 -> "500ms".

    ``parse_duration(format_duration(x)) == x`` for whole milliseconds.
    """
    if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    millis = round(seconds * 1000)
    if abs(millis / 1000 - seconds) > 1e-9:
        # Finer than a millisecond: keep the precision as fractional seconds.
        return _trim_number(seconds) + "s"
    if millis == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _trim_number(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".") or "0"


def _validate_duration(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    from_file = bool(info.context and info.context.get(_FROM_FILE))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not from_file:
        return value  # Python callers may give seconds directly.
    raise ValueError(f"expected {_DURATION_EXPECTED}, got {_describe_input(value)}")


Duration = Annotated[
    float,
    BeforeValidator(_validate_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    _Expect(_DURATION_EXPECTED, format_duration),
]
"""Seconds as a float; written in files as a string with units."""

PositiveDuration = Annotated[
    Duration,
    at.Gt(0),
    _Expect('a duration longer than zero such as "90s", "10m" or "1h"', format_duration),
]


# --- sizes ------------------------------------------------------------------------------------

_SIZE_EXPECTED = 'a size with a unit such as "512MiB", "2GiB" or "100KB" (or "0")'
_SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]+)\s*")


def parse_size(text: str) -> int:
    """Parse "512MiB", "2GiB", "1GB", "100KiB", "10B" or "0" into bytes.

    KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024; units are case-insensitive.
    Raises ``ValueError`` for any other number without a unit.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {_SIZE_EXPECTED}, got {_describe_input(text)}")
    if text.strip() == "0":
        return 0
    match = _SIZE_RE.fullmatch(text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected {_SIZE_EXPECTED}, got {text!r}")
    return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_size(size: int) -> str:
    """Format bytes with the largest binary unit that divides them: 20971520 -> "20MiB"."""
    if isinstance(size, bool) or size < 0:
        raise ValueError(f"cannot format {size!r} as a size")
    if size == 0:
        return "0"
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        factor = _SIZE_UNITS[unit.lower()]
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def _validate_size(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return parse_size(value)
    from_file = bool(info.context and info.context.get(_FROM_FILE))
    if isinstance(value, int) and not isinstance(value, bool) and (value == 0 or not from_file):
        return value  # 0 is unambiguous; Python callers may give bytes directly.
    raise ValueError(f"expected {_SIZE_EXPECTED}, got {_describe_input(value)}")


Size = Annotated[
    int,
    BeforeValidator(_validate_size),
    at.Ge(0),
    PlainSerializer(format_size, return_type=str, when_used="json"),
    _Expect(_SIZE_EXPECTED, format_size),
]
"""Bytes as an int; written in files as a string with units."""


# --- names ------------------------------------------------------------------------------------

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_ID_EXPECTED = (
    "a name of 1-64 letters, digits, '.', '_' or '-' that starts with a letter or digit"
)
Name = Annotated[str, StringConstraints(pattern=ID_PATTERN), _Expect(_ID_EXPECTED)]
"""A role, agent or socket name: safe in file names, branch names and tmux targets."""

EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
    _Expect("an environment variable name (letters, digits and '_', not starting with a digit)"),
]
Argv = Annotated[
    list[Annotated[str, at.MinLen(1)]],
    _Expect("an array of non-empty strings (the command and its arguments)"),
]
Count = Annotated[int, at.Ge(0)]
PositiveCount = Annotated[int, at.Ge(1)]


def _cross_error(key: str, message: str) -> PydanticCustomError:
    """An error that involves several fields, reported at ``key`` below the model's location."""
    return PydanticCustomError("swarm_cross", "{message}", {"key": key, "message": message})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- sections ---------------------------------------------------------------------------------


class SlotsConfig(_Section):
    """How many agents may run at once, and who may use the last slots."""

    max_agents: PositiveCount = 4
    reserve: Count = 1
    """Slots kept free for tasks with priority >= ``reserve_priority``; must be < max_agents."""
    reserve_priority: int = 10
    max_depth: Count = 2
    """How deep sub-agents may nest (0: agents may not spawn sub-agents)."""
    subtree_budget: Count = 2
    """How many sub-agents one agent's subtree may hold at once."""
    min_free_memory: Size = 1024**3
    """No new agent starts while MemAvailable is below this."""
    pools: dict[Name, PositiveCount] = Field(
        default_factory=lambda: {"worker": 4, "orchestrator": 2, "resolver": 1}
    )
    """Role name -> most agents of that role at once. The keys are the known roles."""

    @model_validator(mode="after")
    def _reserve_below_max(self) -> SlotsConfig:
        if self.reserve >= self.max_agents:
            raise _cross_error(
                "reserve",
                f"expected reserve to be less than slots.max_agents ({self.max_agents}), "
                f"got {self.reserve}",
            )
        return self


class HeartbeatConfig(_Section):
    """How agents' progress is watched; counts are in progress intervals."""

    tick: PositiveDuration = 1.0
    """How often the supervisor checks health and writes its own heartbeat."""
    progress_interval: PositiveDuration = 60.0
    """How often an agent is expected to append a progress line."""
    quiet_after: PositiveCount = 2
    stuck_after: PositiveCount = 3
    auto_kill: bool = True
    """Kill and requeue a stuck agent (false: only alert)."""
    unproductive_after: PositiveCount = 5
    orphan_timeout: PositiveDuration = 300.0
    """An agent's wrapper ends the agent once the supervisor is silent this long."""
    stale_result_after: PositiveCount = 3

    @model_validator(mode="after")
    def _stuck_after_quiet(self) -> HeartbeatConfig:
        if self.stuck_after <= self.quiet_after:
            raise _cross_error(
                "stuck_after",
                f"expected stuck_after to be greater than heartbeat.quiet_after "
                f"({self.quiet_after}), got {self.stuck_after}",
            )
        return self


class RetryConfig(_Section):
    """Retries of failed attempts, with exponential backoff."""

    max_attempts: PositiveCount = 3
    backoff: Duration = 30.0
    """Delay before the 2nd attempt; it doubles for each further attempt."""
    backoff_max: Duration = 600.0
    continue_from_previous: bool = False
    """A retry branches from the previous attempt's branch instead of the base."""

    @model_validator(mode="after")
    def _max_covers_base(self) -> RetryConfig:
        if self.backoff_max < self.backoff:
            raise _cross_error(
                "backoff_max",
                f"expected backoff_max to be at least retry.backoff "
                f"({format_duration(self.backoff)}), got {format_duration(self.backoff_max)}",
            )
        return self


class BreakerConfig(_Section):
    """Circuit breaker: stop retrying after ``max_failures`` failures within ``period``."""

    max_failures: PositiveCount = 5
    period: PositiveDuration = 600.0


class VerifyConfig(_Section):
    """The per-task verification command."""

    timeout: PositiveDuration = 600.0
    tail_bytes: Count = 4000
    """How many bytes of the end of the verify output are kept."""


class RunConfig(_Section):
    """Defaults for running agents."""

    default_agent: str = "claude"
    default_role: str = "worker"
    kill_grace: Duration = 10.0
    """After TERM, wait this long before KILL."""
    log_max_bytes: Annotated[
        Size, at.Gt(0), _Expect('a size larger than zero such as "20MiB"', format_size)
    ] = 20 * 1024**2
    """Cap on each output.log: the head and the newest tail are kept."""
    tmux_socket: Annotated[
        str,
        StringConstraints(pattern=r"^$|" + ID_PATTERN),
        _Expect(f'"" (the default socket) or {_ID_EXPECTED}'),
    ] = ""
    """tmux socket name (tmux -L); empty means swarmtui's own default name."""
    pass_env: list[Annotated[str, at.MinLen(1)]] = Field(
        default_factory=lambda: list(DEFAULT_PASS_ENV))
    """Names and globs of the caller's environment that agents get (set per agent at spawn)."""


class AgentConfig(_Section):
    """How to launch one agent CLI.

    ``prompt_via`` says how the prompt reaches the agent: "stdin" pipes it in; "file" passes the
    prompt file's path, in place of a "{prompt_file}" placeholder in ``command`` if there is one,
    else as the last argument; "argument" passes the prompt text the same way, with "{prompt}".
    """

    command: Annotated[
        Argv,
        at.MinLen(1),
        _Expect("a non-empty array of non-empty strings (the command and its arguments)"),
    ]
    prompt_via: Literal["stdin", "file", "argument"] = "stdin"
    adapter: Literal["generic", "claude"] = "generic"
    """How output is read: "generic" knows the agent only through the protocol files."""
    env: dict[EnvName, str] = Field(default_factory=dict)
    """Extra environment variables for the agent."""


def builtin_agents() -> dict[str, AgentConfig]:
    """The agents every config has unless a file replaces them by name (fresh copies)."""
    return {
        "claude": AgentConfig(
            command=["claude", "-p", "--output-format", "stream-json", "--verbose"],
            prompt_via="stdin",
            adapter="claude",
        )
    }


class MergeConfig(_Section):
    """How verified work is merged back."""

    target: str = ""
    """Branch to merge into; empty means the branch checked out when the run started."""
    verify: str = ""
    """Shell command run on the target after each merge; empty means no integration check."""
    method: Literal["merge", "squash"] = "merge"
    auto: bool = False
    """Merge verified tasks without asking."""
    revert_on_failure: bool = True
    """Keep a merge whose integration check fails off the target (false: land it, flagged)."""
    allow_out_of_scope: bool = False
    """Let automatic merges include changes outside a task's declared files."""


class BudgetConfig(_Section):
    max_cost_usd: Annotated[float, at.Ge(0)] = 0.0
    """Stop starting agents once the run has cost this much; 0 means no limit."""


class UIConfig(_Section):
    theme: str = "swarm-dark"
    bell: bool = True
    """Ring the terminal bell on alerts."""
    keymap: dict[str, Annotated[str, at.MinLen(1)]] = Field(default_factory=dict)
    """Binding id -> key, overriding the default key of that binding."""


class NotifyConfig(_Section):
    command: Argv = Field(default_factory=list)
    """Run on each alert with SWARM_ALERT_KIND, _TASK and _TEXT set; empty means none."""


class Config(_Section):
    """The whole configuration. ``Config()`` is the built-in default."""

    slots: SlotsConfig = Field(default_factory=SlotsConfig)
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    agents: dict[Name, AgentConfig] = Field(default_factory=builtin_agents)
    merge: MergeConfig = Field(default_factory=MergeConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    ui: UIConfig = Field(default_factory=UIConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)

    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _defaults_exist(self) -> Config:
        if self.run.default_agent not in self.agents:
            raise _cross_error(
                "run.default_agent",
                f"expected the name of a configured agent ({_names(self.agents)}), "
                f"got {self.run.default_agent!r}",
            )
        if self.run.default_role not in self.slots.pools:
            raise _cross_error(
                "run.default_role",
                f"expected a role from [slots.pools] ({_names(self.slots.pools)}), "
                f"got {self.run.default_role!r}",
            )
        return self

    def __eq__(self, other: object) -> bool:
        # Compare settings only: where two equal configs were read from does not matter.
        if not isinstance(other, Config):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    @property
    def source(self) -> Path | None:
        """The file this config was loaded from; None for built-in defaults or a dict."""
        return self._source

    @property
    def roles(self) -> set[str]:
        """The roles the config knows: the keys of ``[slots.pools]``."""
        return set(self.slots.pools)

    def retry_delay(self, failures: int) -> float:
        """Seconds to wait before the next attempt after ``failures`` failed attempts."""
        if failures < 1:
            return 0.0
        # Cap the exponent: beyond 2**62 the cap wins anyway and floats would overflow.
        delay = self.retry.backoff * 2.0 ** min(failures - 1, 62)
        return min(delay, self.retry.backoff_max)

    def to_dict(self) -> dict[str, Any]:
        """The effective config as plain data, durations and sizes written with units."""
        return self.model_dump(mode="json")


def _names(keys: Mapping[str, Any]) -> str:
    return ", ".join(sorted(keys)) or "none"


# --- finding and loading ----------------------------------------------------------------------


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


# --- error messages ---------------------------------------------------------------------------

_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a TOML dotted key: ("slots", "pools", "a b") -> slots.pools."a b"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            piece = part if _BARE_KEY_RE.match(part) else json.dumps(part)
            out += f".{piece}" if out else piece
    return out


def _describe_error(err: Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "swarm_cross":
        ctx = err["ctx"]
        key = _key_path(loc + tuple(ctx["key"].split(".")))
        return f"key `{key}`: {ctx['message']}"
    if kind == "extra_forbidden":
        return _describe_unknown_key(loc)
    if kind == "value_error" and loc and loc[-1] != "[key]":
        # Raised by our own parsers, whose message already says what was expected.
        return f"key `{_key_path(loc)}`: {err['ctx']['error']}"
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        parent = _type_at(loc[:-1])
        key_type = get_args(_strip(parent)[0])[0] if parent is not None else None
        expected = _expected(key_type) if key_type is not None else None
        what = f"expected {expected}" if expected else err["msg"]
        return f"invalid name `{_key_path(loc)}`: {what}, got {err['input']!r}"
    tp = _type_at(loc)
    expected = _expected(tp) if tp is not None else None
    key = _key_path(loc)
    if kind == "missing":
        return f"missing key `{key}`" + (f": expected {expected}" if expected else "")
    got = _describe_input(err["input"])
    expect = _expect_of(tp)
    show = expect.show if expect is not None else None
    value = err["input"]
    if show is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            got = repr(show(value))
        except ValueError:
            pass  # e.g. a negative number: quote it as it is
    if expected is None:
        return f"key `{key}`: {err['msg']}, got {got}"
    return f"key `{key}`: expected {expected}, got {got}"


def _describe_unknown_key(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1])
    parent = _type_at(loc[:-1])
    model = _strip(parent)[0] if parent is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return f"unknown key `{_key_path(loc)}`"
    known = list(model.model_fields)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    where = f"keys in [{_key_path(loc[:-1])}]" if len(loc) > 1 else "sections"
    return f"unknown key `{_key_path(loc)}` ({hint}known {where}: {', '.join(known)})"


def _describe_input(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        shown = json.dumps(value, default=str)
        return shown if len(shown) <= 60 else f"an array of {len(value)} items"
    if isinstance(value, (int, float)):
        return repr(value)
    return repr(value) if isinstance(value, str) else f"{value}"


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """Unwrap ``Annotated`` (also nested), returning the bare type and all its metadata."""
    metadata: list[Any] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        metadata = list(args[1:]) + metadata
    return tp, metadata


def _type_at(loc: tuple[int | str, ...]) -> Any:
    """The declared type (with its metadata) at a location in ``Config``, or None."""
    tp: Any = Config
    for part in loc:
        bare, _metadata = _strip(tp)
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            field = bare.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
            if field.metadata:  # pydantic moves a field's Annotated extras into metadata
                tp = Annotated[(tp, *field.metadata)]
        elif get_origin(bare) is dict:
            tp = get_args(bare)[1]
        elif get_origin(bare) is list and isinstance(part, int):
            tp = get_args(bare)[0]
        else:
            return None
    return tp


def _expect_of(tp: Any) -> _Expect | None:
    """The outermost ``_Expect`` annotation of ``tp``, if any."""
    for item in reversed(_strip(tp)[1]):
        if isinstance(item, _Expect):
            return item
    return None


def _expected(tp: Any) -> str | None:
    """A phrase for what a value of type ``tp`` looks like, e.g. "an integer >= 1"."""
    if (expect := _expect_of(tp)) is not None:
        return expect.text
    bare, metadata = _strip(tp)
    bounds = []
    for item in metadata:
        if isinstance(item, at.Ge):
            bounds.append(f">= {item.ge}")
        elif isinstance(item, at.Gt):
            bounds.append(f"> {item.gt}")
    suffix = (" " + " and ".join(bounds)) if bounds else ""
    origin = get_origin(bare)
    if bare is bool:
        return "true or false"
    if bare is int:
        return "an integer" + suffix
    if bare is float:
        return "a number" + suffix
    if bare is str:
        non_empty = any(isinstance(m, at.MinLen) for m in metadata)
        return "a non-empty string" if non_empty else "a string"
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in get_args(bare))
    if origin is list:
        return "an array"
    if origin is dict or (isinstance(bare, type) and issubclass(bare, BaseModel)):
        return "a table"
    return None
