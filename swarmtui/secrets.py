"""Secrets: which values are secret, and keeping them out of everything swarmtui writes.

A variable is secret when its name says so (KEY, TOKEN, SECRET, PASSWORD, CREDENTIAL, as a part
of the name) or an agent config lists it in ``secret_env``. Secret values never reach a file in
the clear: the stored run settings carry a marker instead, the wrapper gets them through a 0600
file it reads and deletes, and ``Redactor`` replaces them, and anything shaped like a well-known
credential, in output logs, events, prompts and handoffs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

SECRET_NAME_PATTERNS = ("*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*",
                        "*CREDENTIAL*", "*PRIVATE*")
MARKER = "<secret: not stored; taken from the config file or the environment>"
REDACTED = "[redacted]"
MIN_VALUE = 6  # shorter values are too common to redact without mangling text

# Credentials with a shape of their own: redacted wherever they appear, whoever planted them.
_SHAPES = re.compile("|".join((
    r"sk-ant-[A-Za-z0-9_\-]{16,}",  # Anthropic
    r"sk-(?:proj-)?[A-Za-z0-9_\-]{24,}",  # OpenAI-style
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key id
    r"gh[pousr]_[A-Za-z0-9]{30,}", r"github_pat_[A-Za-z0-9_]{40,}",  # GitHub
    r"xox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"AIza[0-9A-Za-z_\-]{35}",  # Google API key
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]{0,8000}?-----END [A-Z ]*PRIVATE KEY-----",
)))


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    up = name.upper()
    return name in set(extra) or any(fnmatchcase(up, p) for p in SECRET_NAME_PATTERNS)


def secret_values(env: Mapping[str, str], extra_names: Iterable[str] = ()) -> list[str]:
    names = list(extra_names)
    return [v for k, v in env.items() if is_secret_name(k, names) and len(v) >= MIN_VALUE]


class Redactor:
    """Replaces known secret values and credential shapes in text (thread-safe: immutable)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        vals = sorted({v for v in values if len(v) >= MIN_VALUE}, key=len, reverse=True)
        self._values = re.compile("|".join(re.escape(v) for v in vals)) if vals else None

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        return _SHAPES.sub(REDACTED, text)

    def bytes(self, data: bytes) -> bytes:
        return self(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def redact_config(data: dict[str, object], extra_names: Mapping[str, Iterable[str]] | None = None
                  ) -> dict[str, object]:
    """The config as plain data with every secret value of ``agents.*.env`` replaced by
    ``MARKER`` (what a run stores about how it was started), and every ``notify.urls`` entry
    written out in full (a push URL holds its token unless it names it as ``${VAR}``)."""
    data = _redact_urls(data)
    agents = data.get("agents")
    if not isinstance(agents, dict):
        return data
    out_agents: dict[str, object] = {}
    for name, agent in agents.items():
        if not isinstance(agent, dict) or not isinstance(agent.get("env"), dict):
            out_agents[name] = agent
            continue
        extra = list(agent.get("secret_env") or []) + list((extra_names or {}).get(name, []))
        env = {k: (MARKER if is_secret_name(k, extra) else v) for k, v in agent["env"].items()}
        out_agents[name] = {**agent, "env": env}
    return {**data, "agents": out_agents}


def restore_secrets(stored: dict[str, object], *sources: dict[str, object]) -> dict[str, object]:
    """``stored`` with each ``MARKER`` filled from the first of ``sources`` (configs as plain
    data: the run's config file read again, the caller's config) that has the same agent and
    variable; unfilled markers are dropped (the agent then lacks the variable)."""
    stored = _restore_urls(stored, sources)
    agents = stored.get("agents")
    if not isinstance(agents, dict):
        return stored
    out_agents: dict[str, object] = {}
    for name, agent in agents.items():
        if not isinstance(agent, dict) or not isinstance(agent.get("env"), dict):
            out_agents[name] = agent
            continue
        env: dict[str, object] = {}
        for k, v in agent["env"].items():
            if v != MARKER:
                env[k] = v
                continue
            for src in sources:
                val = _agent_env(src, name).get(k)
                if isinstance(val, str) and val != MARKER:
                    env[k] = val
                    break
        out_agents[name] = {**agent, "env": env}
    return {**stored, "agents": out_agents}


def _agent_env(config: dict[str, object], agent: str) -> dict[str, object]:
    agents = config.get("agents")
    if isinstance(agents, dict) and isinstance(agents.get(agent), dict):
        env = agents[agent].get("env")
        if isinstance(env, dict):
            return env
    return {}


def _urls(config: dict[str, object]) -> list[object] | None:
    notify = config.get("notify")
    urls = notify.get("urls") if isinstance(notify, dict) else None
    return urls if isinstance(urls, list) else None


def _redact_urls(data: dict[str, object]) -> dict[str, object]:
    urls = _urls(data)
    if not urls:
        return data
    kept = [u if isinstance(u, str) and "$" in u else MARKER for u in urls]
    return {**data, "notify": {**data["notify"], "urls": kept}}  # type: ignore[dict-item]


def _restore_urls(stored: dict[str, object], sources: tuple[dict[str, object], ...]
                  ) -> dict[str, object]:
    """Markers in ``notify.urls`` filled from the first source whose list has as many URLs and
    none of them a marker; without one they are dropped (that service gets no pushes)."""
    urls = _urls(stored)
    if not urls or MARKER not in urls:
        return stored
    for src in sources:
        theirs = _urls(src)
        if theirs is not None and len(theirs) == len(urls) and MARKER not in theirs:
            filled = [t if u == MARKER else u for u, t in zip(urls, theirs, strict=True)]
            return {**stored, "notify": {**stored["notify"], "urls": filled}}  # type: ignore[dict-item]
    return {**stored, "notify": {**stored["notify"],  # type: ignore[dict-item]
                                 "urls": [u for u in urls if u != MARKER]}}
