"""How an attempt of Codex CLI is launched unattended (pure).

``codex exec`` never asks for approval; what it may do is its sandbox. When the agent's policy
says the box is a sandbox already (``sandbox = true``) or grants everything
(``bypassPermissions``), Codex's own sandbox is bypassed: inside a container it leaves ``.git``
read-only, so the agent could not commit. Otherwise it runs ``workspace-write`` with the
attempt's folder (progress and results) and the policy's directories writable, set with ``-c``
overrides because ``codex exec resume`` takes neither ``--sandbox`` nor ``--add-dir``.
A usage limit or a follow-up resumes the thread: ``codex exec resume <id>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from swarmtui.engine.adapters.argvflags import without_flags

BYPASS = "--dangerously-bypass-approvals-and-sandbox"
# exec's options that `exec resume` refuses, with whether each takes a value.
_NOT_ON_RESUME = {"--sandbox": True, "-s": True, "--add-dir": True, "-C": True, "--cd": True,
                  "--color": True, "-p": True, "--profile": True, "--oss": False,
                  "--local-provider": True}


@dataclass(frozen=True)
class CodexPolicy:
    mode: str = "acceptEdits"
    sandbox: bool = False
    directories: tuple[str, ...] = field(default_factory=tuple)


def model_of(argv: list[str]) -> str:
    """The model the command line sets (``-m``, ``--model``, ``-c model=...``), else ""."""
    for i, a in enumerate(argv):
        if a in ("-m", "--model") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--model="):
            return a.split("=", 1)[1]
        if a in ("-c", "--config") and i + 1 < len(argv) and argv[i + 1].startswith("model="):
            return argv[i + 1].split("=", 1)[1].strip().strip('"')
    return ""


def _without_resume_refused(argv: list[str]) -> list[str]:
    return without_flags(argv, _NOT_ON_RESUME)


def argv_for(argv: list[str], policy: CodexPolicy, *, agent_dir: str,
             resume_session: str | None) -> list[str]:
    """The command with the approval policy and, for a resume, ``exec resume <id>``."""
    if "exec" not in argv:
        return list(argv)  # not `codex exec`: left as configured (unattended_problems says so)
    i = argv.index("exec")
    head, rest = argv[:i + 1], argv[i + 1:]
    if resume_session:
        head = [*head, "resume", resume_session]
        rest = _without_resume_refused(rest)
    if policy.sandbox or policy.mode == "bypassPermissions":
        extra = [] if BYPASS in rest else [BYPASS]
    elif policy.mode == "plan":
        extra = ["-c", 'sandbox_mode="read-only"']
    else:
        roots = json.dumps([agent_dir, *policy.directories])
        extra = ["-c", 'sandbox_mode="workspace-write"',
                 "-c", f"sandbox_workspace_write.writable_roots={roots}",
                 "-c", 'approval_policy="never"']
    return [*head, *extra, *rest]


def unattended_problems(argv: list[str], *, where: str) -> list[str]:
    out: list[str] = []
    if "exec" not in argv:
        out.append(f"{where}.command: Codex runs unattended only as `codex exec`; add \"exec\"")
    if "--json" not in argv:
        out.append(f"{where}.command: add \"--json\" (swarmtui reads Codex's JSON events)")
    return out
