"""How an attempt of opencode is launched unattended (pure).

``opencode run`` never waits for an answer: a permission that would ask is refused (the run
stops there), so the policy decides what it may do. When the agent's policy says the box is a
sandbox already (``sandbox = true``) or grants everything (``bypassPermissions``), it runs with
``--auto`` (every permission not denied is approved); ``plan`` runs opencode's own ``plan``
agent; anything else gets a permission set in ``OPENCODE_PERMISSION`` (its environment): edits
allowed, every shell command asking (so refused) but those the allow list names (Claude Code's
``Bash(git commit:*)`` becomes ``"git commit *": "allow"``; opencode's own ``bash(git commit
*)`` is taken as written), deny rules denied, and the attempt's folder and the policy's
directories allowed outside the worktree. The adapter names a refused call's rule in opencode's
form (``bash(git add *)``) for ``swarmtui retry ID --allow RULE``.

``--title`` is set (the attempt's id) unless the command sets one: without it opencode asks the
model for a title first, a request whose tokens it never reports. A usage limit or a follow-up
continues the session: ``--session <id>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

AUTO = ("--auto", "--yolo", "--dangerously-skip-permissions")
PERMISSION_ENV = "OPENCODE_PERMISSION"
_BASH = re.compile(r"Bash\(([^():*]+?)(?::\*)?\)")
_NATIVE_BASH = re.compile(r"bash\(([^()]+)\)")
_NATIVE = re.compile(r"[a-z_]+")


@dataclass(frozen=True)
class OpencodePolicy:
    mode: str = "acceptEdits"
    sandbox: bool = False
    directories: tuple[str, ...] = field(default_factory=tuple)
    allow: tuple[str, ...] = ()  # the agent's allow list, the verify rule, rules granted
    deny: tuple[str, ...] = ()


def model_of(argv: list[str]) -> str:
    """The ``provider/model`` the command line sets (``-m``, ``--model``), else ""."""
    for i, a in enumerate(argv):
        if a in ("-m", "--model") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--model="):
            return a.split("=", 1)[1]
    return ""


def bash_rules(rules: tuple[str, ...]) -> list[str]:
    """``bash(PATTERN)`` rules from an allow or deny list: opencode's own as written, Claude
    Code's shell rules translated (``Bash(git commit:*)`` -> ``bash(git commit *)``)."""
    out: list[str] = []
    for rule in (r.strip() for r in rules):
        if m := _BASH.fullmatch(rule):
            out.append(f"bash({m.group(1).strip()} *)")
        elif _NATIVE_BASH.fullmatch(rule):
            out.append(rule)
    return list(dict.fromkeys(out))


def _pattern(rule: str) -> str:
    return rule[len("bash("):-1]


def approval(policy: OpencodePolicy) -> str:
    if policy.sandbox or policy.mode == "bypassPermissions":
        return "auto"
    return "plan" if policy.mode == "plan" else "rules"


def permission(policy: OpencodePolicy, agent_dir: str) -> dict[str, Any]:
    """opencode's ``permission`` config for the ``rules`` approval (the last matching pattern
    wins, so the catch-all comes first)."""
    bash: dict[str, str] = {"*": "ask"}
    bash.update({_pattern(r): "allow" for r in bash_rules(policy.allow)})
    bash.update({_pattern(r): "deny" for r in bash_rules(policy.deny)})
    out: dict[str, Any] = {"edit": "allow", "bash": bash,
                           "external_directory": {f"{d.rstrip('/')}/*": "allow"
                                                  for d in (agent_dir, *policy.directories)}}
    for rule in (r.strip() for r in policy.allow):
        if _NATIVE.fullmatch(rule) and rule not in ("bash", "edit"):
            out[rule] = "allow"
        elif rule == "bash":
            out["bash"] = {**bash, "*": "allow"}
    return out


def argv_for(argv: list[str], policy: OpencodePolicy, *, agent_dir: str,
             resume_session: str | None) -> tuple[list[str], dict[str, str]]:
    """The command and the environment it needs for the policy and, for a resume,
    ``--session <id>``."""
    out = list(argv)
    env: dict[str, str] = {}
    how = approval(policy)
    if not any(a in AUTO or a == "--agent" or a.startswith("--agent=") for a in out):
        if how == "auto":
            out.append("--auto")
        elif how == "plan":
            out += ["--agent", "plan"]
    if how == "rules":
        env[PERMISSION_ENV] = json.dumps(permission(policy, agent_dir))
    if not any(a == "--title" or a.startswith("--title=") for a in out):
        out += ["--title", PurePath(agent_dir).name or "swarmtui"]
    if resume_session:
        out += ["--session", resume_session]
    return out, env


def unattended_problems(argv: list[str], *, where: str) -> list[str]:
    out: list[str] = []
    if "run" not in argv:
        out.append(f"{where}.command: opencode runs unattended only as `opencode run`; "
                   "add \"run\"")
    joined = " ".join(argv)
    if "--format json" not in joined and "--format=json" not in joined:
        out.append(f"{where}.command: add \"--format\", \"json\" (swarmtui reads opencode's "
                   "JSON events)")
    return out
