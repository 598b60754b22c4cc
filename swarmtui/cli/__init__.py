"""Every swarmtui command. Thin: parse, call the engine's parts or the store, print.

Exit codes: 0 ok, 1 the operation failed, 2 bad usage or input, 3 no run in this repository.
Commands that act on a running supervisor append a row to the store's command inbox, nudge the
supervisor awake and wait for its answer, so they work the same from any shell (or from inside
an agent).

`status` is asked most often (by people, scripts and agents), so it first tries the live
supervisor's status file (``cli/quick.py``) before anything else is imported.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["status"]:
        from swarmtui.cli.quick import quick_status

        try:
            done = quick_status(args_in[1:])
        except KeyboardInterrupt:  # while it waited for the supervisor's next file
            return 130
        if done is not None:
            return done
    from swarmtui.cli.common import Invocation
    from swarmtui.cli.parser import build_parser
    from swarmtui.errors import SwarmError
    from swarmtui.textsafe import term_safe

    first = args_in[0] if args_in else ""
    parser = build_parser(only=None if first.startswith("-") or not first else first)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on bad usage, 0 on --help
        return int(e.code or 0)
    try:
        return int(args.fn(Invocation(args)) or 0)
    except SwarmError as e:
        print(f"swarmtui: {term_safe(str(e), multiline=True)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def __getattr__(name: str) -> object:
    """``Invocation`` on first use: importing the package must stay cheap for `status`."""
    if name == "Invocation":
        from swarmtui.cli.common import Invocation

        return Invocation
    raise AttributeError(name)


__all__ = ["Invocation", "main"]
