"""Config sections about the agent CLIs themselves: unattended permissions, model-backed
review, context fit and prices."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from swarmtui.config.units import PositiveDuration
from swarmtui.netaddr import host_port
from swarmtui.protocol import SWARM_DIR

# What a typical repository needs an unattended agent to do: read and edit files, and use git
# to record its work. The task's own verify command is added per attempt.
DEFAULT_ALLOW = (
    "Read", "Edit", "Write", "MultiEdit", "Glob", "Grep", "LS", "TodoWrite",
    "Bash(git add:*)", "Bash(git commit:*)", "Bash(git status:*)", "Bash(git diff:*)",
    "Bash(git log:*)", "Bash(git show:*)", "Bash(ls:*)", "Bash(cat:*)", "Bash(echo:*)",
    "Bash(printf:*)", "Bash(mkdir:*)", "Bash(mv:*)", "Bash(date:*)",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _cross(key: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("swarm_cross", "{message}", {"key": key, "message": message})


class PermissionsConfig(_Section):
    """Claude Code's permissions for an unattended attempt (written to its --settings file)."""

    mode: Literal["default", "acceptEdits", "bypassPermissions", "dontAsk", "plan", "auto"] = (
        "acceptEdits")
    """Permission mode; "acceptEdits" lets it edit, the allow list covers the rest."""
    allow: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=lambda: list(DEFAULT_ALLOW))
    """Tool rules it may use without asking (Claude Code syntax: "Bash(git commit:*)")."""
    deny: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """Tool rules it may never use."""
    sandbox: bool = False
    """The machine is a sandbox: sets IS_SANDBOX=1 (Claude Code's bypass mode needs it as root)."""
    directories: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """Folders it may use besides its worktree (its own progress/results folder is added)."""
    ask: bool = True
    """A tool use neither list covers waits for the operator's answer, in the same session
    (Claude Code); false denies it at once and the attempt ends "needs permission"."""
    ask_timeout: PositiveDuration = 900.0
    """How long such a request waits before it is denied, with the reason, so an unattended run
    never hangs."""


class SandboxConfig(_Section):
    """The box each attempt of the agent runs in (bubblewrap, Linux): what it may write, read
    and reach. The worktree, the attempt's own folder, a private /tmp and the CLI's own state
    folder are always writable; the system readable; the rest of the machine is not there."""

    mode: Literal["auto", "bwrap", "off"] = "auto"
    """"auto": in bubblewrap where it works here, else unsandboxed with a warning at start;
    "bwrap": always (an attempt fails to start when bubblewrap does not work); "off": never."""
    network: Literal["full", "none", "api"] = "full"
    """"full": the machine's network; "none": none at all (loopback of its own only); "api":
    only its CLI's API hosts (and ``api_hosts``), through a proxy outside the box."""
    api_hosts: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """With network = "api": more hosts it may reach, "host" (port 443) or "host:port"."""
    read: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """More absolute paths (or ~/...) the agent may read."""
    write: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list)
    """More absolute paths (or ~/...) the agent may write."""

    @field_validator("read", "write")
    @classmethod
    def _absolute(cls, v: list[str]) -> list[str]:
        for path in v:
            if not path.startswith(("/", "~/")):
                raise ValueError(f"{path!r} must be an absolute path or start with ~/")
        return v

    @field_validator("api_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        for entry in v:
            try:
                host_port(entry)
            except ValueError as e:
                raise ValueError(f"{e}; expected \"host\" (port 443) or \"host:port\", such as "
                                 "\"api.example.com\" or \"10.0.0.5:8443\"") from None
        return v

    @model_validator(mode="after")
    def _hosts_need_api(self) -> SandboxConfig:
        if self.api_hosts and self.network != "api":
            raise _cross("api_hosts", "takes effect only with network = \"api\", and network "
                                      f"is \"{self.network}\"")
        return self


Price = Annotated[float, at.Ge(0)]


class ModelPrice(_Section):
    """US dollars per million tokens."""

    input: Price = 0.0
    output: Price = 0.0
    cache_read: Price = 0.0
    cache_write: Price = 0.0


class ReviewConfig(_Section):
    """``swarmtui review``: a model reads the task, its check, the summary and the diff."""

    model: str = "claude-sonnet-4-5"
    api_key_env: str = "ANTHROPIC_API_KEY"
    """The environment variable holding the API key (nothing is reviewed without one)."""
    base_url_env: str = "ANTHROPIC_BASE_URL"
    timeout: PositiveDuration = 120.0
    budget_tokens: Annotated[int, at.Ge(2000)] = 60_000
    """How much of the diff (with the rest of the request) the model is shown."""


class ContextConfig(_Section):
    """Context fit, before an attempt starts: its prompt plus its declared files."""

    window: Annotated[int, at.Ge(1000)] = 200_000
    """The model's context window in tokens (an agent may report its own)."""
    warn_at: Annotated[float, at.Gt(0), at.Le(1)] = 0.6
    count_with_api: bool = True
    """Count with the API (messages.count_tokens) when a key is set; else estimate."""
    refuse_over: bool = True
    """Refuse to start an attempt whose prompt and files exceed the window."""


class ScreenConfig(_Section):
    """The injection screen on text passing between agents."""

    judge: bool = True
    """Ask a model about text the screen is unsure of, when an API key is set (cached)."""
    model: str = "claude-haiku-4-5"
    api_key_env: str = "ANTHROPIC_API_KEY"
    base_url_env: str = "ANTHROPIC_BASE_URL"
    timeout: PositiveDuration = 20.0
    hold_merge: bool = True
    """Hold the merge of an attempt whose results summary or final message the screen flags
    (also with ``merge.auto``) until the operator approves the text."""


class WorktreeConfig(_Section):
    """How each new worktree is made ready before its agent starts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    copy_files: list[Annotated[str, at.MinLen(1)]] = Field(default_factory=list, alias="copy")
    """Paths or globs, relative to the repository, of untracked files (``.env``, local
    settings) copied into each new worktree; a file git tracks is never overwritten."""
    setup: str = ""
    """Shell command run in the new worktree before the agent starts (``npm ci``, say); if it
    fails, the attempt fails with its output tail and no agent is started."""
    setup_timeout: PositiveDuration = 600.0
    """How long setup may take before it is ended and the attempt failed."""

    @field_validator("copy_files")
    @classmethod
    def _inside_the_repo(cls, v: list[str]) -> list[str]:
        for pattern in v:
            why = copy_pattern_problem(pattern)
            if why:
                raise ValueError(f"{pattern!r} {why}")
        return v


def copy_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a ``[worktree] copy`` entry, or None."""
    pp = PurePosixPath(pattern)
    if pp.is_absolute():
        return "must be relative to the repository"
    if ".." in pp.parts:
        return "must stay inside the repository (no '..')"
    if pp.parts and pp.parts[0] in (".git", SWARM_DIR):
        return f"cannot copy from {pp.parts[0]}/"
    return None
