"""Instructions carried by structure rather than words: fenced blocks labelled as a system or
instruction message, and chat-API role objects (``{"role": "system", "content": ...}``) inside
agent text (pure, bounded).

A model reading a results summary cannot tell a fenced ```` ```system ```` block or a JSON role
object from the turns of its own conversation, so their bodies are screened as hidden parts are:
without the discount that quoting earns elsewhere. A fence or an object of the system, developer
or tool role counts a little on its own (``rules.signal_hits``); code that builds such objects
from variables is not text about anything and yields no part.
"""

from __future__ import annotations

import json
import re

from swarmtui.engine.guard.screening.signals import _MAX_BLOBS, SignalCode, _Acc

# The info string of a fence that claims to be a message to the model.
_ROLE_FENCE = re.compile(
    r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*(?:role\s*[:=]\s*)?\[?(system(?:[ _-]?(?:prompt|message))?|"
    r"sys|developer(?:[ _-]?message)?|instructions?|assistant[ _-]instructions|prompt|"
    r"(?:agent|model|ai)[ _-]instructions)\]?[ \t]*\n(.{0,4000}?)(?:\n[ \t]{0,3}\1|\Z)",
    re.MULTILINE | re.DOTALL | re.IGNORECASE)
_ROLE_OBJECT = re.compile(
    r"""(["'])role\1\s*:\s*(["'])(system|developer|tool|assistant|user|function)\2\s*,\s*"""
    r"""(?:(["'])name\4\s*:\s*(["'])[^"'\n]{0,80}\5\s*,\s*)?(["'])content\6\s*:\s*"""
    r"""(?:"((?:[^"\\\n]|\\.){1,2000})"|'((?:[^'\\\n]|\\.){1,2000})')""", re.IGNORECASE)
OWN_ROLES = frozenset({"system", "developer", "tool", "function"})
# A key of a config, front matter or JSON object that claims to carry orders for a model: its
# value is screened as a role object's content is. Plain ``instruction(s)``, ``directive`` and
# ``next_agent`` keys (task configs and handoffs have them) count only when the value asks for
# something an injection wants.
_KEY = re.compile(
    r"""(?:^|[{,]\s*)[ \t-]*(["']?)(system[_ -]?prompt\w*|(?:ai|agent|model|llm|assistant)"""
    r"""[_ -]?(?:instructions?|directives?|notes?|override)|note[_ -]to[_ -](?:ai|agents?|"""
    r"""models?|assistants?|llms?)|next[_-]agent|instructions?|directives?)\1[ \t]*[:=][ \t]*"""
    r"""["']?([^\n"']{6,400})""", re.IGNORECASE | re.MULTILINE)
_PLAIN_KEY = re.compile(r"instructions?|directives?|next[_-]agent", re.IGNORECASE)
_YAML_LINE = re.compile(r"^[ \t-]*[\w-]{2,40}:[ \t]", re.MULTILINE)
_WANTED = re.compile(
    r"\b(?:push|merge|delete|remove|disable|skip|release|approve|copy|upload|commit|force|"
    r"quarantine|secrets?|keys?|tokens?|credentials|sandbox|without review|no review)\b",
    re.IGNORECASE)


def _unquote(body: str) -> str:
    try:
        out = json.loads(f'"{body}"')
        return out if isinstance(out, str) else body
    except ValueError:
        return body.replace("\\'", "'").replace('\\"', '"')


def role_parts(text: str, acc: _Acc) -> None:
    """Add the bodies of role fences and role objects in ``text`` as segments, with a signal
    for each (counted once per fence or object of a model-side role)."""
    if "```" in text or "~~~" in text:
        for m in list(_ROLE_FENCE.finditer(text))[:_MAX_BLOBS]:
            body = m.group(3)
            if body.strip():
                acc.add(body, SignalCode.ROLE_FENCE)
                acc.signal(SignalCode.ROLE_FENCE, 1, f"{m.group(2)}: {body}")
    if "role" in text.lower():
        for m in list(_ROLE_OBJECT.finditer(text))[:_MAX_BLOBS]:
            role = m.group(3).lower()
            body = _unquote(m.group(7) if m.group(7) is not None else m.group(8))
            acc.add(body, SignalCode.ROLE_OBJECT)
            if role in OWN_ROLES:
                acc.signal(SignalCode.ROLE_OBJECT, 1, f"{role}: {body}")
    if ":" in text or "=" in text:
        structured = len(_YAML_LINE.findall(text, 0, 4000)) >= 2  # a config, not a prose label
        for m in list(_KEY.finditer(text))[:_MAX_BLOBS]:
            key, body = m.group(2), m.group(3)
            plain = _PLAIN_KEY.fullmatch(key) is not None
            if not plain or (_WANTED.search(body) and (m.group(1) or structured)):
                acc.add(body, SignalCode.ROLE_OBJECT)
