"""Claude Code's tokens turn by turn, from its stream-json output (in the wrapper).

Claude Code says what a run cost only on its final ``result`` line. An attempt that never gets
there (killed, stuck, relaunched at its context threshold, lost mid-turn) was still billed for
every answer it received, so each answer is counted as it is printed:

* an ``assistant`` line is one content block of an answer; the blocks of one answer repeat the
  same ``message.id`` and ``message.usage`` (counted once per id). Its input and cache figures
  are final, but ``output_tokens`` is the API's streaming placeholder (1);
* with ``--include-partial-messages`` (the default command) the API's own stream events are
  printed as ``stream_event`` lines tagged with ``api_message_id``: ``message_start`` has the
  answer's usage first, and ``message_delta`` its final ``output_tokens``;
* a subagent's answers (``parent_tool_use_id`` set) are billed too, and counted.

Each answer gives ``usage`` signals that are increments: the first sight of an answer carries
what it has, a later line only what grew. Their sum per model is what the attempt's exit record
carries when no result line came (``usage_from_turns``). Without partial messages the output of
such turns is undercounted (one token per answer): that is all the stream says.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from swarmtui.engine.adapters.base import Signal
from swarmtui.engine.adapters.claude_context import MAX_TOKENS, _count

MAX_ANSWERS = 1024  # answers whose figures are remembered (older ones are long finished)
FIELDS = (("input", "input_tokens"), ("output", "output_tokens"),
          ("cache_read", "cache_read_input_tokens"),
          ("cache_write", "cache_creation_input_tokens"))


class TurnMeter:
    """Fed every parsed stream-json object; returns ``usage`` signals, keeps the sums."""

    def __init__(self) -> None:
        self._answers: OrderedDict[str, tuple[str, dict[str, int]]] = OrderedDict()
        self.models: dict[str, dict[str, int]] = {}  # model -> summed tokens per field

    def observe(self, obj: dict[str, Any]) -> list[Signal]:
        kind = obj.get("type")
        if kind == "assistant" and not obj.get("error"):
            msg = obj.get("message")
            if isinstance(msg, dict):
                return self._seen(msg.get("id"), msg.get("model"), msg.get("usage"))
        elif kind == "stream_event":
            ev = obj.get("event")
            if not isinstance(ev, dict):
                return []
            if ev.get("type") == "message_start" and isinstance(ev.get("message"), dict):
                msg = ev["message"]
                return self._seen(msg.get("id"), msg.get("model"), msg.get("usage"))
            if ev.get("type") == "message_delta":
                return self._seen(obj.get("api_message_id"), None, ev.get("usage"))
        return []

    def _seen(self, mid: Any, model: Any, usage: Any) -> list[Signal]:
        if not isinstance(mid, str) or not mid or not isinstance(usage, dict):
            return []
        mid = mid[:100]
        known = self._answers.get(mid)
        if known is None:
            if not isinstance(model, str) or not model.strip() or model.startswith("<"):
                return []  # "<synthetic>": a failed call's placeholder, nothing was billed
            name = " ".join(model.split())[:100]
            figures = dict.fromkeys((f for f, _ in FIELDS), 0)
            self._answers[mid] = (name, figures)
            if len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)
        else:
            name, figures = known
        grew: dict[str, int] = {}
        for field, key in FIELDS:
            now = _count(usage, key)
            if now > figures[field]:
                grew[field] = now - figures[field]
                figures[field] = now
        if not grew:
            return []
        acc = self.models.setdefault(name, dict.fromkeys((f for f, _ in FIELDS), 0))
        for field, n in grew.items():
            acc[field] = min(acc[field] + n, MAX_TOKENS * MAX_ANSWERS)
        return [{"kind": "usage", "message": mid, "model": name,
                 **{field: grew.get(field, 0) for field, _ in FIELDS}}]

    def usage(self) -> dict[str, Any]:
        """For the exit record of an attempt that printed no result line."""
        models = {name: {**u, "cost_usd": 0.0} for name, u in self.models.items()
                  if any(u.values())}
        if not models:
            return {}
        return {"models": models, "usage_from_turns": True,
                "tokens": sum(sum(u[f] for f, _ in FIELDS) for u in models.values())}
