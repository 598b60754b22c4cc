"""`swarmtui status` before the command line is built: the answer from the supervisor's status
file (``swarmtui/statusfile.py``), when it may give one.

Building the parser imports every command's module, and the slow path imports the model and
the engine: most of the time `status` took. This path reads the plain forms of the command
(``status [--json] [--repo DIR] [--config FILE]``) itself and loads the file's reader, the
standard library's C modules it needs (not pathlib, json, re, subprocess: see
``statusfile.py``), and for the text table json and the table. Anything it is unsure of
(another spelling of an option, no live supervisor, a file that may not answer, any error at
all) returns None, and the command runs the usual way, which says what is wrong in its own words.
"""

from __future__ import annotations

import os

from swarmtui import protocol as P


def parse(args: list[str]) -> tuple[bool, str | None, str | None] | None:
    """(--json, --repo, --config) of ``status``'s plain forms; None for anything else."""
    as_json, repo, config = False, None, None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if arg == "--json":
            as_json = True
        elif name in ("--repo", "--config"):
            if not eq:
                if i + 1 >= len(args):
                    return None
                i += 1
                value = args[i]
            if not value or value.startswith("-"):
                return None
            repo, config = (value, config) if name == "--repo" else (repo, value)
        else:
            return None
        i += 1
    return as_json, repo, config


def answer(args: list[str]) -> str | None:
    """What `status ARGS` prints, from the status file; None when the usual path must answer."""
    parsed = parse(args)
    if parsed is None:
        return None
    as_json, repo_arg, config_arg = parsed
    from swarmtui.configpath import find_config_path
    from swarmtui.gitquick import main_root
    from swarmtui.statusfile import fresh_json

    repo = main_root(repo_arg or os.environ.get(P.ENV_REPO) or os.getcwd())
    if repo is None:
        return None
    text = fresh_json(repo, find_config_path(repo, config_arg or None))
    if text is None or as_json:
        return text
    import json

    from swarmtui.statustext import status_text

    obj = json.loads(text)
    return status_text(obj, obj["run"]["state"])


def quick_status(args: list[str]) -> int | None:
    """Print the answer and return 0, or None when the usual path must answer."""
    try:
        text = answer(args)
    except Exception:  # noqa: BLE001 - any doubt: the usual path answers, and explains
        return None
    if text is None:
        return None
    try:
        print(text, flush=True)
    except BrokenPipeError:
        pass
    return 0
