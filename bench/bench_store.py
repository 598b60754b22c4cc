"""Store and engine figures: event append cost by sync level, replay speed, planning at scale.

Prints figures; asserts nothing. Ratios are measured within one run because this machine is
shared and noisy. Run: python bench/bench_store.py
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from swarmtui import snapshot
from swarmtui.engine.run import scheduler
from swarmtui.model import Event, RunState, TaskSpec, apply
from swarmtui.store import Store


def append_rate(path: Path, n: int, sync: str) -> float:
    store = Store(path)
    store._db.execute(f"PRAGMA synchronous = {sync}")
    t0 = time.perf_counter()
    for i in range(n):
        store.append_event("progress", "t1", 1, {"status": f"step {i}", "n": i + 1}, run=1)
    dt = time.perf_counter() - t0
    store.close()
    return n / dt


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        full = append_rate(Path(d) / "full.db", 2000, "FULL")
        normal = append_rate(Path(d) / "normal.db", 2000, "NORMAL")
        print(f"append events, synchronous=FULL:   {full:9.0f} events/s")
        print(f"append events, synchronous=NORMAL: {normal:9.0f} events/s")
        print(f"  cost of durability (NORMAL/FULL): {normal / full:5.2f}x")

        db = Path(d) / "replay.db"
        store = Store(db)
        store.append_event("run_started", data={"run": 1, "repo": "/r", "base": "b",
                                                "target": "main"}, run=1)
        n_tasks = 100
        for i in range(n_tasks):
            spec = TaskSpec(id=f"t{i}", title="t", prompt="p", role="worker", agent="a")
            store.append_event("task_added", spec.id, data={"spec": spec.to_dict()}, run=1)
        with store._db:
            rows = [(1, time.time(), "progress", f"t{i % n_tasks}", None,
                     f'{{"status": "s", "n": {i}, "offset": {i * 40}}}', 2)
                    for i in range(200_000)]
            store._db.execute("BEGIN")
            store._db.executemany("INSERT INTO events(run, time, kind, task, attempt, data, v)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            store._db.execute("COMMIT")
        t0 = time.perf_counter()
        st = store.replay()
        dt = time.perf_counter() - t0
        print(f"replay {st.last_seq} events ({n_tasks} tasks): {dt:6.2f} s "
              f"({st.last_seq / dt:,.0f} events/s)")
        # What status, watch and a restart do: the newest snapshot, then the events after it.
        t0 = time.perf_counter()
        store.save_snapshot(1, st.last_seq, snapshot.dump(st))
        saved = time.perf_counter() - t0
        with store._db:
            tail = [(1, time.time(), "progress", f"t{i % n_tasks}", None,
                     f'{{"status": "s", "n": {i}, "offset": {i * 40}}}', 2)
                    for i in range(200_000, 202_000)]
            store._db.execute("BEGIN")
            store._db.executemany("INSERT INTO events(run, time, kind, task, attempt, data, v)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?)", tail)
            store._db.execute("COMMIT")
        t0 = time.perf_counter()
        st2 = store.replay()
        dt2 = time.perf_counter() - t0
        print(f"open the same run from its snapshot and 2000 newer events: {dt2 * 1000:6.1f} ms "
              f"(the snapshot: {saved * 1000:.1f} ms to write; {st2.last_seq} events in all)")
        store.close()

    run = RunState()
    seq = 0

    def ev(kind: str, task: str | None = None, attempt: int | None = None, **data: object) -> None:
        nonlocal seq
        seq += 1
        apply(run, Event.make(seq=seq, time=0.0, kind=kind, task=task, attempt=attempt,
                              data=data, run=1))

    ev("run_started", run=1, repo="/r", base="b", target="main")
    for i in range(1000):
        spec = TaskSpec(id=f"t{i}", title="t", prompt="p", role="worker", agent="a",
                        files=(f"src/m{i % 50}/**",))
        ev("task_added", spec.id, spec=spec.to_dict())
    for i in range(100):
        ev("attempt_spawned", f"t{i}", 1, window=f"t{i}-1", worktree=f"/w/t{i}-1",
           branch=f"swarm/t{i}-1", agent="a")
    policy = scheduler.SlotPolicy(max_agents=120, reserve=2, reserve_priority=10,
                                  pools={"worker": 120})
    t0 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        plan = scheduler.plan(run, policy, now=1.0)
    dt = (time.perf_counter() - t0) / reps
    print(f"plan() with 100 running and 900 waiting tasks: {dt * 1000:7.1f} ms per tick "
          f"({len(plan.start)} start, {len(plan.block)} blocked)")
    print(f"sqlite {sqlite3.sqlite_version}")


if __name__ == "__main__":
    main()
