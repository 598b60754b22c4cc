"""What one push says (pure): the task, why, the command that acts on it, and a link.

Alert text carries what agents wrote (a reason, a hook's message), and a push service renders
it: HTML, Markdown, Slack's ``<!channel>`` and ``@here``, autolinked URLs. So the text is made
inert before it leaves: control and reordering characters removed, markup characters replaced
by look-alikes that no renderer interprets, schemes defanged so nothing is linked, mentions
broken, and everything bounded.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from swarmtui.model.kinds import AlertLevel, EventKind
from swarmtui.model.state import Alert

TITLE_MAX = 120
BODY_MAX = 1000

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
                       "\ud800-\udfff]")
# Markup that HTML, Markdown or chat services interpret, and the look-alike shown instead.
_MARKUP = str.maketrans({
    "<": "\u2039", ">": "\u203a", "&": "+", "[": "\u27e6", "]": "\u27e7", "`": "\u02cb",
    "*": "\u2217", "~": "\u223c", "|": "\u2223", "@": "\uff20", "#": "\uff03",
    "\\": "\u2216", "!": "\u01c3",
})
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}):/+")
_WWW = re.compile(r"(?i)\bwww\.")
# What a command line may show as is: a task id, a request (`'task#2'`: mid-line, so no
# heading), a quoted permission rule; anything else in it came from an agent and is made inert
# like the rest.
_PLAIN_COMMAND = re.compile(r"[A-Za-z0-9 ._:/=,'()*+#-]*")


def inert(text: str, limit: int) -> str:
    """``text`` on one line, bounded, with nothing a renderer would act on."""
    s = " ".join(_CONTROLS.sub(" ", text).split())
    s = _SCHEME.sub(lambda m: f"{m.group(1)}\u2236\u2215\u2215", s)  # no link is made
    s = _WWW.sub("www\u2024", s).translate(_MARKUP)
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"


def _q(word: str) -> str:
    return shlex.quote(word)


def action(alert: Alert) -> str:
    """The command that acts on ``alert`` (what the operator types after reading it)."""
    t = alert.task or ""
    k = alert.kind
    if k == EventKind.PERMISSION_ASKED and alert.ref:
        return f"swarmtui allow {_q(alert.ref)} (or swarmtui deny {_q(alert.ref)} --why TEXT)"
    if k == EventKind.PERMISSION_DENIED and t:
        rule = alert.text.rsplit("needs permission: ", 1)[-1]
        return f"swarmtui retry {_q(t)} --allow {_q(rule)}"
    if k == EventKind.AGENT_HOOK and t:
        win = f"{t}-{alert.attempt}" if alert.attempt else t
        return f"swarmtui attach, then its window {win}"
    if k in (EventKind.TASK_DEAD, EventKind.ATTEMPT_FAILED) and t:
        return f"swarmtui retry {_q(t)} (or swarmtui cancel {_q(t)})"
    if k in (EventKind.BREAKER_OPENED, EventKind.AGENT_HELD):
        return "swarmtui resume"
    if k == EventKind.USAGE_LIMITED:
        return "swarmtui status (dispatch resumes by itself when the limit lifts)"
    if k == EventKind.RUN_FINISHED:
        return "swarmtui report"
    if k == EventKind.SUPERVISOR_CRASHED:
        return "swarmtui attach (restarts the supervisor)"
    if k == EventKind.TEXT_QUARANTINED and alert.ref:
        return f"swarmtui approve {_q(alert.ref)} or swarmtui reject {_q(alert.ref)}"
    if t:
        return f"swarmtui status; swarmtui ack --task {_q(t)}"
    return "swarmtui status"


@dataclass(frozen=True)
class Push:
    """One notification, ready to send."""

    key: tuple[str, ...]
    level: AlertLevel
    title: str
    body: str


def compose(alert: Alert, run_name: str, link: str = "", held_back: int = 0) -> Push:
    """The push for ``alert`` in the run named ``run_name`` (the repository's directory)."""
    who = alert.task or "run"
    title = inert(f"swarmtui {run_name}: {who}", TITLE_MAX)
    act = action(alert)
    if len(act) > 300 or not _PLAIN_COMMAND.fullmatch(act) or _SCHEME.search(act):
        act = inert(act, 300)
    lines = [inert(alert.text, BODY_MAX - 200), f"Act: {act}"]
    if link:
        anchor = f"#task={alert.task}" if alert.task else ""
        lines.append(f"View: {link.rstrip('/')}/{anchor}")
    if held_back:
        lines.append(f"({held_back} earlier alert{'s' if held_back != 1 else ''} not pushed: "
                     "rate limit; swarmtui status lists them)")
    body = "\n".join(lines)
    return Push(alert.key, alert.level, title, body[:BODY_MAX])
