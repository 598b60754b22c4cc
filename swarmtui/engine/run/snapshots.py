"""Writes the run's snapshot (swarmtui/snapshot.py) now and then, so readers and a restarted
supervisor fold only the newest events. Pickling happens on the loop thread (the state must not
change under it: about 25 ms for 500 tasks); the write, with its fsync, on a worker."""

from __future__ import annotations

from swarmtui import snapshot
from swarmtui.engine.ports import Ports


class Snapshotter:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._seq = ports.store.snapshot_seq(ports.state.run) if ports.state.run else 0
        self._at = ports.now()

    def step(self, now: float) -> None:
        new = self.ports.state.last_seq - self._seq
        if new >= snapshot.EVERY_EVENTS or (new > 0 and now - self._at >= snapshot.EVERY_S):
            self.take(now, wait=False)

    def take(self, now: float, *, wait: bool = True) -> None:
        """Snapshot the state as it is; ``wait`` for the write (at shutdown)."""
        st = self.ports.state
        if not st.run or st.last_seq <= self._seq:
            return
        run, seq, blob = st.run, st.last_seq, snapshot.dump(st)
        self._seq, self._at = seq, now
        store = self.ports.store
        job = self.ports.workers.store.submit(store.save_snapshot, run, seq, blob)
        if wait:
            job.result()
