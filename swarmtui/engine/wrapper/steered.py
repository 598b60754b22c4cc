"""A steerable agent in the wrapper: its live session and the pipe the supervisor commands it
through, started and ended together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from swarmtui.engine.adapters.base import Signal
from swarmtui.engine.wrapper.live import LiveSession
from swarmtui.engine.wrapper.pane import LivePane
from swarmtui.engine.wrapper.steerpipe import SteerReader, steer_path

DEFAULT_ASK_TIMEOUT = 900.0


def timeout_reason(seconds: float) -> str:
    """What the model reads when nobody answered its request in time."""
    return (f"No operator answered within {seconds:g} s, so this tool use is denied. Carry on "
            "without it, or finish and say in your results what you needed.")


class Steered:
    def __init__(self, stdin: IO[bytes], agent_dir: Path, token: str, cfg: dict[str, Any],
                 record: Callable[[list[Signal]], None], pane: LivePane | None = None) -> None:
        timeout = cfg.get("ask_timeout")
        seconds = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else (
            DEFAULT_ASK_TIMEOUT)

        def emit(signals: list[Signal]) -> None:
            """Recorded for the supervisor, and shown in the agent's window."""
            record(signals)
            if pane is not None:
                pane.signals(signals)

        self.emit = emit
        self.session = LiveSession(stdin, emit, ask_timeout=seconds,
                                   timeout_reason=timeout_reason(seconds))
        if pane is not None:
            pane.session = self.session
            self.session.on_change = pane.hint
        self.pipe = SteerReader(steer_path(agent_dir), token, self.session.command,
                                self._refused)

    def start(self, prompt: str) -> None:
        if not self.pipe.start():
            self._refused("the steering pipe could not be made: this session cannot be "
                          "steered from the supervisor")
        self.session.start(prompt)

    def _refused(self, why: str) -> None:
        self.emit([{"kind": "steer_refused", "why": why}])

    def end(self) -> None:
        """The agent has exited: nothing more can be delivered."""
        self.pipe.close()
        self.session.ended()
