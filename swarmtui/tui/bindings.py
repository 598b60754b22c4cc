"""Every key of the fleet screen, with an id users can remap in ``[ui.keymap]``.

``acts`` marks keys that change the run (hidden and refused in ``swarmtui watch``);
``destructive`` marks the ones that ask for a one-key confirmation first; ``bar`` says how much
a key matters on the key bar (1 most; 0 never shown there): a narrow screen leaves out the
least important first. Every key is in the help screen, and every one but the tabs, help and
jump is in the command palette.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    label: str  # short, for the key bar
    description: str  # for the help screen and the palette
    acts: bool = False
    destructive: bool = False
    bar: int = 0  # priority on the key bar (1 most important); 0: not on it

    @property
    def in_palette(self) -> bool:
        return not self.id.startswith("tab-") and self.id not in ("help", "jump")


FLEET_KEYS: tuple[Key, ...] = (
    Key("jump", "enter", "jump", "Jump",
        "Jump to the agent's tmux window (F12 comes back)", acts=True),
    Key("needs-you", "exclamation_mark", "next_need", "Needs you",
        "Go to the next task that needs you (the top bar counts them)", bar=2),
    Key("focus", "f", "toggle_attention", "Focus",
        "Show only the tasks that need you (again: show all)", bar=6),
    Key("kill", "K", "kill", "Kill", "Kill the agent (keeps its worktree)",
        acts=True, destructive=True, bar=3),
    Key("mark", "space", "mark", "Mark",
        "Mark or unmark the row: kill, retry, merge, cancel and approve then act on every "
        "marked row (escape clears the marks)", acts=True, bar=4),
    Key("shell", "S", "shell", "Shell",
        "Open a shell in the selected attempt's worktree, in a new tmux window", acts=True),
    Key("retry", "r", "retry", "Retry", "Retry: a fresh attempt, with an optional note",
        acts=True, bar=3),
    Key("retry-resume", "R", "retry_resume", "Resume",
        "Retry by resuming the agent's own session (--resume), with an optional note",
        acts=True),
    Key("grant", "g", "grant", "Grant",
        "Answer what the live agent asks to use (allow once, for the task or the role, or "
        "deny); or grant what an ended attempt was denied and retry with it (--allow)",
        acts=True, destructive=True, bar=5),
    Key("send", "t", "send_follow_up", "Send",
        "Send a message: into the running agent's live session, or as a follow-up that "
        "resumes an ended attempt's session", acts=True),
    Key("interrupt", "ctrl+x", "interrupt", "Interrupt",
        "Interrupt the live agent's turn; its session waits for your message (t)",
        acts=True),
    Key("review", "w", "review", "Review", "Ask a model to review the finished attempt",
        acts=True),
    Key("verify", "v", "verify", "Verify", "Run the verify command again", acts=True, bar=5),
    Key("merge", "m", "merge", "Merge", "Merge the task into the target (shows the forecast)",
        acts=True, destructive=True, bar=3),
    Key("resolve", "e", "resolve", "Resolve",
        "Resolve: start a resolver attempt for a passed task whose merge conflicts", acts=True),
    Key("cancel", "c", "cancel", "Cancel",
        "Cancel the task: give up on it (tasks that depend on it die)",
        acts=True, destructive=True),
    Key("ack", "x", "ack", "Ack",
        "Acknowledge the task's open alerts (in the alerts list: that alert)",
        acts=True, bar=4),
    Key("approve", "plus", "approve", "Approve",
        "Approve a held text (in the alerts list, or the task's): it enters prompts as written",
        acts=True, destructive=True),
    Key("reject", "minus", "reject", "Reject",
        "Reject a held text (in the alerts list, or the task's): kept out of every prompt",
        acts=True, destructive=True),
    Key("new", "n", "new_task", "New", "New task: prompt, role, files, verify", acts=True,
        bar=6),
    Key("pause", "p", "pause", "Pause", "Pause or resume dispatch", acts=True, bar=5),
    Key("filter", "slash", "filter", "Filter", "Filter the agents by words", bar=4),
    Key("sort", "s", "sort", "Sort", "Sort by the next column (first: what needs you)"),
    Key("alerts", "a", "alerts", "Alerts", "Alerts: the open ones, as a worklist", bar=2),
    Key("slots", "o", "toggle_slots", "Slots", "Show or hide the slots panel"),
    Key("report", "i", "report", "Report",
        "The run report: headline figures, the timeline and every attempt", bar=6),
    Key("hosts", "H", "hosts", "Hosts",
        "Hosts: each machine agents run on, its slots, reachability and latency"),
    Key("tab-progress", "1", "tab('progress')", "Progress", "Detail tab: progress.md"),
    Key("tab-log", "2", "tab('log')", "Log", "Detail tab: live log"),
    Key("tab-diff", "3", "tab('diff')", "Diff",
        "Detail tab: the attempt's diff (its start commit to its branch, and uncommitted work)"),
    Key("tab-result", "4", "tab('result')", "Result",
        "Detail tab: results, forecast, review and verify output"),
    Key("tab-prompt", "5", "tab('prompt')", "Prompt", "Detail tab: the prompt"),
    Key("tab-events", "6", "tab('events')", "Events", "Detail tab: the task's events"),
    Key("help", "question_mark", "help", "Help",
        "Help: every key, and what the columns and words mean", bar=1),
    Key("detach", "q", "detach", "Detach", "Detach from the session (agents keep running)",
        bar=1),
    Key("stop", "Q", "stop", "Stop", "Stop the run (ends every agent)",
        acts=True, destructive=True, bar=1),
)
ACTING_ACTIONS = frozenset(k.action for k in FLEET_KEYS if k.acts)
# Keys that move the cursor (the table's own): nothing else may be bound to them.
MOVEMENT_KEYS = {"j": "down", "k": "up", "up": "up", "down": "down", "home": "first row",
                 "end": "last row", "pageup": "page up", "pagedown": "page down",
                 "left": "scroll left", "right": "scroll right"}
KEYS_BY_ID = {k.id: k for k in FLEET_KEYS}

# App-wide keys (they work on every screen).
PALETTE = Key("palette", "ctrl+p", "command_palette", "Palette",
              "Command palette: agents, actions, themes", bar=1)


def fleet_bindings() -> list[Binding]:
    return [Binding(k.key, k.action, k.label, show=False, id=k.id, tooltip=k.description)
            for k in FLEET_KEYS]


def known_ids() -> set[str]:
    return {k.id for k in FLEET_KEYS} | {PALETTE.id}


def check_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The user's ``[ui.keymap]`` as it can be applied, and a message per entry that cannot:
    an unknown id, or a movement key (``kill = "k"`` from before j/k moved the cursor)."""
    ok: dict[str, str] = {}
    errors: list[str] = []
    unknown = sorted(set(keymap) - known_ids())
    if unknown:
        errors.append(f"ui.keymap: unknown binding id {', '.join(map(repr, unknown))} (known "
                      f"ids: {', '.join(sorted(known_ids()))})")
    for kid, keys in keymap.items():
        if kid in unknown:
            continue
        moving = [k.strip() for k in keys.split(",") if k.strip() in MOVEMENT_KEYS]
        if moving:
            spec = KEYS_BY_ID.get(kid, PALETTE)
            errors.append(
                f"ui.keymap: {kid} = {keys!r} is not applied: {moving[0]} moves the cursor "
                f"({MOVEMENT_KEYS[moving[0]]}; j and k move like in vim); {kid} stays on "
                f"{spec.key} (set another key in the config)")
            continue
        ok[kid] = keys
    return ok, errors


def key_of(keymap: dict[str, str], kid: str) -> str:
    """The key bound to ``kid`` after the user's keymap (Textual's key name)."""
    spec = KEYS_BY_ID.get(kid, PALETTE if kid == PALETTE.id else None)
    return keymap.get(kid, spec.key if spec is not None else "")
