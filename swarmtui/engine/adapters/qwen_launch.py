"""How an attempt of Qwen Code is launched unattended (pure).

A headless Qwen Code never asks: a call its approval mode does not approve is refused at once
("Qwen Code requires permission to use ...") and the model carries on. So the policy decides:
``bypassPermissions`` or a sandboxed box is ``--approval-mode yolo``, ``plan`` is ``plan``,
anything else ``auto-edit`` (edits approved) with ``--allowed-tools`` from the allow list. Its
``--allowed-tools`` takes Gemini CLI's form (``run_shell_command(git commit)``); Claude Code's
``Bash(git commit:*)`` is not matched there (0.24.4: it is in its settings' ``permissions``), so
it is translated the way the Gemini launcher does. Deny rules become ``--exclude-tools``. The
attempt's folder and the policy's directories are added to its workspace
(``--include-directories``): progress and results live outside the worktree. A usage limit or a
follow-up resumes the session: ``--resume <id>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swarmtui.engine.adapters.gemini_launch import allowed_tools

MODES = {"bypassPermissions": "yolo", "plan": "plan"}
_SET_ELSEWHERE = ("--approval-mode", "-y", "--yolo")


@dataclass(frozen=True)
class QwenPolicy:
    mode: str = "acceptEdits"
    sandbox: bool = False
    directories: tuple[str, ...] = field(default_factory=tuple)
    allow: tuple[str, ...] = ()  # the agent's allow list, the verify rule, rules granted
    deny: tuple[str, ...] = ()


def approval_mode(policy: QwenPolicy) -> str:
    return "yolo" if policy.sandbox else MODES.get(policy.mode, "auto-edit")


def argv_for(argv: list[str], policy: QwenPolicy, *, agent_dir: str,
             resume_session: str | None) -> list[str]:
    out = list(argv)
    if not any(a.split("=", 1)[0] in _SET_ELSEWHERE for a in out):
        mode = approval_mode(policy)
        out += ["--approval-mode", mode]
        if mode == "auto-edit":
            for rule in allowed_tools(policy.allow):
                out += ["--allowed-tools", rule]
    for rule in allowed_tools(policy.deny):
        out += ["--exclude-tools", rule]
    for d in (agent_dir, *policy.directories):
        out += ["--include-directories", d]
    if resume_session:
        out += ["--resume", resume_session]
    return out


def unattended_problems(argv: list[str], *, where: str) -> list[str]:
    joined = " ".join(argv)
    if not any(f"{flag} stream-json" in joined or f"{flag}=stream-json" in joined
               for flag in ("--output-format", "-o")):
        return [f"{where}.command: add \"--output-format\", \"stream-json\" (swarmtui reads "
                "Qwen Code's JSON events)"]
    return []
