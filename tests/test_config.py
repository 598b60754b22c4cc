"""Tests for swarmtui.config: defaults, lookup order, error messages, units."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from swarmtui.config import (
    AgentConfig,
    Config,
    HeartbeatConfig,
    RetryConfig,
    config_from_dict,
    find_config_file,
    format_duration,
    format_size,
    load_config,
    load_config_file,
    parse_duration,
    parse_size,
)
from swarmtui.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.toml.example"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    """Write ``text`` as a config file, load it, and return the path and the error message."""
    path = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    return path, str(info.value)


# --- defaults and the example file ------------------------------------------------------------


def test_example_file_equals_defaults() -> None:
    loaded = load_config_file(EXAMPLE)
    assert loaded.model_dump() == Config().model_dump()
    assert loaded == Config()
    assert loaded.source == EXAMPLE


def _dotted_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _dotted_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(prefix + (field.alias or name))  # as written in a file
    return keys


def test_example_file_sets_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for key in _dotted_keys(Config):
        node = data
        for part in key.split("."):
            assert part in node, f"config.toml.example does not set {key}"
            node = node[part]
    # The agent table documents every agent key too.
    assert set(data["agents"]["claude"]) == set(AgentConfig.model_fields)


def test_defaults() -> None:
    config = Config()
    assert config.slots.max_agents == 4
    assert config.slots.min_free_memory == 1024**3
    assert config.heartbeat.progress_interval == 60.0
    assert config.heartbeat.orphan_timeout == 300.0
    assert config.run.log_max_bytes == 20 * 1024**2
    assert config.roles == {"worker", "orchestrator", "resolver"}
    assert config.agents["claude"].adapter == "claude"
    assert config.source is None


def test_to_dict_writes_units() -> None:
    data = Config().to_dict()
    assert data["heartbeat"]["tick"] == "1s"
    assert data["retry"]["backoff_max"] == "10m"
    assert data["slots"]["min_free_memory"] == "1GiB"
    # What to_dict shows loads back as the same config.
    assert config_from_dict(data, "<dict>") == Config()


def test_python_callers_may_give_plain_seconds() -> None:
    config = Config(heartbeat=HeartbeatConfig(tick=0.05))
    assert config.heartbeat.tick == 0.05
    assert config.to_dict()["heartbeat"]["tick"] == "50ms"


def test_user_agents_are_added_to_builtin(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[agents.aider]\ncommand = ["aider", "--message-file", "{prompt_file}"]\n'
        'prompt_via = "file"\n\n[run]\ndefault_agent = "aider"\n',
    )
    config = load_config_file(path)
    assert set(config.agents) == {"claude", "aider"}
    assert config.agents["aider"].prompt_via == "file"
    assert config.agents["aider"].adapter == "generic"
    assert config.run.default_agent == "aider"


def test_user_agent_replaces_builtin_of_same_name(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[agents.claude]\ncommand = ["my-claude"]\n')
    config = load_config_file(path)
    assert config.agents["claude"] == AgentConfig(command=["my-claude"])


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[slots]\nmax_agents = 8\n\n[retry]\nbackoff = "1m"\n')
    config = load_config_file(path)
    assert config.slots.max_agents == 8
    assert config.slots.reserve == 1
    assert config.retry.backoff == 60.0
    assert config.heartbeat == HeartbeatConfig()


# --- lookup order ------------------------------------------------------------------------------


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """One config file at every place lookup searches, each with its own max_agents."""
    explicit = write(tmp_path / "explicit.toml", "[slots]\nmax_agents = 11\n")
    env = write(tmp_path / "env.toml", "[slots]\nmax_agents = 12\n")
    repo = tmp_path / "repo"
    write(repo / ".swarm" / "config.toml", "[slots]\nmax_agents = 13\n")
    xdg = tmp_path / "xdg"
    write(xdg / "swarmtui" / "config.toml", "[slots]\nmax_agents = 14\n")
    home = tmp_path / "home"
    write(home / ".config" / "swarmtui" / "config.toml", "[slots]\nmax_agents = 15\n")
    return {"explicit": explicit, "env": env, "repo": repo, "xdg": xdg, "home": home}


def test_lookup_order(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMTUI_CONFIG", str(places["env"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(places["xdg"]))
    monkeypatch.setenv("HOME", str(places["home"]))
    repo = places["repo"]

    def max_agents(**kwargs: object) -> int:
        return load_config(**kwargs).slots.max_agents  # type: ignore[arg-type]

    assert max_agents(repo=repo, explicit=places["explicit"]) == 11
    assert max_agents(repo=repo) == 12
    monkeypatch.delenv("SWARMTUI_CONFIG")
    assert max_agents(repo=repo) == 13
    assert max_agents(repo=None) == 14
    assert max_agents(repo=places["home"] / "no-repo") == 14
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert max_agents(repo=None) == 15
    monkeypatch.setenv("HOME", str(places["home"] / "empty"))
    assert find_config_file(None, None) is None
    assert load_config() == Config()


def test_lookup_with_explicit_environ(places: dict[str, Path]) -> None:
    environ = {"XDG_CONFIG_HOME": str(places["xdg"]), "HOME": str(places["home"])}
    assert find_config_file(None, None, environ) == places["xdg"] / "swarmtui" / "config.toml"
    environ["SWARMTUI_CONFIG"] = str(places["env"])
    assert find_config_file(places["repo"], None, environ) == places["env"]
    # An empty variable counts as unset; a relative XDG_CONFIG_HOME is ignored.
    environ = {"SWARMTUI_CONFIG": "", "XDG_CONFIG_HOME": "rel", "HOME": str(places["home"])}
    assert find_config_file(None, None, environ) == (
        places["home"] / ".config" / "swarmtui" / "config.toml"
    )


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml") as info:
        find_config_file(None, missing, {})
    assert info.value.exit_code == 2


def test_missing_env_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.toml"
    with pytest.raises(ConfigError) as info:
        load_config(environ={"SWARMTUI_CONFIG": str(missing)})
    assert "SWARMTUI_CONFIG" in str(info.value)
    assert str(missing) in str(info.value)


# --- bad input ---------------------------------------------------------------------------------


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[slot]\nmax_agents = 3\n")
    assert message.startswith(f"{path}: unknown key `slot`")
    assert "did you mean `slots`" in message
    assert "heartbeat" in message


def test_unknown_nested_key(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[slots]\nmax_agent = 3\n")
    assert message == (
        f"{path}: unknown key `slots.max_agent` (did you mean `max_agents`? known keys in "
        "[slots]: max_agents, reserve, reserve_priority, max_depth, subtree_budget, "
        "min_free_memory, pools)"
    )


def test_unknown_key_in_agent(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[agents.x]\ncommand = ["x"]\nadaptor = "generic"\n')
    assert f"{path}: unknown key `agents.x.adaptor`" in message
    assert "[agents.x]" in message


def test_wrong_type(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[slots]\nmax_agents = "x"\n')
    assert message == f"{path}: key `slots.max_agents`: expected an integer >= 1, got 'x'"


def test_wrong_type_bool_and_table(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, 'heartbeat = 3\n[ui]\nbell = "yes"\n')
    assert f"{path}: key `heartbeat`: expected a table, got 3" in message
    assert f"{path}: key `ui.bell`: expected true or false, got 'yes'" in message


def test_integer_out_of_range(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[slots.pools]\nworker = 0\n")
    assert message == f"{path}: key `slots.pools.worker`: expected an integer >= 1, got 0"


def test_bad_duration(tmp_path: Path) -> None:
    path, message = load_error(
        tmp_path, '[heartbeat]\nprogress_interval = 60\norphan_timeout = "5"\ntick = "0s"\n'
    )
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: key `heartbeat.") for line in lines)
    assert 'progress_interval`: expected a duration with a unit such as "90s"' in lines[1]
    assert lines[1].endswith("got 60")
    assert "orphan_timeout" in lines[2] and lines[2].endswith("got '5'")
    assert "tick`: expected a duration longer than zero" in lines[0]
    assert lines[0].endswith("got '0s'")


def test_bad_size(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[slots]\nmin_free_memory = "12 parsecs"\n')
    assert message.startswith(f"{path}: key `slots.min_free_memory`: expected a size")
    assert message.endswith("got '12 parsecs'")
    path, message = load_error(tmp_path, "[run]\nlog_max_bytes = 1048576\n")
    assert message.startswith(f"{path}: key `run.log_max_bytes`: expected a size")


def test_bad_enum(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[agents.x]\ncommand = ["x"]\nprompt_via = "pipe"\n')
    assert message == (
        f"{path}: key `agents.x.prompt_via`: expected one of "
        '"stdin", "file", "argument", got \'pipe\''
    )


def test_bad_agent_command_and_name(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[agents."bad name"]\ncommand = []\n')
    assert f'{path}: invalid name `agents."bad name"`' in message
    path, message = load_error(tmp_path, "[agents.x]\ncommand = []\n")
    assert message.startswith(f"{path}: key `agents.x.command`: expected a non-empty array")
    path, message = load_error(tmp_path, '[agents.x]\nenv = {A = "1"}\n')
    assert message.startswith(f"{path}: missing key `agents.x.command`")


def test_reserve_not_below_max_agents(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[slots]\nmax_agents = 2\nreserve = 2\n")
    assert message.startswith(f"{path}: key `slots.reserve`: ")
    assert "slots.max_agents (2)" in message


def test_stuck_after_not_above_quiet_after(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[heartbeat]\nquiet_after = 3\nstuck_after = 3\n")
    assert message.startswith(f"{path}: key `heartbeat.stuck_after`: ")
    assert "heartbeat.quiet_after (3)" in message


def test_default_agent_missing(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[run]\ndefault_agent = "codex"\n')
    assert message.startswith(f"{path}: key `run.default_agent`: ")
    assert "'codex'" in message and "claude" in message


def test_default_role_missing(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[slots.pools]\nbuilder = 2\n')
    assert message.startswith(f"{path}: key `run.default_role`: ")
    assert "'worker'" in message and "builder" in message


def test_all_problems_in_one_error(tmp_path: Path) -> None:
    path, message = load_error(
        tmp_path, '[slots]\nmax_agents = 0\n\n[retry]\nbackoff = "soon"\n\n[nope]\n'
    )
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert any("`slots.max_agents`" in line for line in lines)
    assert any("`retry.backoff`" in line for line in lines)
    assert any("unknown key `nope`" in line for line in lines)


def test_toml_syntax_error(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[slots]\nmax_agents = 4\nreserve = \n")
    assert message == f"{path}: line 3, column 11: Invalid value"


def test_toml_syntax_error_at_end(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[run]\ndefault_agent = "claude')
    assert message.startswith(f"{path}: line 2, column ")


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(tmp_path)


# --- units and retry delays --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("1.5h", 5400.0),
        ("0s", 0.0),
        ("1d2h3m4s5ms", 93784.005),
        (" 1h 30m ", 5400.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["90", "0", "", "s", "10 minutes", "1m1h", "1m1m", "-5s", "1H"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_parse_duration_rejects_numbers() -> None:
    with pytest.raises(ValueError, match="got 90"):
        parse_duration(90)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (90, "1m30s"), (5400, "1h30m"), (172800, "2d"), (0, "0s"), (1.25, "1s250ms")],
)
def test_format_duration_round_trip(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_format_duration_keeps_sub_millisecond_precision() -> None:
    assert parse_duration(format_duration(0.0001)) == pytest.approx(0.0001)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512MiB", 512 * 1024**2),
        ("2GiB", 2 * 1024**3),
        ("1GB", 10**9),
        ("100KiB", 102400),
        ("100KB", 100000),
        ("7MB", 7 * 10**6),
        ("10B", 10),
        ("0", 0),
        ("1.5KiB", 1536),
        ("20mib", 20 * 1024**2),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["12", "", "MiB", "1 parsec", "-1KiB", "1XB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(text)


@pytest.mark.parametrize("size", [0, 1, 1000, 1024, 20 * 1024**2, 3 * 1024**3, 1536])
def test_format_size_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size


def test_zero_size_as_integer_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[slots]\nmin_free_memory = 0\n")
    assert load_config_file(path).slots.min_free_memory == 0


def test_retry_delay_doubles_and_caps() -> None:
    config = Config(retry=RetryConfig(backoff=30.0, backoff_max=600.0))
    assert [config.retry_delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    assert config.retry_delay(0) == 0.0
    assert config.retry_delay(10_000) == 600.0


def test_backoff_max_below_backoff(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[retry]\nbackoff = "1m"\nbackoff_max = "10s"\n')
    assert message.startswith(f"{path}: key `retry.backoff_max`: ")
