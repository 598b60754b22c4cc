"""Assembling an attempt's prompt and the handoff a retry carries (pure text building).

The prompt is: role instructions, shared rules, the task, the protocol the agent must follow,
and for retries the handoff from the previous attempt. Agents are told the file paths both here
and through environment variables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from swarmtui.engine.guard.screen import quote_for_prompt
from swarmtui.model import TaskSpec
from swarmtui.protocol import HANDOFF_HEADING


@dataclass(frozen=True)
class Handoff:
    previous_attempt: int
    reason: str
    previous_branch: str
    progress_tail: list[str] = field(default_factory=list)
    summary: str = ""
    diff_stat: str = ""
    verify_tail: str = ""
    note: str = ""
    conflicts: list[str] = field(default_factory=list)  # for a resolver attempt
    merge_refused: str = ""  # why its passed work could not be merged (a plain retry)
    merge_conflicts: list[str] = field(default_factory=list)
    their_intent: list[str] = field(default_factory=list)  # what the target side's work meant
    target: str = ""
    in_place: bool = False  # a fresh session in the same worktree (its context had filled)
    files_touched: list[str] = field(default_factory=list)
    last_words: str = ""  # the newest text the previous session wrote
    crossed_from: str = ""  # the CLI (and account) a usage limit stopped; this one is another
    digest: list[str] = field(default_factory=list)  # what that session did and said last


Safe = Callable[[str, str], str]  # (agent text, where it came from) -> what may enter a prompt


def _quoted(text: str, source: str) -> str:
    return quote_for_prompt(text, source)


def render_handoff(h: Handoff, safe: Safe = _quoted) -> str:
    """The handoff section. Everything the previous agent wrote goes through ``safe`` (the
    quarantine guard) line by line; the operator's note is the operator's own word."""
    parts = [
        HANDOFF_HEADING,
        "",
        f"Attempt {h.previous_attempt} did not finish the task. Why: "
        f"{safe(h.reason, 'the reason the previous attempt ended') or 'unknown'}.",
        f"Its work is on branch `{h.previous_branch}` (inspect it with `git log` / `git diff`);"
        " you start fresh, so take what is good and avoid what went wrong.",
    ]
    if h.in_place:
        parts[-1] = (
            "Its context window had filled, so you carry on its work in a fresh session, in "
            "the same worktree: everything it changed, committed or not, is there (`git status`,"
            " `git diff`). Do not redo what is done; check it and go on from where it stopped.")
    if h.in_place and h.crossed_from:
        parts[-1] = (
            f"It ran on {h.crossed_from}, which hit its usage limit, so you carry on its work "
            "in a fresh session of another agent CLI, in the same worktree: everything it "
            "changed, committed or not, is there (`git status`, `git log`, `git diff`). Do not"
            " redo what is done; check it and go on from where it stopped. A digest of its "
            "conversation follows.")
    if h.conflicts:
        parts += ["", "### Merge conflicts to resolve", "",
                  f"Your worktree is on your previous branch with `{h.target}` merged in: the "
                  "merge is committed with git's conflict markers (`<<<<<<<`, `=======`, "
                  "`>>>>>>>`) left in these files. Resolve every marker, keeping the intent of "
                  "both sides, and commit the result (any way of committing works); your work "
                  "is not accepted while a marker is left:", "",
                  *[f"- {safe(f, 'a conflicting file name')}" for f in h.conflicts]]
        if h.their_intent:
            parts += ["", f"What the work already on `{h.target}` in those files meant:", "",
                      *[f"- {safe(x, 'a merged task summary')}" for x in h.their_intent]]
    if h.merge_refused and not h.conflicts:
        parts += ["", "### Its merge was refused", "",
                  safe(h.merge_refused, "the merge refusal"),
                  *[f"- {safe(f, 'a conflicting file name')}" for f in h.merge_conflicts]]
    if h.note:
        parts += ["", "### Note from the operator", "", h.note]
    if h.summary:
        parts += ["", "### Its own summary", "", safe(h.summary, "the previous attempt's summary")]
    if h.progress_tail:
        parts += ["", "### Its last progress lines", "",
                  *_block(list(h.progress_tail), "progress lines", safe)]
    if h.last_words:
        parts += ["", "### The last thing it wrote", "",
                  *_block(h.last_words.splitlines(), "the previous session's last words", safe)]
    if h.digest:
        parts += ["", "### Its conversation (digest, newest last)", "",
                  *_block(h.digest, "the previous session's conversation (digest)", safe)]
    if h.files_touched:
        parts += ["", "### Files it touched", "",
                  *_block(h.files_touched, "the files it touched (names)", safe)]
    if h.diff_stat:
        parts += ["", "### Its diff against its start", "",
                  *_block(h.diff_stat.splitlines(), "the diff stat (file names)", safe)]
    if h.verify_tail:
        parts += ["", "### Output of the verify command (tail)", "",
                  *_block(h.verify_tail.splitlines(), "the verify output", safe)]
    return "\n".join(parts) + "\n"


def _block(lines: list[str], source: str, safe: Safe) -> list[str]:
    """Lines screened as one text (an instruction split over lines is still one) and then one
    by one (one bad line among many clean ones is not diluted); indented as quoted output."""
    whole = "\n".join(lines)
    screened = safe(whole, source)
    if screened != whole:
        return [f"    {screened}"]
    return [f"    {safe(ln, source)}" for ln in lines]


def render_protocol(spec: TaskSpec, attempt: int, paths: dict[str, str]) -> str:
    verify = (f"Your work is accepted only when this command passes in your worktree:\n\n"
              f"    {spec.verify}\n" if spec.verify else
              "There is no automatic check; say in your summary how you verified your work.\n")
    scope = ("You may change only files matching: " + ", ".join(f"`{f}`" for f in spec.files)
             + ". Changes outside that scope are flagged." if spec.files else
             "No file scope was declared for this task.")
    where = f" (`{paths['worktree']}`)" if paths.get("worktree") else ""
    return f"""## How to report (the swarmtui protocol)

You are agent `{spec.id}-{attempt}` working in your own git worktree on your own branch{where}.
Commit your work there; do not push and do not switch branches.

- Progress: append one line at least every few minutes to `{paths['progress']}`
  (also in $SWARM_PROGRESS_FILE), formatted `<ISO-8601 time> - <what you are doing>`,
  optionally ending with `[outputs: N]` (files produced so far). Silence reads as stuck.
- Result: when finished, write `{paths['results']}` (also $SWARM_RESULTS_FILE) as JSON
  (write it to a temporary file first and rename it, so it is never read half-written):
  `{{"status": "done" | "failed" | "blocked", "summary": "...", "files_modified": [...],
  "do_not_revert": true | false}}`. It is the canonical record of your attempt.
- {scope}
- {verify}"""


def render_prompt(
    spec: TaskSpec,
    attempt: int,
    paths: dict[str, str],
    *,
    role_text: str = "",
    rules_text: str = "",
    handoff: Handoff | None = None,
    ledger_text: str = "",
    safe: Safe = _quoted,
) -> str:
    parts: list[str] = []
    if role_text.strip():
        parts += [f"## Your role: {spec.role}", "", role_text.strip(), ""]
    if rules_text.strip():
        parts += ["## Shared rules", "", rules_text.strip(), ""]
    parts += [f"# Task {spec.id}: {spec.title}", "", spec.prompt.strip(), ""]
    if ledger_text:
        parts += [ledger_text.strip(), ""]
    parts += [render_protocol(spec, attempt, paths), ""]
    if handoff is not None:
        parts += [render_handoff(handoff, safe)]
    return "\n".join(parts).rstrip() + "\n"


def render_follow_up(spec: TaskSpec, attempt: int, paths: dict[str, str], text: str) -> str:
    """The prompt of an attempt that resumes the agent's own session: the session already
    holds the task, so it gets what to do next and where this attempt's files are."""
    parts = [f"# Task {spec.id}: follow-up", "", text.strip() or "Carry on with the task.", "",
             render_protocol(spec, attempt, paths)]
    return "\n".join(parts).rstrip() + "\n"
