"""Running git: ``git -C <dir> ...`` through GitPython's command runner, and its one error.

An argument list, no shell: no expansion of ``$VARS`` or ``~`` in paths (GitPython expands
both in the paths it is given as working directories). Every call blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class GitError(Exception):
    pass


_RUNNER: Any = None  # git.Git(), made on first use (GitPython's import costs ~70 ms)


def _runner() -> Any:
    global _RUNNER
    import git

    _RUNNER = _RUNNER or git.Git()  # no working directory: every call names one with -C
    return _RUNNER


def run_git(cwd: Path, *args: str, ok: tuple[int, ...] = (0,),
            env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``git -C cwd args...``; raises GitError when the exit code is not in ``ok``."""
    import git

    try:
        code, out, err = _runner().execute(
            ["git", "-C", str(cwd), *args], with_extended_output=True, with_exceptions=False,
            strip_newline_in_stdout=False, env=env)
    except git.GitCommandNotFound as e:
        raise GitError(f"git is not installed: {e}") from None
    except (git.GitCommandError, OSError) as e:
        raise GitError(f"git {' '.join(args[:2])} in {cwd}: {e}") from None
    if code not in ok:
        raise GitError(f"git {' '.join(args[:3])} in {cwd}: "
                       f"{str(err).strip() or str(out).strip() or f'exit {code}'}")
    return int(code), str(out), str(err)
