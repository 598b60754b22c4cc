"""The programs a shell command names, checked before a run as the agents' commands are.

A task's ``verify`` (and ``merge.verify``) runs with ``/bin/sh -c``. A program that does not
exist makes the shell exit 127 on every attempt, so ``validate``, ``plan`` and ``doctor`` look
for it first. Only what can be known without running anything is checked: the first word of
each simple command when it is a plain literal (no ``$``, quotes' expansions, globs or ``~``),
not a shell builtin or keyword and not a function the command defines; a name is looked up on
PATH, an absolute path on disk. A relative path (``./run-tests``) is left alone: it is resolved
in the attempt's worktree, which the agent may fill.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from swarmtui.model import TaskSpec

_PUNCT_CHARS = "();<>|&\n"
_PUNCT = frozenset(_PUNCT_CHARS)
_SKIPPED = frozenset({"!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while",
                      "until", "time"})
# Constructs whose words are not all programs: the rest of the command is not guessed at.
_STOP = frozenset({"for", "case", "select", "function"})
# Builtins of POSIX sh (and a few of bash and dash) that need no program on PATH.
BUILTINS = frozenset({
    ":", ".", "[", "[[", "alias", "bg", "break", "cd", "command", "continue", "echo", "eval",
    "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "local",
    "newgrp", "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test",
    "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait",
})
_RUNS_NEXT = frozenset({"exec", "command"})  # builtins whose next word is a program
_UNKNOWABLE = ("$", "`", "*", "?", "[", "~", "\n")


def shell_programs(command: str) -> list[str]:
    """The literal program of each simple command in ``command`` (builtins included), in
    order; an unparsable command gives what was read before the problem."""
    lex = shlex.shlex(command, posix=True, punctuation_chars=_PUNCT_CHARS)
    lex.whitespace = " \t\r"
    lex.whitespace_split = True
    tokens: list[str] = []
    try:
        for tok in lex:
            tokens.append(tok)
    except ValueError:
        pass  # unbalanced quotes: the shell reports it; check what came before
    programs: list[str] = []
    functions: set[str] = set()
    expect = True
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if set(tok) <= _PUNCT:  # shlex groups a run of them: "()", ";;", "&>", "\n\n"
            if "<<" in tok:
                break  # a here-document: its lines are text, not commands
            if "<" in tok or ">" in tok:
                i += 1  # a redirection: the next word is its file
            else:
                expect = True
        elif tok.isdigit() and set(nxt[:1]) <= set("<>") and nxt:
            pass  # the descriptor of a redirection (2>file)
        elif not expect:
            pass  # an argument
        elif tok in _STOP:
            break
        elif tok in _SKIPPED:
            pass
        elif "=" in tok and tok.split("=", 1)[0].isidentifier():
            pass  # an assignment before the command
        elif nxt == "()":
            functions.add(tok)  # name() { ...; }
            i += 1
        else:
            if tok not in functions:
                programs.append(tok)
            expect = tok in _RUNS_NEXT
        i += 1
    return programs


def missing_programs(command: str, *, path: str | None = None,
                     which: Callable[..., str | None] = shutil.which) -> list[str]:
    """Why each program ``command`` names cannot run, one line each ("" programs skipped)."""
    problems: list[str] = []
    for prog in dict.fromkeys(shell_programs(command)):
        if prog in BUILTINS or prog.startswith("-") or any(c in prog for c in _UNKNOWABLE):
            continue
        if "/" in prog:
            if not os.path.isabs(prog):
                continue  # relative to the worktree, which the agent may fill
            if not os.path.isfile(prog):
                problems.append(f"program {prog!r} does not exist")
            elif not os.access(prog, os.X_OK):
                problems.append(f"program {prog!r} is not executable")
        elif which(prog, path=path) is None:
            problems.append(f"program {prog!r} not found on PATH")
    return problems


def verify_problems(tasks: Iterable[TaskSpec], *, gate: str = "",
                    path: str | None = None) -> list[str]:
    """One line per task whose ``verify`` names a program that cannot run (and for
    ``merge.verify``), naming the task, the key and the program."""
    lines = [f"task {t.id}: key \"verify\": {p} (fix the task's verify command, or install it)"
             for t in tasks if t.verify for p in missing_programs(t.verify, path=path)]
    lines += [f"config: key \"merge.verify\": {p} (fix merge.verify, or install it)"
              for p in missing_programs(gate, path=path)] if gate else []
    return lines


def doctor_verify(ctx: Any, config: Any, check: Callable[[str, str, str], None]) -> None:
    """``doctor``'s lines for ``merge.verify`` and, given a task file, each task's verify."""
    from swarmtui.errors import InputError, SwarmError

    tasks: list[TaskSpec] = []
    tasks_file = getattr(ctx.args, "tasks", None)
    if tasks_file:
        from swarmtui.tasks import load_tasks

        try:
            if not Path(tasks_file).exists():
                raise InputError(f"{tasks_file}: no such task file")
            tasks = load_tasks(Path(tasks_file), roles=config.roles, agents=set(config.agents),
                               default_role=config.run.default_role,
                               default_agent=config.run.default_agent)
        except SwarmError as e:
            check("fail", "tasks", str(e))
            return
    problems = verify_problems(tasks, gate=config.merge.verify)
    for line in problems:
        check("fail", "verify", f"{tasks_file}: {line}" if line.startswith("task ") else line)
    if not problems and (tasks_file or config.merge.verify):
        n = sum(1 for t in tasks if t.verify)
        check("ok", "verify", f"{n} verify command(s) and merge.verify: programs found"
              if config.merge.verify else f"{n} verify command(s): programs found")
