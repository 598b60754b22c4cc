"""The environment an agent gets (pure): an explicit policy, never the tmux server's.

It is built afresh for every attempt from the environment of whoever started or resumed the run
(filtered by ``run.pass_env``), then the agent's own ``[agents.*] env``, then the protocol
variables, and handed to the wrapper in a 0600 file it deletes once read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase


def passed(environ: Mapping[str, str], patterns: Iterable[str]) -> dict[str, str]:
    """The variables of ``environ`` whose names match one of ``patterns`` (case-sensitive)."""
    pats = list(patterns)
    return {k: v for k, v in environ.items() if any(fnmatchcase(k, p) for p in pats)}


def agent_environment(caller: Mapping[str, str], patterns: Iterable[str],
                      agent_env: Mapping[str, str], protocol: Mapping[str, str]
                      ) -> dict[str, str]:
    env = passed(caller, patterns)
    env.update(agent_env)
    env.update(protocol)
    return env
