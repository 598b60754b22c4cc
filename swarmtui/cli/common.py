"""What every command shares: the repository, the config, the store, the lock, printing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swarmtui import protocol as P
from swarmtui.errors import InputError, NoRunError
from swarmtui.textsafe import term_safe

if TYPE_CHECKING:  # heavy modules load only in the commands that need them
    from swarmtui.config import Config
    from swarmtui.engine.runtime.tmux import Tmux
    from swarmtui.model import RunState
    from swarmtui.runlock import RunLock
    from swarmtui.store import Store


@dataclass
class Invocation:
    """One command as the user typed it: its arguments, and the repository and config they
    name."""

    args: argparse.Namespace

    @property
    def repo(self) -> Path:
        from swarmtui.engine.runtime.git import GitError, find_root

        start = self.args.repo or os.environ.get(P.ENV_REPO) or os.getcwd()
        try:
            return find_root(Path(start))
        except GitError as e:
            raise InputError(str(e)) from None

    def config(self, repo: Path | None = None) -> Config:
        from swarmtui.config import load_config

        cfg = getattr(self.args, "config", None)
        return load_config(repo=repo, explicit=Path(cfg) if cfg else None)

    def config_path(self, repo: Path) -> Path | None:
        from swarmtui.config import find_config_file

        cfg = getattr(self.args, "config", None)
        return find_config_file(repo, Path(cfg) if cfg else None)

    def store(self, repo: Path, *, must_exist: bool = True) -> Store:
        from swarmtui.store import Store

        db = repo / P.SWARM_DIR / P.STATE_DB
        if must_exist and not db.exists():
            raise NoRunError(f"no run in {repo} (no {P.SWARM_DIR}/{P.STATE_DB}); "
                             "start one with `swarmtui up TASKS`")
        return Store(db)


def existing_run(ctx: Invocation) -> tuple[Path, Config, Store]:
    """(repo, the run's own config, store) of the repository's run; exit 3 when none."""
    repo, config, store, _ = existing_run_state(ctx)
    return repo, config, store


def existing_run_state(ctx: Invocation) -> tuple[Path, Config, Store, RunState]:
    """``existing_run`` and the run's state, replayed once."""
    from swarmtui.engine.run.runconfig import config_of_run

    repo = ctx.repo
    store = ctx.store(repo)
    if store.current_run() == 0:
        raise NoRunError(f"no run in {repo}; start one with `swarmtui up TASKS`")
    caller = ctx.config(repo)
    state = store.replay()
    return repo, config_of_run(state.settings, caller), store, state


def run_lock(repo: Path) -> RunLock:
    from swarmtui.runlock import RunLock

    return RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)


def tmux_for(repo: Path, config: Config) -> Tmux:
    from swarmtui.engine.runtime.tmux import Tmux, session_name_for

    return Tmux(session_name_for(repo), socket=config.run.tmux_socket or None)


def out(args: argparse.Namespace, obj: Any, human: str) -> None:
    """``obj`` as JSON with --json, else ``human`` made safe for the terminal."""
    if getattr(args, "json", False):
        print(json.dumps(obj, sort_keys=True))
    else:
        print(term_safe(human, multiline=True))


def say(text: str, *, err: bool = False) -> None:
    print(term_safe(text, multiline=True), file=sys.stderr if err else sys.stdout, flush=True)


def parse_agent_ref(value: str, known: set[str] | None = None) -> tuple[str, int | None]:
    """"task" or "task-N" (an agent id, as the table and tmux windows show it)."""
    if known is not None and value in known:
        return value, None
    head, sep, tail = value.rpartition("-")
    if sep and tail.isdigit() and head and (known is None or head in known):
        return head, int(tail)
    return value, None
