"""``python bench/fleet_watch.py REPO CONFIG OUT STOP_FILE``: ``swarmtui watch`` run headless
(Textual's ``App.run_test`` at 160x48) on a live run, recording when each progress status
reaches the agents table.

It is the app ``swarmtui watch`` runs (``SwarmApp``, read-only, the run's own config), with one
hook: ``on_feed_update`` (where the app hands a ``FeedUpdate`` to the fleet screen, which
applies the changed rows to the ``AgentsTable``) is wrapped to note, for every row in the
update, its LAST PROGRESS cell as the table holds it after ``apply`` (read back from
``AgentsTable.rows_by_task``) and three times: the message handled, the table updated, and the
next screen refresh done (``call_after_refresh``: the compositor has rendered the changed
lines; the headless driver writes them nowhere). Records go to ``OUT`` as JSON lines,
flushed once a second; ``STOP_FILE`` appearing ends the app.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from swarmtui.config import load_config_file
from swarmtui.engine.run.runconfig import config_of_run
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.store import Store
from swarmtui.tui.app import SwarmApp
from swarmtui.tui.feed import FeedUpdate
from swarmtui.tui.view import COLUMN_KEYS
from swarmtui.windows import RunWindows

PROGRESS_COL = COLUMN_KEYS.index("progress")


class MeasuredApp(SwarmApp):
    # Textual resolves a relative CSS_PATH against the subclass's file: point at the app's own.
    CSS_PATH = str(Path(sys.modules[SwarmApp.__module__].__file__ or ".").with_name("app.tcss"))

    def __init__(self, *a: Any, out: Path, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._out = open(out, "a", buffering=1 << 16)  # noqa: SIM115 - closed in finish()
        self._pending: list[dict[str, Any]] = []
        self.updates = 0

    def on_feed_update(self, msg: FeedUpdate) -> None:
        t_recv = time.time()
        super().on_feed_update(msg)
        t_applied = time.time()
        table = self.fleet.table
        cells: dict[str, str] = {}
        for tid in msg.update.rows:
            row = table.rows_by_task.get(tid)
            if row is not None:
                cells[tid] = row.cells[PROGRESS_COL].text
        rec: dict[str, Any] = {"recv": t_recv, "applied": t_applied, "rows": cells,
                               "last_seq": msg.update.last_seq}
        self.updates += 1

        def painted() -> None:
            rec["painted"] = time.time()
            self._out.write(json.dumps(rec) + "\n")

        self.call_after_refresh(painted)

    def finish(self) -> None:
        self._out.flush()
        self._out.close()


async def run(app: MeasuredApp, stop_file: Path, ready_file: Path) -> None:
    async with app.run_test(size=(160, 48)) as _pilot:
        deadline = time.monotonic() + 120
        while app.updates == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # ready once the first update reached the table
        ready_file.write_text(f"{os.getpid()}\n")
        while not stop_file.exists():
            await asyncio.sleep(0.2)
            app._out.flush()
        app.exit(0)


def main() -> int:
    repo, config_path, out, stop_file = (Path(a) for a in sys.argv[1:5])
    caller = load_config_file(config_path)
    store = Store(repo / ".swarm" / "state.db")
    config = config_of_run(store.replay().settings, caller)  # what `swarmtui watch` uses
    store.close()
    app = MeasuredApp(repo, config, read_only=True, supervisor_alive=None, out=out,
                      windows=RunWindows(Tmux(session_name_for(repo))))
    try:
        asyncio.run(run(app, stop_file, out.with_suffix(".ready")))
    finally:
        app.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
