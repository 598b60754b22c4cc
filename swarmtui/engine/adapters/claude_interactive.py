"""Claude Code's interactive screen as an agent (pure): the command line, the settings and
the CLI's own config keys that keep its first-run screens out of an unattended start.

In ``mode = "interactive"`` the window runs ``claude`` itself (no ``-p``) with the task as its
first prompt, and an operator can type into its screen. Nothing is read from its output (a
screen, not a stream): what swarmtui knows comes from its hooks (``swarmtui.hook``: a turn
ended, it waits in a dialog or at its prompt, a prompt was submitted, a tool runs) and from
the session's transcript file (``wrapper/sessionfile.py``: each answer's usage and the context
it carried).

A first start of the CLI shows screens that would hold an agent forever: the onboarding
(theme, then a connectivity check against api.anthropic.com that a stand-in API never
answers), "Do you trust the files in this folder?", "Do you want to use this API key?" and,
for ``bypassPermissions``, its disclaimer. Their answers live in the CLI's global config
(``$CLAUDE_CONFIG_DIR/.claude.json``, else ``~/.claude.json``); the keys below were read from
Claude Code 2.1.332's bundled source: ``hasCompletedOnboarding``, ``theme``,
``projects[<folder>].hasTrustDialogAccepted`` (looked up from the folder upwards; asked for
the working directory and for each ``--add-dir``),
``customApiKeyResponses.approved`` (the key's last 20 characters) and
``bypassPermissionsModeAccepted``; the settings keys ``skipDangerousModePermissionPrompt`` and
``skipAutoPermissionPrompt`` skip the mode disclaimers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from swarmtui.engine.adapters.argvflags import without_flags
from swarmtui.engine.adapters.claude_launch import HOOK_EVENTS, Permissions

# Its hooks, beyond the headless ones: when the session (re)starts, when the operator (or
# swarmtui) submits a prompt, and each tool use: signs of life and the end of a wait.
INTERACTIVE_HOOKS = (*HOOK_EVENTS, "SessionStart", "UserPromptSubmit", "PreToolUse",
                     "PostToolUse")
# Flags of the headless command that the interactive screen does not take.
# (Each with whether it takes a value.)
_HEADLESS = {"-p": False, "--print": False, "--verbose": False,
             "--include-partial-messages": False, "--replay-user-messages": False,
             "--output-format": True, "--input-format": True, "--permission-prompt-tool": True}
KEY_SUFFIX = 20  # how much of an API key the CLI remembers as approved


def interactive_argv(argv: list[str]) -> list[str]:
    """The configured (headless) command without what makes it headless; the rest (model,
    flags of one's own) stays."""
    return without_flags(argv, _HEADLESS)


def settings(base: Mapping[str, Any], p: Permissions) -> dict[str, Any]:
    """The headless settings plus what the screen would otherwise ask once per machine."""
    out = copy.deepcopy(dict(base))
    if p.mode == "bypassPermissions":
        out["skipDangerousModePermissionPrompt"] = True
    if p.mode == "auto":
        out["skipAutoPermissionPrompt"] = True
    return out


def trusted_folders(argv: list[str], cwd: str) -> list[str]:
    """The folders the screen asks to trust: its working directory and each ``--add-dir``."""
    return [cwd, *(argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--add-dir")]


def first_run(config: Mapping[str, Any], *, folders: list[str], api_key: str | None,
              mode: str) -> dict[str, Any]:
    """The CLI's global config with the first-run answers an unattended start needs. Only
    what is missing is added: a theme the operator chose stays, and a key the operator
    rejected stays rejected (the CLI then does not use it, and says so on its screen)."""
    out = copy.deepcopy(dict(config))
    out["hasCompletedOnboarding"] = True
    out.setdefault("theme", "dark")
    projects = out.get("projects")
    projects = dict(projects) if isinstance(projects, Mapping) else {}
    for folder in folders:
        entry = projects.get(folder)
        entry = dict(entry) if isinstance(entry, Mapping) else {}
        entry["hasTrustDialogAccepted"] = True
        projects[folder] = entry
    out["projects"] = projects
    if api_key and api_key.strip():
        suffix = api_key.strip()[-KEY_SUFFIX:]
        answers = out.get("customApiKeyResponses")
        answers = dict(answers) if isinstance(answers, Mapping) else {}
        approved = [str(x) for x in answers.get("approved") or [] if isinstance(x, str)]
        rejected = [str(x) for x in answers.get("rejected") or [] if isinstance(x, str)]
        if suffix not in approved and suffix not in rejected:
            approved.append(suffix)
        out["customApiKeyResponses"] = {**answers, "approved": approved, "rejected": rejected}
    if mode == "bypassPermissions":
        out["bypassPermissionsModeAccepted"] = True
    return out


def config_file(env: Mapping[str, str]) -> str | None:
    """Where the CLI keeps its global config for this environment (None: no home to say)."""
    conf = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    if conf.startswith("/"):
        return conf.rstrip("/") + "/.claude.json"
    home = env.get("HOME") or ""
    return home.rstrip("/") + "/.claude.json" if home.startswith("/") else None


def prompt_argument(prompt: str, prompt_file: str, limit: int = 100_000) -> str:
    """The first prompt as the screen's argument: the task itself, or, for one too long for a
    command line, where to read it."""
    if len(prompt.encode()) <= limit:
        return prompt
    return (f"Your task is in {prompt_file}: read the whole file first, then do what it says, "
            "including its instructions for progress.md and results.json.")
