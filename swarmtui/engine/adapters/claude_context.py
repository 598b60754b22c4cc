"""How full Claude Code's context window is, from its stream-json output (in the wrapper).

Facts from Claude Code 2.1 (``tests/data/claude``):

* each ``assistant`` line is one content block of a model answer; the blocks of one answer
  share ``message.id`` and ``message.usage``, whose ``input_tokens``,
  ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` add up to what that request
  sent: the conversation so far, i.e. the context the model saw (``output_tokens`` is still the
  streaming placeholder there, so it is not used);
* ``parent_tool_use_id`` is set on a subagent's lines: a subagent has its own context;
* the ``tool_result`` blocks of a ``user`` line answer the ``tool_use`` ids of the answer
  before it; once every id is answered, the tools of that turn have all returned (a *turn
  boundary*: nothing of the agent runs but its next API call);
* ``modelUsage`` of a ``result`` line has ``contextWindow`` per model, the only place the CLI
  says how large the window is.

One ``context`` signal is made per turn boundary whose numbers differ from the last one sent;
the supervisor decides what is worth an event.
"""

from __future__ import annotations

from typing import Any

from swarmtui.engine.adapters.base import Signal

MAX_TOKENS = 100_000_000  # a usage figure beyond this is not believed
MAX_OPEN_TOOLS = 256  # tool calls of one answer that are tracked


def _count(u: dict[str, Any], key: str) -> int:
    v = u.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
        return 0  # not a count (a string, negative, NaN)
    return MAX_TOKENS if v >= MAX_TOKENS else int(v)


def turn_tokens(usage: Any) -> int | None:
    """The context one request carried: input + cache read + cache creation tokens."""
    if not isinstance(usage, dict):
        return None
    return min(sum(_count(usage, k) for k in ("input_tokens", "cache_read_input_tokens",
                                               "cache_creation_input_tokens")), MAX_TOKENS)


class ContextTracker:
    """Fed every parsed stream-json object; returns ``context`` signals at turn boundaries."""

    def __init__(self) -> None:
        self.turns = 0  # answers of the main conversation whose tools have all returned
        self.windows: dict[str, int] = {}  # model -> contextWindow, from result lines
        self._msg_id: str | None = None
        self._tokens: int | None = None
        self._model = ""
        self._open: set[str] = set()
        self._pending = False  # an answer whose boundary has not been reported yet
        self._sent: tuple[int, int | None, str] | None = None

    def observe(self, obj: dict[str, Any]) -> list[Signal]:
        kind = obj.get("type")
        if obj.get("parent_tool_use_id") is not None:
            return []  # a subagent's own conversation
        if kind == "assistant" and not obj.get("error"):
            self._answer(obj.get("message"))
            return []
        if kind == "user":
            return self._results(obj.get("message"))
        if kind == "result":
            self._windows(obj.get("modelUsage"))
            return self._boundary(final=True)
        return []

    def _answer(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            return
        tokens = turn_tokens(msg.get("usage"))
        if tokens is None:
            return
        mid = str(msg.get("id") or "")[:100]
        if mid != self._msg_id or not mid:
            if self._pending and not self._open:
                self.turns += 1  # the answer before called no tool: its turn was over
            self._msg_id = mid
            self._open = set()
        self._tokens = tokens
        model = msg.get("model")
        if isinstance(model, str) and model and not model.startswith("<"):
            self._model = " ".join(model.split())[:100]
        self._pending = True
        content = msg.get("content")
        for block in content if isinstance(content, list) else []:
            if (isinstance(block, dict) and block.get("type") == "tool_use"
                    and len(self._open) < MAX_OPEN_TOOLS):
                self._open.add(str(block.get("id"))[:100])

    def _results(self, msg: Any) -> list[Signal]:
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            return []
        answered = False
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                self._open.discard(str(block.get("tool_use_id"))[:100])
                answered = True
        return self._boundary() if answered and not self._open else []

    def _windows(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        for model, u in list(usage.items())[:20]:
            if isinstance(u, dict):
                w = _count(u, "contextWindow")
                if w:
                    self.windows[" ".join(str(model).split())[:100]] = w

    def _boundary(self, *, final: bool = False) -> list[Signal]:
        if self._tokens is None:
            return []
        if self._pending:
            self.turns += 1
            self._pending = False
        elif not final:
            return []
        window = self.windows.get(self._model)
        now = (self._tokens, window, self._model)
        if now == self._sent:
            return []
        self._sent = now
        return [{"kind": "context", "tokens": self._tokens, "model": self._model,
                 "window": window, "turn": self.turns}]
