"""How an attempt of Gemini CLI is launched unattended (pure).

In a headless run Gemini CLI never asks: a tool its approval mode does not auto-approve is left
out (the model gets ``tool_not_registered``), so the policy decides what it can do:
``bypassPermissions`` or a sandboxed box is ``--approval-mode yolo``, ``plan`` is ``plan``, and
anything else ``auto_edit`` (edits only: no shell, so no commits). It must trust the worktree
(``--skip-trust``; a headless run in an untrusted folder exits 55) and include the attempt's
folder (progress and results live outside the worktree). A usage limit or a follow-up resumes
the session: ``--resume <id>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODES = {"bypassPermissions": "yolo", "plan": "plan"}


@dataclass(frozen=True)
class GeminiPolicy:
    mode: str = "acceptEdits"
    sandbox: bool = False
    directories: tuple[str, ...] = field(default_factory=tuple)


def argv_for(argv: list[str], policy: GeminiPolicy, *, agent_dir: str,
             resume_session: str | None) -> list[str]:
    out = list(argv)
    if not any(a.startswith("--approval-mode") or a in ("-y", "--yolo") for a in out):
        mode = "yolo" if policy.sandbox else MODES.get(policy.mode, "auto_edit")
        out += ["--approval-mode", mode]
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
