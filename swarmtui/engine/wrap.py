"""``python -m swarmtui.engine.wrap AGENT_DIR``: the entry point of the process in each agent's
window. The command line is part of what a running agent was started with (and what a remote host
runs), so it stays put while the wrapper itself lives in ``engine/wrapper/``."""

from __future__ import annotations

import sys

from swarmtui.engine.wrapper.main import main

if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m swarmtui.engine.wrap AGENT_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
