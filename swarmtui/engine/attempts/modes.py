"""Which mode an attempt runs in (pure): ``stream``, the headless CLI read from its JSON
stream, or ``interactive``, the CLI's own screen in the agent's window.

A task's own ``mode`` (task file) wins, else its role's (``[roles.NAME] mode``), else
``stream``. Only an adapter whose capability set has ``Can.INTERACTIVE`` can run interactively
(Claude Code today); a task that would run another CLI that way, as its own agent or through an
account of its fallback list, is refused when the run starts, naming the key.
"""

from __future__ import annotations

from collections.abc import Iterable

from swarmtui.config import Config
from swarmtui.engine.accounts.fallback import agents_run
from swarmtui.engine.adapters import ADAPTERS, capabilities
from swarmtui.engine.adapters.base import Can
from swarmtui.model import TaskSpec

STREAM = "stream"
INTERACTIVE = "interactive"


def mode_of(config: Config, spec: TaskSpec) -> str:
    """The mode the task asks for: its own, else its role's, else ``stream``."""
    if spec.mode:
        return spec.mode
    role = config.role_settings.get(spec.role)
    return role.mode if role is not None else STREAM


def can_interact(config: Config, agent: str) -> bool:
    a = config.agents.get(agent)
    return a is not None and Can.INTERACTIVE in capabilities(a.adapter)


def interactive(config: Config, spec: TaskSpec, agent: str) -> bool:
    """Whether an attempt of ``spec`` running agent config ``agent`` runs interactively."""
    return mode_of(config, spec) == INTERACTIVE and can_interact(config, agent)


def interactive_adapters() -> list[str]:
    return sorted(n for n, cls in ADAPTERS.items() if Can.INTERACTIVE in cls.capabilities)


def mode_problems(config: Config, tasks: Iterable[TaskSpec]) -> list[str]:
    """Why a task cannot run in the mode it asks for: each names the task, the key that set the
    mode and the agent whose CLI has no interactive mode."""
    out: list[str] = []
    can = ", ".join(interactive_adapters()) or "none"
    for t in tasks:
        if mode_of(config, t) != INTERACTIVE:
            continue
        key = "`mode`" if t.mode else f"`roles.{t.role}.mode` (its role's)"
        for agent in sorted(agents_run(config, [t])):
            if can_interact(config, agent):
                continue
            a = config.agents.get(agent)
            adapter = a.adapter if a is not None else "generic"
            out.append(f"task {t.id!r}: key {key}: \"interactive\" runs the CLI's own screen, "
                       f"which only the {can} adapter can; agent {agent!r} runs the {adapter} "
                       f"adapter (expected \"stream\" for it, or an agent of the {can} "
                       "adapter)")
    return out
