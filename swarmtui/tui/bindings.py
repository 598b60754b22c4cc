"""Every key of the fleet screen, with an id users can remap in ``[ui.keymap]``.

``acts`` marks keys that change the run (hidden and refused in ``swarmtui watch``);
``destructive`` marks the ones that ask for a one-key confirmation first.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    label: str  # short, for the footer
    description: str  # for the help screen
    acts: bool = False
    destructive: bool = False
    show: bool = True  # in the footer (all of them are in the help screen)


FLEET_KEYS: tuple[Key, ...] = (
    Key("jump", "enter", "jump", "Jump",
        "Jump to the agent's tmux window (F12 comes back)", acts=True, show=False),
    Key("kill", "k", "kill", "Kill", "Kill the agent (keeps its worktree)",
        acts=True, destructive=True),
    Key("retry", "r", "retry", "Retry", "Retry: a fresh attempt, with an optional note",
        acts=True),
    Key("verify", "v", "verify", "Verify", "Run the verify command again", acts=True),
    Key("merge", "m", "merge", "Merge", "Merge the task into the target",
        acts=True, destructive=True),
    Key("new", "n", "new_task", "New", "New task: prompt, role, files, verify", acts=True),
    Key("pause", "p", "pause", "Pause", "Pause or resume dispatch", acts=True),
    Key("filter", "slash", "filter", "Filter", "Filter the agents"),
    Key("sort", "s", "sort", "Sort", "Sort by the next column", show=False),
    Key("alerts", "a", "alerts", "Alerts", "All alerts, newest first", show=False),
    Key("slots", "o", "toggle_slots", "Slots", "Show or hide the slots panel", show=False),
    Key("tab-progress", "1", "tab('progress')", "Progress", "Detail tab: progress.md",
        show=False),
    Key("tab-log", "2", "tab('log')", "Log", "Detail tab: live log", show=False),
    Key("tab-diff", "3", "tab('diff')", "Diff", "Detail tab: diff", show=False),
    Key("tab-result", "4", "tab('result')", "Result", "Detail tab: results and verify output",
        show=False),
    Key("tab-prompt", "5", "tab('prompt')", "Prompt", "Detail tab: the prompt", show=False),
    Key("tab-events", "6", "tab('events')", "Events", "Detail tab: the task's events",
        show=False),
    Key("help", "question_mark", "help", "Help", "Help: every key"),
    Key("detach", "q", "detach", "Detach", "Detach from the session (agents keep running)"),
    Key("stop", "Q", "stop", "Stop", "Stop the run (ends every agent)",
        acts=True, destructive=True),
)
ACTING_ACTIONS = frozenset(k.action for k in FLEET_KEYS if k.acts)

# App-wide keys (they work on every screen).
PALETTE = Key("palette", "ctrl+p", "command_palette", "Palette",
              "Command palette: agents, actions, themes")


def fleet_bindings() -> list[Binding]:
    return [Binding(k.key, k.action, k.label, show=k.show, id=k.id, tooltip=k.description)
            for k in FLEET_KEYS]


def known_ids() -> set[str]:
    return {k.id for k in FLEET_KEYS} | {PALETTE.id}
