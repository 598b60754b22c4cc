"""The command line: every command, its arguments and its help.

A command names its function as "A:cmd_kill" (A: ``cli/actions.py``, I: ``cli/inspect.py``,
S: ``cli/session.py``), imported only when that command is built. ``build_parser(only=NAME)``
(what ``main`` asks for when the first word is a command) builds the top level and that one
command and imports that one module, where the whole command line imports every command's
module (about 60 ms of CPU per call on this box). Both parse and answer alike: a command's
parser is the same either way, and the top level's usage line does not list the commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import import_module
from typing import Any, cast

from swarmtui import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from swarmtui.cli.common import Invocation

Fn = Callable[["Invocation"], int]


class _Skipped:
    """What ``add`` gives for a command not being built: it takes its arguments, keeps none."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        return None

    def add_mutually_exclusive_group(self, *args: Any, **kwargs: Any) -> _Skipped:
        return self

    def set_defaults(self, **kwargs: Any) -> None:
        return None


_SKIPPED = cast(argparse.ArgumentParser, _Skipped())


_MODULES = {"A": "swarmtui.cli.actions", "I": "swarmtui.cli.inspect", "S": "swarmtui.cli.session"}


def _fn(ref: str | Fn) -> Fn:
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return cast(Fn, getattr(import_module(_MODULES[module]), name))


def _cmd_hosts(ctx: Invocation) -> int:
    from swarmtui.cli.hosts_cmd import cmd_hosts  # the config and pydantic: only when needed

    return cmd_hosts(ctx)


def _common() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", metavar="DIR",
                        help="the repository (default: the git repository around the cwd)")
    common.add_argument("--config", metavar="FILE", help="config file (see config.toml.example)")
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true", help="machine-readable output (stable)")
    return common, js


def _ui(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--detach", action="store_true", help="return once the session is up")
    sp.add_argument("--theme", help="colour theme of the TUI")
    sp.add_argument("--no-tui", action="store_true", help="window 0 shows the plain event stream")


def _task_form(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("prompt", metavar="PROMPT")
    sp.add_argument("--id")
    sp.add_argument("--title")
    sp.add_argument("--role")
    sp.add_argument("--agent")
    sp.add_argument("--files", action="append", metavar="GLOB")
    sp.add_argument("--verify", metavar="CMD")
    sp.add_argument("--depends-on", action="append", metavar="ID", dest="depends_on")
    sp.add_argument("--priority", type=int, default=0)


def _target(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("id", metavar="ID", help="a task id, or TASK-N for its attempt N")
    sp.add_argument("--attempt", type=int, metavar="N",
                    help="act only if attempt N is still the task's current one")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only``, the top level and that command alone (the whole
    command line when there is no such command, so that the error names them all)."""
    common, js = _common()
    built: list[str] = []
    p = argparse.ArgumentParser(
        prog="swarmtui", description="Supervise a fleet of AI coding agents in tmux and git "
        "worktrees.", epilog="Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 no run.")
    p.add_argument("--version", action="version", version=f"swarmtui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name: str, fn: str | Fn, text: str | None, parents: tuple[Any, ...] = (common,)
            ) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return _SKIPPED
        # Internal commands get no help entry, which keeps them out of the command list.
        sp = (sub.add_parser(name, parents=list(parents)) if text is None else
              sub.add_parser(name, parents=list(parents), help=text, description=text))
        sp.set_defaults(fn=_fn(fn))
        built.append(name)
        return sp

    sp = add("up", "S:cmd_up", "start (or resume) a run of the tasks in TASKS")
    sp.add_argument("tasks", metavar="TASKS", help="task file (.toml or a .json feature list)")
    sp.add_argument("--headless", action="store_true",
                    help="supervise in this terminal, print events, exit when all tasks end")
    sp.add_argument("--reload-config", action="store_true",
                    help="a resumed run takes this config instead of the one it started with")
    _ui(sp)

    sp = add("demo", "S:cmd_demo", "run the bundled demo on simulated agents (no API key needed)")
    sp.add_argument("--headless", action="store_true", help="print events and a summary, exit")
    sp.add_argument("--dir", metavar="DIR", help="build the demo repository here")
    sp.add_argument("--pace", type=float, default=None,
                    help="seconds per simulated step (default 2 with the TUI, 0.5 headless)")
    _ui(sp)

    add("status", "I:cmd_status", "show the run, slots and tasks", (common, js))
    sp = add("events", "I:cmd_events", "print the event log", (common, js))
    sp.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    sp.add_argument("--since", type=int, default=0, metavar="SEQ", help="only events after SEQ")

    _task_form(add("add", "A:cmd_add", "add a task to the running supervisor", (common, js)))
    _task_form(add("spawn", "A:cmd_spawn", "from inside an agent: ask for a sub-agent",
                   (common, js)))

    _target(add("kill", "A:cmd_kill", "end a task's agent (TERM, then KILL); keeps its worktree",
                (common, js)))
    sp = add("retry", "A:cmd_retry", "start a fresh attempt with a handoff (and an optional note)",
             (common, js))
    _target(sp)
    sp.add_argument("--note", metavar="TEXT", help="passed to the next attempt in its handoff")
    sp.add_argument("--resume", action="store_true",
                    help="continue the last attempt's agent session (Claude Code) instead of "
                    "starting over; the note becomes its next instruction")
    sp.add_argument("--allow", action="append", metavar="RULE",
                    help="grant a permission from now on, e.g. 'Bash(make:*)' (repeatable)")
    sp.add_argument("--force", action="store_true",
                    help="start it even if its prompt does not fit the context window")
    sp = add("allow", "A:cmd_allow", "let a live agent use the tool it asks for (TASK#N: its "
             "request N; TASK: the oldest)", (common, js))
    _target(sp)
    scope = sp.add_mutually_exclusive_group()
    scope.add_argument("--task", dest="scope", action="store_const", const="task",
                       default="once", help="allow the rule for every attempt of the task")
    scope.add_argument("--role", dest="scope", action="store_const", const="role",
                       help="allow the rule for every task of the task's role")
    sp = add("deny", "A:cmd_deny", "refuse a live agent the tool it asks for; it reads why and "
             "carries on", (common, js))
    _target(sp)
    sp.add_argument("--why", metavar="TEXT", default="",
                    help="the reason the agent reads as the tool's error")
    _target(add("interrupt", "A:cmd_interrupt", "end a live agent's current turn; its session "
                "goes on (send it a message next)", (common, js)))
    sp = add("send", "A:cmd_send", "send a message: into a running agent's live session, or as "
             "a follow-up to an attempt that ended (resumes its session as a new attempt)",
             (common, js))
    _target(sp)
    sp.add_argument("text", metavar="TEXT")
    _target(add("review", "A:cmd_review", "have a model review a finished attempt (task, check, "
                "summary, diff) and record its verdict", (common, js)))
    _target(add("cancel", "A:cmd_cancel", "give up on a task (ending its agent if running); "
                "dependents die with it", (common, js)))
    _target(add("verify", "A:cmd_verify", "run a task's verify command again", (common, js)))
    _target(add("merge", "A:cmd_merge", "merge a passed task into the target (one at a time; "
                "exits 1 with the reason when it refuses)", (common, js)))
    _target(add("resolve", "A:cmd_resolve", "start a resolver attempt for a passed task whose "
                "merge conflicts", (common, js)))
    sp = add("approve", "A:cmd_approve", "release held text (QID from `status`): it enters "
             "later prompts as written", (common, js))
    sp.add_argument("qid", metavar="QID")
    sp = add("reject", "A:cmd_reject", "keep held text (QID) out of every prompt for good; a "
             "spawned task whose prompt it was is cancelled", (common, js))
    sp.add_argument("qid", metavar="QID")
    sp = add("ack", "A:cmd_ack", "acknowledge alerts (all open ones, one by id, or a task's)",
             (common, js))
    sp.add_argument("alert", nargs="?", type=int, metavar="ALERT")
    sp.add_argument("--task", metavar="ID")
    add("ledger", "I:cmd_ledger", "list merged work and its do-not-revert marks", (common, js))
    add("pause", "A:cmd_pause", "stop dispatching new agents", (common, js))
    add("resume", "A:cmd_resume", "resume dispatch (also closes an open breaker)", (common, js))
    sp = add("attach", "S:cmd_attach", "attach this terminal to the run's tmux session "
             "(restarts a dead supervisor first)")
    _ui(sp)
    sp.add_argument("--reload-config", action="store_true",
                    help="a restarted supervisor takes this config instead of the run's own")
    sp = add("watch", "S:cmd_watch", "the live view, read-only (for a second person or shell)")
    sp.add_argument("--theme", help="colour theme (see themes/)")
    sp = add("down", "S:cmd_down", "stop the run: end every agent and the session")
    sp.add_argument("--keep-agents", action="store_true", help="leave agents running")
    sp = add("gc", "A:cmd_gc", "remove worktrees and branches of merged or cancelled tasks' "
             "attempts; unmerged work needs --force", (common, js))
    sp.add_argument("--force", action="store_true",
                    help="also remove attempts with unmerged commits or uncommitted changes")
    if only in (None, "report", "plan"):
        from swarmtui.cli.report_cmd import register

        register(add, common, js)
    if only in (None, "serve"):
        from swarmtui.cli.serve_cmd import register as register_serve

        register_serve(add, common)
    sp = add("doctor", "I:cmd_doctor", "check the machine, the repository and the config",
             (common, js))
    sp.add_argument("tasks", metavar="TASKS", nargs="?",
                    help="also check this task file's verify commands")
    sp = add("hosts", _cmd_hosts, "list the machines agents run on ([[hosts]]): reachable or "
             "why not, slots used, latency", (common, js))
    sp.add_argument("--probe", action="store_true",
                    help="ask every host now instead of showing the supervisor's view")
    sp = add("validate", "I:cmd_validate", "check a task file and the config", (common, js))
    sp.add_argument("tasks", metavar="TASKS")

    sp = add("supervise", "S:cmd_supervise", None)
    sp.add_argument("--tasks")
    sp.add_argument("--no-tui", action="store_true")
    sp.add_argument("--theme")
    sp.add_argument("--reload-config", action="store_true")
    sp = add("wrap", "A:cmd_wrap", None, ())
    sp.add_argument("agent_dir")
    sp = add("fake-agent", "A:cmd_fake_agent", "the simulated agent used by the demo and "
             "the tests", ())
    if sp is not _SKIPPED:
        from swarmtui import fake_agent

        fake_agent.add_arguments(sp)
    if only is not None and not built:
        return build_parser()
    return p
