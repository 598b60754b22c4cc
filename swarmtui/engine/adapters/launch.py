"""The launch of an attempt for the agent CLIs other than Claude Code (pure).

What the adapter in the wrapper needs travels in ``launch.json``'s ``extra``: the model the
command line sets (Codex never names it in its output) and, for a resumed Codex thread or Qwen
Code session, the tokens it had used before (their usage totals cover the whole session). What
the CLI itself needs in its environment (opencode's permission set) travels in
``extra["env"]``, which the spawner takes out (:func:`with_env`) before ``launch.json`` is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.adapters import (
    aider_launch,
    codex_launch,
    gemini_launch,
    opencode_launch,
    qwen_launch,
)
from swarmtui.model import payloads as p


def session_tokens(exits: Iterable[p.AgentExited]) -> dict[str, int]:
    """A Codex thread's running total before this run: the sum of each earlier run's share
    (each exit record holds only its own run's tokens), in Codex's field names."""
    total = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
             "output_tokens": 0}
    for pl in exits:
        for u in pl.models.values():
            total["input_tokens"] += u.input + u.cache_read
            total["cached_input_tokens"] += u.cache_read
            total["cache_write_input_tokens"] += u.cache_write
            total["output_tokens"] += u.output
    return total


def launch(adapter: str, argv: list[str], *, mode: str, sandbox: bool,
           directories: tuple[str, ...], agent_dir: str, resume_session: str | None,
           allow: tuple[str, ...] = (), deny: tuple[str, ...] = (),
           earlier: Iterable[p.AgentExited] = (),
           env: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, Any]]:
    """The command line and the adapter's launch facts for a ``codex``, ``gemini``,
    ``opencode``, ``qwen`` or ``aider`` agent."""
    if adapter == "codex":
        extra: dict[str, Any] = {"model": codex_launch.model_of(argv)}
        env = env or {}
        home = env.get("CODEX_HOME") or (f"{env['HOME']}/.codex" if env.get("HOME") else "")
        if home.startswith("/"):
            extra["codex_home"] = home  # its session files: context fill, rate-limit windows
        if resume_session:
            extra["session_tokens"] = session_tokens(earlier)
        return codex_launch.argv_for(argv, codex_launch.CodexPolicy(mode, sandbox, directories),
                                     agent_dir=agent_dir, resume_session=resume_session), extra
    if adapter == "gemini":
        policy = gemini_launch.GeminiPolicy(mode, sandbox, directories, allow)
        return gemini_launch.argv_for(argv, policy, agent_dir=agent_dir,
                                      resume_session=resume_session), {
            "allowed_tools": gemini_launch.allowed_tools(allow)
            if gemini_launch.approval_mode(policy) == "auto_edit" else []}
    if adapter == "opencode":
        oc = opencode_launch.OpencodePolicy(mode, sandbox, directories, allow, deny)
        out, oc_env = opencode_launch.argv_for(argv, oc, agent_dir=agent_dir,
                                               resume_session=resume_session)
        return out, {"model": opencode_launch.model_of(argv), "env": oc_env,
                     "allowed": opencode_launch.bash_rules(allow)
                     if opencode_launch.approval(oc) == "rules" else []}
    if adapter == "qwen":
        qw = qwen_launch.QwenPolicy(mode, sandbox, directories, allow, deny)
        extra = {"allowed_tools": gemini_launch.allowed_tools(allow)
                 if qwen_launch.approval_mode(qw) == "auto-edit" else []}
        if resume_session:  # its result line's usage adds up over the session
            extra["session_tokens"] = session_tokens(earlier)
        return qwen_launch.argv_for(argv, qw, agent_dir=agent_dir,
                                    resume_session=resume_session), extra
    if adapter == "aider":
        return aider_launch.argv_for(argv, mode=mode, agent_dir=agent_dir, prompt_file=str(
            PurePath(agent_dir) / P.PROMPT_FILE)), {
            "model": aider_launch.model_of(argv),
            "analytics_log": aider_launch.analytics_log(argv, agent_dir),
            "results_file": str(PurePath(agent_dir) / P.RESULTS_FILE)}
    return list(argv), {}


def with_env(env: Mapping[str, str], extra: dict[str, Any]) -> dict[str, str]:
    """The agent's environment with what its CLI's launch added (taken out of ``extra``)."""
    more = extra.pop("env", None)
    if not isinstance(more, Mapping):
        return dict(env)
    return {**env, **{str(k): str(v) for k, v in more.items()}}


def unattended_problems(adapter: str, argv: list[str], *, where: str) -> list[str]:
    if adapter == "codex":
        return codex_launch.unattended_problems(argv, where=where)
    if adapter == "gemini":
        return gemini_launch.unattended_problems(argv, where=where)
    if adapter == "opencode":
        return opencode_launch.unattended_problems(argv, where=where)
    if adapter == "qwen":
        return qwen_launch.unattended_problems(argv, where=where)
    if adapter == "aider":
        return aider_launch.unattended_problems(argv, where=where)
    return []
