"""A light synthetic agent for bench/fleet.py, run by swarmtui's wrapper like any agent CLI.

It follows the agent protocol and nothing else:

* every ``--interval`` seconds (jittered by ``--jitter``) it appends one line
  ``<ISO time with microseconds> - tick N`` to ``$SWARM_PROGRESS_FILE`` (one ``write`` on an
  ``O_APPEND`` descriptor, so the supervisor never sees half a line). The time stamp is taken
  just before the write: event latency is measured from it;
* while the control file says ``busy`` it prints ``--busy-rate`` log lines per second to stdout
  (which the wrapper shows in the pane and tees to output.log); ``idle`` prints nothing;
* ``--prefill-bytes`` are appended straight to ``$SWARM_OUTPUT_LOG`` at the start (logs on disk
  without pushing them through the pane);
* when the control file says ``done`` (or after ``--max-seconds``) it writes ``results.json``
  to a temporary file, renames it into place and exits 0.

Standard library only, and cheap: the bench starts hundreds of these.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime

LOG_STEP = 0.05  # seconds between two batches of log lines while busy
CONTROL_STEP = 0.25  # seconds between two looks at the control file


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds")


def read_control(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip() or "idle"
    except OSError:
        return "idle"


def prefill(path: str, size: int, tag: str) -> None:
    line = (f"[{tag}] prefill: lorem ipsum dolor sit amet, consectetur adipiscing elit " * 2
            ).encode()[:159] + b"\n"
    block = line * (65536 // len(line))
    left = size
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        while left > 0:
            chunk = block[:left]
            os.write(fd, chunk)
            left -= len(chunk)
    finally:
        os.close(fd)


def write_results(path: str, ticks: int, lines: int) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    data = {"status": "done", "summary": f"synthetic agent: {ticks} ticks, {lines} log lines",
            "files_modified": [], "do_not_revert": False}
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between progress lines")
    ap.add_argument("--jitter", type=float, default=0.3, help="share of the interval (+/-)")
    ap.add_argument("--busy-rate", type=float, default=10.0, help="log lines per second, busy")
    ap.add_argument("--control", required=True, help="file holding idle, busy or done")
    ap.add_argument("--prefill-bytes", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=3600.0)
    args = ap.parse_args(argv)
    progress = os.environ["SWARM_PROGRESS_FILE"]
    results = os.environ["SWARM_RESULTS_FILE"]
    aid = os.environ.get("SWARM_AGENT_ID", "agent")
    rnd = random.Random(f"{aid}-{os.getpid()}")
    out = sys.stdout.buffer
    if args.prefill_bytes > 0 and os.environ.get("SWARM_OUTPUT_LOG"):
        prefill(os.environ["SWARM_OUTPUT_LOG"], args.prefill_bytes, aid)
    pfd = os.open(progress, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    start = time.time()
    deadline = start + args.max_seconds
    # The first line comes at a random point of the first interval, so agents started
    # together do not write in step.
    next_tick = start + rnd.uniform(0.05, args.interval)
    next_control = 0.0
    mode = "idle"
    ticks = lines = 0
    busy_since = 0.0
    busy_lines = 0
    while True:
        now = time.time()
        if now >= next_control:
            new = read_control(args.control)
            if new == "busy" and mode != "busy":
                busy_since, busy_lines = now, 0
            mode = new
            next_control = now + CONTROL_STEP
        if mode == "done" or now >= deadline:
            break
        if now >= next_tick:
            ticks += 1
            t = time.time()
            os.write(pfd, f"{stamp(t)} - tick {ticks}\n".encode())
            span = args.interval * rnd.uniform(1 - args.jitter, 1 + args.jitter)
            next_tick = max(next_tick + span, t + 0.01)
        if mode == "busy" and args.busy_rate > 0:
            due = int((now - busy_since) * args.busy_rate) - busy_lines
            if due > 0:
                batch = "".join(f"{stamp(now)} {aid} log line {lines + i}: working on "
                                f"something plausible\n" for i in range(due))
                try:
                    out.write(batch.encode())
                    out.flush()
                except OSError:
                    pass
                busy_lines += due
                lines += due
            wait = LOG_STEP
        else:
            wait = CONTROL_STEP
        wait = min(wait, max(0.0, next_tick - time.time()), max(0.0, next_control - now))
        time.sleep(max(wait, 0.001))
    os.close(pfd)
    write_results(results, ticks, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
