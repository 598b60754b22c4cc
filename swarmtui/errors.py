"""Error types that map onto the CLI's exit codes.

Every error that reaches a user names where the problem is (file, key, task) and what was
expected; the CLI prints ``str(err)`` and exits with ``err.exit_code``.
"""

from __future__ import annotations


class SwarmError(Exception):
    """Base class: the operation failed (exit 1)."""

    exit_code = 1


class InputError(SwarmError):
    """Bad usage or bad input such as a config or task file (exit 2)."""

    exit_code = 2


class ConfigError(InputError):
    """A config file is unreadable, has an unknown key or a value of the wrong type."""


class TaskFileError(InputError):
    """A task file is invalid. ``problems`` holds every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NoRunError(SwarmError):
    """There is no run in this repository (exit 3)."""

    exit_code = 3


class RunLiveError(InputError):
    """A supervisor is already running for this repository (exit 2)."""


class IllegalTransition(SwarmError):
    """A task state change that the state machine does not allow."""
