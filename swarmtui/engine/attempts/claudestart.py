"""How an attempt of Claude Code is started (in the git worker): its settings file
(permissions and hooks), its command line and what its wrapper is told, for each mode.

* ``stream`` (the default): ``claude -p`` with stream-json; with ``permissions.ask`` a live
  session the wrapper owns (``wrapper/live.py``), steered through the attempt's pipe.
* ``interactive``: the CLI's own screen in the window (``adapters/claude_interactive.py``);
  the session id is chosen here (``--session-id``) so the wrapper knows which transcript file
  to follow, and the hooks include those that say when the session works and when it waits.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from swarmtui.config import AgentConfig
from swarmtui.engine.adapters import claude_interactive, claude_launch
from swarmtui.engine.attempts.ownfiles import write_private
from swarmtui.engine.wrapper.steerpipe import TOKEN_ENV, run_key, token

CLAUDE_SETTINGS = "claude-settings.json"


def claude_start(*, swarm: Path, aid: str, agent: AgentConfig, adir: Path, argv: list[str],
                 env: dict[str, str], verify: str | None, allow: list[str],
                 resume_session: str | None, interactive: bool
                 ) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """The command line, environment and launch facts (``extra``) of one attempt."""
    extra: dict[str, Any] = {}
    pc = agent.permissions
    if interactive:
        argv = claude_interactive.interactive_argv(argv)
        sid = resume_session or str(uuid.uuid4())
        extra["interactive"] = {"session_id": sid, "mode": pc.mode,
                                "resumed": bool(resume_session)}
        env[TOKEN_ENV] = token(run_key(swarm), aid)  # `send` types into its screen
    elif claude_launch.steerable(agent.adapter, pc.ask, agent.prompt_via):
        argv = claude_launch.live_argv(argv)
        env[TOKEN_ENV] = token(run_key(swarm), aid)  # the wrapper takes it out
        extra["live"] = {"ask_timeout": pc.ask_timeout}
    perms = claude_launch.Permissions(mode=pc.mode, allow=tuple(pc.allow), deny=tuple(pc.deny),
                                      sandbox=pc.sandbox, directories=tuple(pc.directories))
    settings = claude_launch.settings(
        perms, agent_dir=str(adir), verify=verify, extra_allow=allow,
        events=claude_interactive.INTERACTIVE_HOOKS if interactive else claude_launch.HOOK_EVENTS)
    if interactive:
        settings = claude_interactive.settings(settings, perms)
    path = adir / CLAUDE_SETTINGS
    write_private(path, json.dumps(settings, indent=2) + "\n")
    argv = [*argv, *claude_launch.argv_extras(str(path), resume_session, [str(adir)])]
    if interactive and not resume_session:
        argv += ["--session-id", extra["interactive"]["session_id"]]
    return argv, {**env, **claude_launch.env_extras(perms)}, extra
