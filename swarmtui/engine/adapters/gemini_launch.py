"""How an attempt of Gemini CLI is launched unattended (pure).

In a headless run Gemini CLI never asks: a tool its approval mode does not auto-approve is left
out (the model gets ``tool_not_registered``), so the policy decides what it can do:
``bypassPermissions`` or a sandboxed box is ``--approval-mode yolo``, ``plan`` is ``plan``, and
anything else ``auto_edit`` with ``--allowed-tools`` from the policy's allow list (Claude
Code's ``Bash(git commit:*)`` becomes ``run_shell_command(git commit)``); a shell command no
rule covers is refused (``policy_violation``), which the adapter records as a denial naming the
rule that would grant it (``swarmtui retry ID --allow RULE``). It must trust the worktree
(``--skip-trust``; a headless run in an untrusted folder exits 55) and include the attempt's
folder (progress and results live outside the worktree). A usage limit or a follow-up resumes
the session: ``--resume <id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MODES = {"bypassPermissions": "yolo", "plan": "plan"}
_NATIVE = re.compile(r"[a-z_]+(\([^()]*\))?")
_BASH = re.compile(r"Bash\(([^():*]+?)(?::\*)?\)")


@dataclass(frozen=True)
class GeminiPolicy:
    mode: str = "acceptEdits"
    sandbox: bool = False
    directories: tuple[str, ...] = field(default_factory=tuple)
    allow: tuple[str, ...] = ()  # the agent's allow list, the verify rule, rules granted


def allowed_tools(rules: tuple[str, ...]) -> list[str]:
    """``--allowed-tools`` rules from the policy's allow list: Gemini's own
    (``run_shell_command(git commit)``) as written, Claude Code's shell rules
    (``Bash(git commit:*)``) translated; edit and read rules need none (``auto_edit`` and the
    read tools cover them)."""
    out: list[str] = []
    for rule in rules:
        m = _BASH.fullmatch(rule.strip())
        if m:
            out.append(f"run_shell_command({m.group(1).strip()})")
        elif _NATIVE.fullmatch(rule.strip()):
            out.append(rule.strip())
    return list(dict.fromkeys(out))


def approval_mode(policy: GeminiPolicy) -> str:
    return "yolo" if policy.sandbox else MODES.get(policy.mode, "auto_edit")


def argv_for(argv: list[str], policy: GeminiPolicy, *, agent_dir: str,
             resume_session: str | None) -> list[str]:
    out = list(argv)
    if not any(a.startswith("--approval-mode") or a in ("-y", "--yolo") for a in out):
        mode = approval_mode(policy)
        out += ["--approval-mode", mode]
        if mode == "auto_edit":
            # Only here: in yolo mode Gemini CLI 0.61 turns an allow list into a policy that
            # refuses every shell command it does not name.
            for rule in allowed_tools(policy.allow):
                out += ["--allowed-tools", rule]
    if "--skip-trust" not in out:
        out.append("--skip-trust")
    for d in (agent_dir, *policy.directories):
        out += ["--include-directories", d]
    if resume_session:
        out += ["--resume", resume_session]
    return out


def unattended_problems(argv: list[str], *, where: str) -> list[str]:
    if "stream-json" not in argv:
        return [f"{where}.command: add \"--output-format\", \"stream-json\" (swarmtui reads "
                "Gemini CLI's JSON events)"]
    return []
