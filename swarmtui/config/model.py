"""The config sections and ``Config`` itself: pydantic models whose every field has a default.

Unknown keys are errors (a typo never silently falls back to a default), and checks that
involve several fields raise ``_cross_error`` so the message names the key at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from swarmtui.config.accounts import AccountConfig, RoleConfig, check_accounts, expand
from swarmtui.config.agentcfg import (
    ContextConfig,
    ModelPrice,
    PermissionsConfig,
    ReviewConfig,
    SandboxConfig,
    ScreenConfig,
    WorktreeConfig,
)
from swarmtui.config.hosts import HostConfig, check_hosts
from swarmtui.config.units import (
    Duration,
    PositiveDuration,
    Size,
    _Expect,
    format_duration,
    format_size,
)

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
Fraction = Annotated[float, at.Gt(0), at.Le(1), _Expect("a fraction above 0 and at most 1")]
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
    context_warn: Fraction = 0.6
    """Health says "context N%" once the agent's latest turn fills this share of its model's
    context window (for agents that report it: Claude Code)."""
    context_act: Fraction = 0.8
    """The share at which ``context_action`` applies; at least context_warn."""
    context_action: Literal["none", "relaunch"] = "none"
    """"relaunch": end the attempt at its next turn boundary and go on in a fresh session in
    the same worktree, with a handoff; "none": only the health state and its alert."""
    context_relaunches: Count = 3
    """Most fresh relaunches per task (not counted against max_attempts); after that the
    agent carries on and only the health state shows it."""
    check_every: PositiveCount = 3
    """A task's readiness ``check`` runs every this many progress intervals."""
    check_timeout: PositiveDuration = 60.0

    @model_validator(mode="after")
    def _stuck_after_quiet(self) -> HeartbeatConfig:
        if self.stuck_after <= self.quiet_after:
            raise _cross_error(
                "stuck_after",
                f"expected stuck_after to be greater than heartbeat.quiet_after "
                f"({self.quiet_after}), got {self.stuck_after}",
            )
        if self.context_act < self.context_warn:
            raise _cross_error(
                "context_act",
                f"expected context_act to be at least heartbeat.context_warn "
                f"({self.context_warn}), got {self.context_act}",
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
    adapter: Literal["generic", "claude", "codex", "gemini", "opencode", "qwen",
                     "aider"] = "generic"
    """How output is read: "generic" knows the agent only through the protocol files;
    the others read that CLI's own JSON stream (docs/agents.md)."""
    env: dict[EnvName, str] = Field(default_factory=dict)
    """Extra environment variables for the agent."""
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)
    """For the claude adapter: what it may do unattended."""
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    """The OS box its attempts run in (bubblewrap)."""
    account: str = ""
    """Usage limits are per account; agents naming the same account wait together (default:
    the agent's own name)."""
    accounts: list[Name] = Field(default_factory=list)
    """``[[accounts]]`` (or CLI) names to run on, in order: each attempt takes the first that
    is not usage-limited and under its cost cap (empty: the credentials of the environment).
    A role's or a task's own list comes first (config/accounts.py)."""
    secret_env: list[EnvName] = Field(default_factory=list)
    """More names of env whose values are secret (besides *KEY*, *TOKEN*, *SECRET*,
    *PASSWORD*): never stored with the run, redacted from logs, events and prompts."""
    resume_after_limit: bool = True
    """After a usage limit, continue the same session (--resume) instead of starting over."""

    @model_validator(mode="before")
    @classmethod
    def _secret_entries(cls, data: Any) -> Any:
        """``env.NAME = { value = "...", secret = true }`` marks one variable secret: it is
        kept as a plain value with its name added to ``secret_env``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("env"), Mapping):
            return data
        env: dict[str, Any] = {}
        marked = list(data.get("secret_env") or [])
        for name, value in data["env"].items():
            if isinstance(value, Mapping) and set(value) <= {"value", "secret"} and isinstance(
                    value.get("value"), str):
                env[name] = value["value"]
                if value.get("secret") is True and name not in marked:
                    marked.append(name)
            else:
                env[name] = value
        return {**data, "env": env, "secret_env": marked}


def builtin_agents() -> dict[str, AgentConfig]:
    """The agents every config has unless a file replaces them by name (fresh copies)."""
    return {
        "claude": AgentConfig(
            # Partial messages: each answer's final output tokens (message_delta), which is
            # what an attempt killed before its result line is billed for.
            command=["claude", "-p", "--output-format", "stream-json", "--verbose",
                     "--include-partial-messages"],
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
    review: bool = False
    """Merge only tasks whose current attempt a `swarmtui review` approved."""
    protected: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=lambda: [".swarm/"])
    """Paths (globs; a trailing slash means everything under it) no task's branch may change:
    such an attempt fails before its verify and no merge carries it. The run's own task file
    and config file are protected as well."""


class BudgetConfig(_Section):
    max_cost_usd: Annotated[float, at.Ge(0)] = 0.0
    """Stop starting agents once the run has cost this much; 0 means no limit."""


class UIConfig(_Section):
    theme: str = "swarm-dark"
    bell: bool = True
    """Ring the terminal bell on alerts."""
    keymap: dict[str, Annotated[str, at.MinLen(1)]] = Field(default_factory=dict)
    """Binding id -> key, overriding the default key of that binding."""
    columns: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """The agents table's columns to show (empty: all of them); ID is always shown."""


# What is pushed by default: an agent waits for the operator (a permission, its input), a task
# is dead, the breaker opened, the account is usage-limited, the run finished or crashed.
PUSH_KINDS = ("permission_asked", "permission_denied", "agent_hook", "task_dead", "breaker_opened",
              "usage_limited", "run_finished", "supervisor_crashed")


class NotifyConfig(_Section):
    command: Argv = Field(default_factory=list)
    """Run on each alert with SWARM_ALERT_KIND, _TASK and _TEXT set; empty means none."""
    urls: list[str] = Field(default_factory=list)
    """Push services as apprise URLs (ntfy://, tgram://, json://, ...); ``$NAME`` or ``${NAME}``
    in a URL is taken from the environment when sending, so tokens are never stored."""
    kinds: list[str] = Field(default_factory=lambda: list(PUSH_KINDS))
    """The alert kinds (the event kind that raised the alert) pushed; [] means every kind."""
    level: Literal["information", "warning", "error"] = "information"
    """The lowest alert level pushed."""
    repeat_after: PositiveDuration = 600.0
    """The same alert (same key: task and condition) is pushed at most once in this time."""
    max_per_hour: Annotated[int, at.Ge(1)] = 20
    """At most this many pushes an hour; the rest are counted and said in the next one."""
    timeout: PositiveDuration = 10.0
    """How long one push may take before it is abandoned."""
    link: str = ""
    """The web view's address as the phone reaches it (http://127.0.0.1:8765 over a tunnel);
    pushes link to it. Empty: the address a running `swarmtui serve` wrote, if any."""

    @model_validator(mode="after")
    def _known_kinds(self) -> NotifyConfig:
        from swarmtui.model.kinds import EventKind

        known = {str(k) for k in EventKind}
        for i, kind in enumerate(self.kinds):
            if kind not in known:
                raise ValueError(f"notify.kinds[{i}] is {kind!r}: expected an event kind such "
                                 f"as {', '.join(PUSH_KINDS)}")
        return self


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
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    screen: ScreenConfig = Field(default_factory=ScreenConfig)
    worktree: WorktreeConfig = Field(default_factory=WorktreeConfig)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """Model name -> price, for agents that report tokens but no cost (over the built-in table
    in ``engine/adapters/prices.py``)."""
    hosts: list[HostConfig] = Field(default_factory=list)
    """``[[hosts]]``: machines reached over SSH that run agents too (config/hosts.py)."""
    accounts: list[AccountConfig] = Field(default_factory=list)
    """``[[accounts]]``: credentials of the agent CLIs, chosen per attempt (config/accounts.py)."""
    role_settings: dict[Name, RoleConfig] = Field(default_factory=dict, alias="roles")
    """``[roles.NAME]``: the accounts a role's tasks run on, over their agent's own list (the
    roles themselves are the keys of ``[slots.pools]``: ``Config.roles``)."""

    _source: Path | None = PrivateAttr(default=None)

    def account_of(self, agent: str) -> str:
        """The name an agent's usage limits are kept under when it runs on no [[accounts]]."""
        a = self.agents.get(agent)
        return (a.account if a is not None and a.account else agent)

    def accounts_of(self, agent: str, role: str = "", task: Sequence[str] = ()
                    ) -> list[AccountConfig]:
        """The [[accounts]] work runs on, in order of preference: the task's own list, else
        its role's, else its agent's."""
        a = self.agents.get(agent)
        r = self.role_settings.get(role)
        names = (list(task) or (r.accounts if r is not None else [])
                 or (a.accounts if a is not None else []))
        return expand(names, self.accounts)

    @model_validator(mode="after")
    def _hosts_consistent(self) -> Config:
        problem = check_hosts(self.hosts, set(self.slots.pools)) or check_accounts(
            self.accounts, self.agents, self.role_settings, set(self.slots.pools))
        if problem is not None:
            raise problem
        return self

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
        return self.model_dump(mode="json", by_alias=True)


def _names(keys: Mapping[str, Any]) -> str:
    return ", ".join(sorted(keys)) or "none"
