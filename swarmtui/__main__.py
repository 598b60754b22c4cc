"""Entry point for ``python -m swarmtui``."""

from __future__ import annotations

import sys

from swarmtui.cli import main

if __name__ == "__main__":
    sys.exit(main())
