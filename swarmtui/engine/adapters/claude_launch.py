"""How an attempt of Claude Code is launched unattended (pure).

Claude Code in ``-p`` mode never asks: a tool use it has no permission for is denied, and the
run still ends "successfully". So every attempt gets its own settings file (``--settings``):
the permissions policy of its agent config (mode, allowed and denied tools, the folders it may
write besides its worktree) plus hooks that report "waiting for input", "stopped" and "stopped
on <error>" back to the supervisor. As root, Claude Code refuses ``bypassPermissions`` unless
``IS_SANDBOX=1``, which the policy's ``sandbox`` flag sets.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from typing import Any

HOOK_EVENTS = ("Notification", "Stop", "StopFailure")
HOOK_INPUT_MAX = 256 * 1024  # what swarmtui.hook reads of a payload (MAX_INPUT there)
MODES = ("default", "acceptEdits", "bypassPermissions", "dontAsk", "plan", "auto")


@dataclass(frozen=True)
class Permissions:
    mode: str = "acceptEdits"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    sandbox: bool = False  # the box is a sandbox: IS_SANDBOX=1 (needed for bypass as root)
    directories: tuple[str, ...] = field(default_factory=tuple)


def verify_rule(verify: str | None) -> list[str]:
    """A rule that lets the agent run the task's own acceptance check (its first two words)."""
    if not verify:
        return []
    words = shlex.split(verify, posix=True)[:2] if verify.strip() else []
    if not words or not all(w.replace("-", "").replace(".", "").replace("/", "").replace(
            "_", "").isalnum() for w in words):
        return []
    return [f"Bash({' '.join(words)}:*)"]


def settings(p: Permissions, *, agent_dir: str, verify: str | None, extra_allow: list[str],
             python: str = sys.executable, events: tuple[str, ...] = HOOK_EVENTS
             ) -> dict[str, Any]:
    """The per-attempt ``--settings`` file: permissions and the reporting hooks."""
    allow = [*p.allow, *verify_rule(verify), *extra_allow]

    def hook(event: str) -> str:
        # Claude Code does not wait for a StopFailure hook: a Python start-up (about 0.2 s)
        # loses the race with the CLI's exit and the line never lands. So the shell copies the
        # payload into the attempt's folder at once (bounded), and the Python part runs
        # detached from the CLI's streams, finishing after it (the wrapper, a subreaper, waits
        # for it before the attempt is settled).
        return (f'[ -n "$SWARM_AGENT_DIR" ] || exit 0; f=$(mktemp '
                f'"$SWARM_AGENT_DIR/.hook.{event}.XXXXXX")'
                f' && head -c {HOOK_INPUT_MAX} > "$f" && ({shlex.quote(python)} -P -m '
                f'swarmtui.hook {event} --input "$f" </dev/null >/dev/null 2>&1 &)')

    return {
        "permissions": {
            "defaultMode": p.mode,
            "allow": list(dict.fromkeys(allow)),
            "deny": list(p.deny),
            # Progress and results files live in the attempt's folder, outside the worktree.
            "additionalDirectories": [agent_dir, *p.directories],
        },
        "hooks": {event: [{"matcher": "", "hooks": [
            {"type": "command", "command": hook(event), "timeout": 10}]}]
            for event in events},
    }


def argv_extras(settings_path: str, resume_session: str | None,
                add_dirs: list[str] | None = None) -> list[str]:
    extras = ["--settings", settings_path]
    for d in add_dirs or []:
        # Also on the command line: a resumed session keeps the folders it was started with,
        # and this attempt's folder is new.
        extras += ["--add-dir", d]
    if resume_session:
        extras += ["--resume", resume_session]
    return extras


LIVE_FLAGS = ("--input-format", "stream-json", "--permission-prompt-tool", "stdio",
              "--replay-user-messages")


def steerable(adapter: str, ask: bool, prompt_via: str) -> bool:
    """Whether an agent of this config runs a live session the operator can steer (only
    Claude Code's stream-json input can be kept open and answered today)."""
    return adapter == "claude" and ask and prompt_via == "stdin"


def live_argv(argv: list[str]) -> list[str]:
    """The command line of a session kept open for the operator: the task as the first message
    on standard input, permission requests asked over the same streams (answered by the
    wrapper), each message echoed when the CLI takes it. Flags the command already has stay."""
    out = list(argv)
    if "--input-format" not in out:
        out += ["--input-format", "stream-json"]
    if "--permission-prompt-tool" not in out:
        out += ["--permission-prompt-tool", "stdio"]
    if "--replay-user-messages" not in out:
        out.append("--replay-user-messages")
    return out


def env_extras(p: Permissions) -> dict[str, str]:
    return {"IS_SANDBOX": "1"} if p.sandbox else {}


def unattended_problems(p: Permissions, *, root: bool, where: str) -> list[str]:
    """Why this policy cannot run unattended, one sentence per problem naming the key."""
    out: list[str] = []
    if p.mode not in MODES:
        out.append(f"{where}.mode: expected one of {', '.join(MODES)}, got {p.mode!r}")
    if p.mode in ("default", "dontAsk") and not p.allow:
        out.append(f"{where}: mode {p.mode!r} with no allow list denies every tool use in an "
                   f"unattended run; set {where}.allow (for instance [\"Edit\", \"Write\", "
                   f"\"Bash(git add:*)\", \"Bash(git commit:*)\"]) or {where}.mode = "
                   "\"acceptEdits\"")
    if p.mode == "plan":
        out.append(f"{where}.mode = \"plan\" never edits anything; use \"acceptEdits\"")
    if p.mode == "bypassPermissions" and root and not p.sandbox:
        out.append(f"{where}: Claude Code refuses bypassPermissions as root unless the box is "
                   f"a sandbox; set {where}.sandbox = true (IS_SANDBOX=1) or use "
                   "mode = \"acceptEdits\" with an allow list")
    return out
