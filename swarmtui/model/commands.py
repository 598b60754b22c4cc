"""The inbox's vocabulary: one argument type per command kind, checked when applied.

The CLI, the TUI and agents (``swarmtui spawn``) append commands to the store; the supervisor
validates the arguments against these types before acting, so a malformed command is refused
with a message naming the argument instead of failing half-way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swarmtui.errors import InputError


class CommandKind(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    ADD = "add"
    SPAWN = "spawn"
    DOWN = "down"
    KILL = "kill"
    RETRY = "retry"
    CANCEL = "cancel"
    VERIFY = "verify"
    MERGE = "merge"
    RESOLVE = "resolve"
    ACK = "ack"
    SEND = "send"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    ANSWER = "answer"  # allow or deny a live agent's permission request
    INTERRUPT = "interrupt"  # end a live agent's current turn; its session goes on


class Args(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class NoArgs(Args):
    pass


class DownArgs(Args):
    keep_agents: bool = False


class TaskRef(Args):
    """A task, and optionally the attempt the operator saw: an action aimed at an attempt
    that is no longer the task's current one is refused rather than applied to its successor."""

    task: str
    attempt: int | None = None


class RetryArgs(TaskRef):
    note: str = ""
    resume: bool = False  # continue the last attempt's agent session instead of starting over
    allow: list[str] = Field(default_factory=list)  # permission rules to grant from now on
    force: bool = False  # start it even if its prompt does not fit the context window


class SendArgs(TaskRef):
    text: str


class AnswerArgs(TaskRef):
    """``request``: the number the task's request shows (``TASK#N``); None answers its oldest."""

    request: int | None = None
    allow: bool
    scope: Literal["once", "task", "role"] = "once"
    why: str = Field(default="", max_length=2000)  # a denial's reason, as the agent reads it


class AddArgs(Args):
    prompt: str
    id: str | None = None
    title: str | None = None
    role: str | None = None
    agent: str | None = None
    files: list[str] = Field(default_factory=list)
    verify: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    priority: int = 0
    max_attempts: int | None = None


class SpawnArgs(AddArgs):
    requester: str


class QuarantineRef(Args):
    quarantine: str  # a held text's id ("q-...")


class AckArgs(Args):
    alert: int | None = None  # None: every open alert
    task: str | None = None  # with alert None: every open alert of this task


ARGS: dict[CommandKind, type[Args]] = {
    CommandKind.PAUSE: NoArgs, CommandKind.RESUME: NoArgs, CommandKind.ADD: AddArgs,
    CommandKind.SPAWN: SpawnArgs, CommandKind.DOWN: DownArgs, CommandKind.KILL: TaskRef,
    CommandKind.RETRY: RetryArgs, CommandKind.CANCEL: TaskRef, CommandKind.VERIFY: TaskRef,
    CommandKind.MERGE: TaskRef, CommandKind.RESOLVE: TaskRef, CommandKind.ACK: AckArgs,
    CommandKind.SEND: SendArgs, CommandKind.REVIEW: TaskRef,
    CommandKind.APPROVE: QuarantineRef, CommandKind.REJECT: QuarantineRef,
    CommandKind.ANSWER: AnswerArgs, CommandKind.INTERRUPT: TaskRef,
}


def parse_args(kind: str, args: dict[str, Any]) -> tuple[CommandKind, Args]:
    try:
        k = CommandKind(kind)
    except ValueError:
        raise InputError(f"unknown command {kind!r} (known: "
                         f"{', '.join(c.value for c in CommandKind)})") from None
    try:
        return k, ARGS[k].model_validate(args)
    except ValidationError as e:
        problems = "; ".join(f"argument {'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
                             for err in e.errors(include_url=False))
        raise InputError(f"command {kind}: {problems}") from None
