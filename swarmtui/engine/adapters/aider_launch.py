"""How an attempt of Aider is launched unattended (pure).

Aider has no permission rules to translate: ``--yes-always`` answers its questions (create a
file, edit one not in the chat) with yes, except running a shell command, which it then always
refuses; ``plan`` runs it in ``--chat-mode ask`` (it answers, edits nothing). What the launcher
adds, unless the command says otherwise:

* the prompt from the attempt's prompt file (``--message-file``): Aider runs that one message,
  applies the edits, commits each (its auto-commits), and exits;
* ``--no-stream``: only then are its token figures the provider's (streamed, it counts them
  itself), and exact in its analytics log, kept in the attempt's folder (``--analytics-log``;
  nothing is sent anywhere with ``--no-analytics``);
* its chat and input history in the attempt's folder, and ``--no-gitignore`` (it would add
  ``.aider*`` to the worktree's ``.gitignore``): the worktree holds only the task's work;
* plain output: ``--no-pretty``, ``--no-fancy-input``, no update check, no release notes.

Aider keeps no session to resume: a usage limit or a follow-up starts a fresh run.
"""

from __future__ import annotations

from pathlib import PurePath

ANALYTICS_LOG = "aider-analytics.jsonl"
_PROMPT = ("-m", "--message", "--msg", "-f", "--message-file")
_DEFAULTS = (("--no-stream", ("--stream", "--no-stream")),
             ("--no-pretty", ("--pretty", "--no-pretty")),
             ("--no-fancy-input", ("--fancy-input", "--no-fancy-input")),
             ("--no-check-update", ("--check-update", "--no-check-update")),
             ("--no-show-release-notes", ("--show-release-notes", "--no-show-release-notes")),
             ("--no-gitignore", ("--gitignore", "--no-gitignore")),
             ("--no-analytics", ("--analytics", "--no-analytics")))


def _has(argv: list[str], *flags: str) -> bool:
    return any(a.split("=", 1)[0] in flags for a in argv)


def model_of(argv: list[str]) -> str:
    """The ``--model`` the command line sets, else ""."""
    for i, a in enumerate(argv):
        if a == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--model="):
            return a.split("=", 1)[1]
    return ""


def analytics_log(argv: list[str], agent_dir: str) -> str:
    """Where this attempt's Aider writes its analytics events (token figures)."""
    for i, a in enumerate(argv):
        if a == "--analytics-log" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--analytics-log="):
            return a.split("=", 1)[1]
    return str(PurePath(agent_dir) / ANALYTICS_LOG)


def argv_for(argv: list[str], *, mode: str, agent_dir: str, prompt_file: str) -> list[str]:
    out = list(argv)
    folder = PurePath(agent_dir)
    if not _has(out, "--yes-always"):
        out.append("--yes-always")
    if mode == "plan" and not _has(out, "--chat-mode", "--edit-format"):
        out += ["--chat-mode", "ask"]
    for flag, either in _DEFAULTS:
        if not _has(out, *either):
            out.append(flag)
    if not _has(out, "--analytics-log"):
        out += ["--analytics-log", analytics_log(out, agent_dir)]
    if not _has(out, "--chat-history-file"):
        out += ["--chat-history-file", str(folder / "aider.chat.history.md")]
    if not _has(out, "--input-history-file"):
        out += ["--input-history-file", str(folder / "aider.input.history")]
    if not _has(out, *_PROMPT):
        out += ["--message-file", prompt_file]
    return out


def unattended_problems(argv: list[str], *, where: str) -> list[str]:
    if _has(argv, "--stream"):
        return [f"{where}.command: drop \"--stream\": streamed, Aider counts tokens itself "
                "instead of reporting the provider's"]
    return []
