"""``swarmtui report`` (what a run cost, wasted and bought) and ``swarmtui plan`` (what a task
file implies before a run). Thin: read the store or the task file, call ``swarmtui.report``,
print. Exit codes as everywhere: 0 ok, 1 failed (the HTML file cannot be written), 2 bad
input (a task file, a run number), 3 no run in this repository.

``register(add, common, js)`` adds both commands to the parser (``swarmtui.cli.parser``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from swarmtui.cli.common import Invocation, existing_run, run_lock
from swarmtui.errors import InputError, NoRunError, SwarmError
from swarmtui.textsafe import term_safe

if TYPE_CHECKING:
    from swarmtui.config import Config
    from swarmtui.report import Report
    from swarmtui.store import Store


PLAN_TURNS = 10.0  # swarmtui.report.plan.DEFAULT_TURNS (tests/test_plan.py holds them equal)


class AddCommand(Protocol):
    """The ``add`` helper of ``swarmtui.cli.parser.build_parser``."""

    def __call__(self, name: str, fn: Callable[[Invocation], int], text: str | None,
                 parents: tuple[Any, ...] = ...) -> argparse.ArgumentParser: ...


def _width() -> int:
    return max(60, min(160, shutil.get_terminal_size((100, 24)).columns))


def _run_config(ctx: Invocation, repo: Path, store: Store, run: int) -> Config:
    from swarmtui.engine.run.runconfig import config_of_run

    return config_of_run(store.replay(run).settings, ctx.config(repo))


def load_report(ctx: Invocation) -> Report:
    """The report of the repository's newest run, or of ``--run N``."""
    from swarmtui.report import build_report

    repo, config, store = existing_run(ctx)
    newest = store.current_run()
    run = getattr(ctx.args, "run", None) or newest
    if not 1 <= run <= newest:
        raise InputError(f"--run {run}: runs in {repo} are 1 to {newest}")
    if run != newest:
        config = _run_config(ctx, repo, store, run)
    events = store.events(0, run=run)
    if not events:
        raise NoRunError(f"run {run} of {repo} has no events")
    live = run == newest and run_lock(repo).holder_alive()
    return build_report(events, config, now=time.time() if live else None, run=run)


def write_html(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(page)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise SwarmError(f"cannot write {path}: {e.strerror or e}") from None


def cmd_report(ctx: Invocation) -> int:
    """``swarmtui report [--html FILE] [--json] [--run N]``."""
    from swarmtui.report import report_html, report_json, report_text

    report = load_report(ctx)
    if getattr(ctx.args, "html", None):
        path = Path(ctx.args.html)
        write_html(path, report_html(report))
        print(term_safe(str(path.expanduser().resolve())))
    elif getattr(ctx.args, "json", False):
        print(json.dumps(report_json(report), sort_keys=True))
    else:
        print(term_safe(report_text(report, _width()), multiline=True))
    return 0


def cmd_plan(ctx: Invocation) -> int:
    """``swarmtui plan TASKS [--json] [--turns N] [--model NAME] [--overhead TOKENS]``."""
    from swarmtui.cli.session import load_tasks
    from swarmtui.report.plan import PlanOptions, plan_json, plan_tasks, plan_text

    repo: Path | None
    try:
        repo = ctx.repo
    except InputError:
        repo = None  # no repository: the declared files cannot be read, the rest stands
    config = ctx.config(repo)
    tasks = load_tasks(repo or Path.cwd(), config, ctx.args.tasks)
    turns = getattr(ctx.args, "turns", None)
    overhead = getattr(ctx.args, "overhead", None) or 0
    if turns is not None and turns <= 0:
        raise InputError(f"--turns {turns}: expected a number above 0")
    if overhead < 0:
        raise InputError(f"--overhead {overhead}: expected 0 or more tokens")
    options = PlanOptions(turns=turns if turns is not None else PlanOptions().turns,
                          model=getattr(ctx.args, "model", None) or None, overhead=overhead)
    picked = None
    if repo is not None:
        from swarmtui.report.plan import read_declared_files

        picked = read_declared_files(repo, tasks)
    result = plan_tasks(tasks, config, picked=picked, options=options)
    from swarmtui.tasks.programs import verify_problems

    problems = [f"{ctx.args.tasks}: {p}" for p in verify_problems(tasks,
                                                                   gate=config.merge.verify)]
    if getattr(ctx.args, "json", False):
        print(json.dumps({**plan_json(result), "problems": problems}, sort_keys=True))
    else:
        print(term_safe(plan_text(result, ctx.args.tasks), multiline=True))
        for line in problems:
            print(term_safe(f"problem: {line}"), file=sys.stderr)
    return 1 if problems else 0


def register(add: AddCommand, common: argparse.ArgumentParser,
             js: argparse.ArgumentParser) -> None:
    """Add ``report`` and ``plan`` to the command line (call from ``build_parser``). Nothing
    of ``swarmtui.report`` is imported here: every command pays for building the parser."""
    sp = add("report", cmd_report, "what a run cost, wasted and bought: attempts, spend, "
             "retries, slots and a timeline (text, --json or an --html page)", (common, js))
    sp.add_argument("--html", metavar="FILE", help="write a self-contained HTML page to FILE")
    sp.add_argument("--run", type=int, metavar="N", help="report run N (default: the newest)")
    sp = add("plan", cmd_plan, "what a task file implies before a run: how many tasks run at "
             "once, dependency depth, overlapping scopes and a cost estimate", (common, js))
    sp.add_argument("tasks", metavar="TASKS", help="task file (.toml or a .json feature list)")
    sp.add_argument("--turns", type=float, metavar="N",
                    help=f"how many turns an agent takes, roughly (default {PLAN_TURNS:g}): "
                    "each reads its prompt and files again")
    sp.add_argument("--model", metavar="NAME",
                    help="price every task as this model (default: the one its agent names)")
    sp.add_argument("--overhead", type=int, metavar="TOKENS",
                    help="tokens the agent adds to every turn itself (its instructions, tools)")
