"""Payloads of a live agent session: what it asked, what the operator answered or said (read
from signals.jsonl, where the agent's wrapper records each as it happens)."""

from __future__ import annotations

from typing import Literal

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register
from swarmtui.model.payloads.signals import Signal


@_register
class PermissionAsked(Signal):
    """A tool use its policy neither allows nor denies: the agent waits for an answer.
    ``request`` numbers the attempt's requests (1, 2, ...); ``rule`` is what would allow it."""

    KIND = EventKind.PERMISSION_ASKED
    request: int
    tool: str
    input: str = ""  # the tool's input as JSON, cut to a couple of thousand characters
    rule: str = ""
    tool_use: str = ""
    timeout: float = 0.0  # seconds before it is denied unanswered


@_register
class PermissionAnswered(Signal):
    """``by``: operator (pipe or TUI), pane (typed in the agent's window), timeout, or agent
    (the CLI withdrew it, or exited). ``scope`` of an allow: once, this task, the role."""

    KIND = EventKind.PERMISSION_ANSWERED
    request: int
    decision: Literal["allow", "deny", "cancelled"]
    scope: Literal["once", "task", "role"] = "once"
    by: str = "operator"
    message: str = ""
    tool: str = ""
    rule: str = ""
    delivered: bool = True


@_register
class OperatorSaid(Signal):
    """A message went into the live session (``outcome`` undelivered: it had ended)."""

    KIND = EventKind.OPERATOR_SAID
    id: str = ""
    text: str = ""
    by: str = "operator"
    outcome: Literal["delivered", "undelivered"] = "delivered"


@_register
class TurnInterrupted(Signal):
    KIND = EventKind.TURN_INTERRUPTED
    id: str = ""
    by: str = "operator"
    outcome: Literal["delivered", "undelivered"] = "delivered"


@_register
class SteerRefused(Signal):
    """A line in the attempt's steering pipe that did not carry its token (or could not be
    read): refused, never obeyed."""

    KIND = EventKind.STEER_REFUSED
    why: str = ""


@_register
class RuleGranted(Payload):
    """The operator allowed a live request beyond this once: the rule is allowed for every later
    attempt of the task (``scope`` task) or of every task of the role (``scope`` role). Written
    by the supervisor when it applies the operator's command, never from an agent's files."""

    KIND = EventKind.RULE_GRANTED
    rule: str
    scope: Literal["task", "role"]
    role: str = ""
    by: str = "operator"
