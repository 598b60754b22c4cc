"""Steering a live agent: the operator's answers to its permission requests, messages into its
session and interrupts, delivered to its wrapper through the attempt's runner.

The inbox checks what it can on the loop (the task runs, the request waits) and asks ``Steer``;
this part hands the command line to a worker (writing into the pipe is quick here, but a
remote attempt's pipe is a round trip over ssh) and answers the operator's command when the
wrapper has it. What the wrapper then did (allowed, denied, said) comes back as the attempt's
own signals, so the log records what the agent was really told, not only what was asked.

A grant beyond this once (the task, the role) is recorded here, from the operator's command,
as ``rule_granted``: never from an agent's files, which an agent could write itself.
"""

from __future__ import annotations

import itertools
import os

from swarmtui import protocol as P
from swarmtui.engine.adapters import capabilities, claude_launch
from swarmtui.engine.adapters.base import Can
from swarmtui.engine.intents import AnswerCommand, Ask, Steer, SteerableNow
from swarmtui.engine.messages import Steered
from swarmtui.engine.ports import Ports, redactor_for
from swarmtui.engine.wrapper.steerpipe import encode, run_key, token
from swarmtui.model import TaskState, TaskView
from swarmtui.model import payloads as p
from swarmtui.secrets import Redactor

Answer = tuple[str, dict[str, object]]


def _refuse(tid: str, reason: str) -> Answer:
    return "refused", {"task": tid, "reason": reason}


class Steering:
    """Owns ``Steer`` and ``SteerableNow``."""

    def __init__(self, ports: Ports, ask: Ask) -> None:
        self.ports = ports
        self.ask = ask
        self._key: bytes | None = None
        self._redact: Redactor | None = None
        self._ids = itertools.count(1)

    def steerable(self, it: SteerableNow) -> str | None:
        t = it.task
        if t.state != TaskState.RUNNING:
            return f"{t.id} is {t.state}, not running"
        # The attempt's own agent: a usage limit may have moved it to another CLI's.
        rec = self.ports.state.attempts.get(P.agent_id(t.id, t.attempt))
        name = rec.agent if rec is not None and rec.agent else t.spec.agent
        agent = self.ports.config.agents.get(name)
        if t.interactive:
            return None  # its wrapper types a message into its screen, or presses Esc
        if agent is None or not claude_launch.steerable(agent.adapter, agent.permissions.ask,
                                                        agent.prompt_via):
            why = ("its CLI cannot take messages or answers while it runs" if agent is None
                   or Can.LIVE not in capabilities(agent.adapter) else
                   "permissions.ask is off or its prompt does not go in on standard input")
            return (f"{P.agent_id(t.id, t.attempt)} ({name}) has no live session: "
                    f"{why}; `swarmtui kill {t.id}` then `swarmtui send {t.id} TEXT` resumes "
                    "its session with your message, or wait for it to end")
        return None

    def steer(self, it: Steer) -> Answer:
        t, cmd, op = it.task, it.command, dict(it.op)
        why = self.steerable(SteerableNow(t))
        if why is not None:
            return _refuse(t.id, why)
        kind = str(op.get("op"))
        if kind == "answer":
            problem = self._check_answer(t, op)
            if problem is not None:
                return _refuse(t.id, problem)
        if kind == "say":  # trusted, but a secret pasted by mistake goes no further
            if self._redact is None:
                self._redact = redactor_for(self.ports)
            op["text"] = self._redact(str(op.get("text") or ""))
        op.setdefault("id", f"{os.getpid()}-{next(self._ids)}")
        op["by"] = cmd.source
        if self._key is None:
            self._key = run_key(self.ports.swarm)
        aid = P.agent_id(t.id, t.attempt)
        line = encode(op, token(self._key, aid))
        runner, task, attempt = self.ports.runner, t.id, t.attempt
        what = _what(t, op)

        def work() -> Steered:
            ok = runner.steer(task, attempt, line)
            return Steered(task, attempt, cmd.id, cmd.kind, cmd.source, what,
                           "" if ok else f"{aid}'s session has ended; nothing was delivered")

        self.ports.submit(self.ports.workers.verify, work, lambda e: Steered(
            task, attempt, cmd.id, cmd.kind, cmd.source, what, f"{type(e).__name__}: {e}"))
        return "deferred", {}

    def _check_answer(self, t: TaskView, op: dict[str, object]) -> str | None:
        """The request waits (on the loop, from the log); a grant beyond once is recorded."""
        n = op.get("request")
        asked = next((a for a in t.asks if a.n == n), None) if n is not None else (
            t.asks[0] if t.asks else None)
        if asked is None:
            which = f"request #{n}" if n is not None else "a request"
            return (f"{t.id} has no {which} waiting (answered already, timed out, or its "
                    "turn ended)")
        op["request"] = asked.n
        scope = op.get("scope")
        if op.get("decision") == "allow" and scope in ("task", "role"):
            self.ports.emit(p.RuleGranted(rule=asked.rule, scope=scope, role=t.spec.role,
                                          by=str(op.get("by") or "operator")), t.id, t.attempt)
        return None

    def done(self, msg: Steered) -> None:
        status = "failed" if msg.error else "done"
        result: dict[str, object] = {"task": msg.task, "attempt": msg.attempt}
        if msg.error:
            result["error"] = msg.error
        else:
            result["message"] = msg.what
        self.ask(AnswerCommand(msg.command_id, msg.kind, msg.source, status, result))


def _what(t: TaskView, op: dict[str, object]) -> str:
    aid = P.agent_id(t.id, t.attempt)
    kind = op.get("op")
    if kind == "answer":
        n = op.get("request")
        rule = next((a.rule for a in t.asks if a.n == n), "")
        if op.get("decision") != "allow":
            return f"{aid}: request #{n} ({rule}) denied"
        scope = {"once": "once", "task": f"for every attempt of {t.id}",
                 "role": f"for the role {t.spec.role}"}.get(str(op.get("scope")), "once")
        return f"{aid}: request #{n} ({rule}) allowed {scope}"
    if kind == "interrupt":
        return f"{aid}: its turn is interrupted; the session goes on"
    return f"{aid}: your message is in its session"
