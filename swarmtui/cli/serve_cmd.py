"""``swarmtui serve``: the run in a browser (see ``swarmtui.web``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from swarmtui.cli.common import Invocation, existing_run

AddCommand = Callable[..., argparse.ArgumentParser]


def cmd_serve(ctx: Invocation) -> int:
    from swarmtui.web.server import WebView, is_loopback

    args = ctx.args
    repo, config, _ = existing_run(ctx)
    view = WebView(repo, max_agents=config.slots.max_agents, host=args.host, port=args.port,
                   allow_actions=args.allow_actions)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    if not is_loopback(args.host):
        print(f"swarmtui: WARNING: serving on {args.host}, not 127.0.0.1: anyone who can reach "
              "this address and learns the link can see the run"
              + (" and act on it" if args.allow_actions else "")
              + "; the traffic is plain HTTP. Prefer the default and an SSH tunnel.",
              file=sys.stderr)
    print(f"swarmtui: the run in {repo}, {'with' if args.allow_actions else 'without'} "
          f"actions, at\n  {view.access_url}\n(the link holds a one-off access token: keep "
          "it to yourself; Ctrl-C stops serving)", flush=True)
    view.publish(args.link or "")
    try:
        view.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def register(add: AddCommand, common: argparse.ArgumentParser) -> None:
    sp: Any = add("serve", cmd_serve, "the run in a browser: the fleet, live, read-only unless "
                  "--allow-actions (for a phone, through an SSH tunnel)", (common,))
    sp.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; another one is reachable "
                    "from the network and warned about)")
    sp.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    sp.add_argument("--allow-actions", action="store_true",
                    help="allow pause, resume, kill, retry, cancel and ack from the page")
    sp.add_argument("--link", metavar="URL",
                    help="the address as the phone reaches it (pushes link to it; default "
                    "the address served)")
