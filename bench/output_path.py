"""What one printed line costs on the supervision side: one real wrapper in a real tmux pane.

A synthetic agent prints ``--lines`` lines of stream-json-like output (one ``write`` per line,
evenly spaced at ``--rate`` lines per second, like an agent CLI streaming its events) through
swarmtui's wrapper, which runs in a window of a private tmux server started with the checkout's
``swarmtui/data/tmux.conf``. The bench reads the CPU time (``/proc/PID/task/*/schedstat``) of
the wrapper and of the tmux server from the moment the agent starts printing until the last line
is in ``output.log``, and prints both per 10,000 lines. The window is either watched (a client
attached through a pty, the agent's window selected) or not (no client, as in a headless run
or while the operator looks at another window).

``--src DIR`` runs the wrapper and tmux.conf of another checkout (``/work/main``: before and
after in one run). ``--parts`` times the wrapper's steps in this process on the same lines
(redaction, the adapter's look at each line, the log write, the pane write) with cProfile-free
``time.process_time`` loops, so the breakdown does not carry a profiler's overhead.

    .venv/bin/python bench/output_path.py --src /work/main --src . --lines 5000 --rate 500
    .venv/bin/python bench/output_path.py --parts
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENT = r'''
import os, sys, time
n, rate, go = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.02)
start = time.monotonic()
for i in range(n):
    due = start + i / rate
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    os.write(1, (LINE % i).encode())
while not os.path.exists(go + ".stop"):
    time.sleep(0.02)
'''
LINE = ('{"type":"assistant","message":{"id":"msg_01","role":"assistant","content":[{"type":'
        '"text","text":"line %d: reading src/module.py and running the tests again"}]},'
        '"session_id":"0b7e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5b"}\n')


def cpu_s(pid: int) -> float:
    """CPU seconds of a process's threads, to the nanosecond (``schedstat``: ``stat``'s clock
    ticks are too coarse for a few thousand lines)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True,
                          check=True).stdout


def attach(sock: str, cols: int, rows: int) -> int:
    """A client on the session through a pty (someone watching); returns its pid."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp("tmux", ["tmux", "-L", sock, "attach", "-t", "b"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.set_blocking(fd, False)

    def drain() -> None:  # the client's terminal must be read, or the client stalls
        while True:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    if not os.read(fd, 1 << 16):
                        return
                except OSError:
                    return
    import threading
    threading.Thread(target=drain, daemon=True).start()
    return pid


def one_run(src: Path, lines: int, rate: float, watched: bool, adapter: str,
            size: tuple[int, int], agents: int) -> dict[str, Any]:
    """``agents`` wrappers, each printing ``lines`` lines at ``rate`` a second; when watched,
    a client looks at the first agent's window."""
    from swarmtui.engine.wrapper.launch import LaunchSpec
    from swarmtui.protocol import OUTPUT_LOG, PROMPT_FILE

    tmp = Path(tempfile.mkdtemp(prefix="outpath-"))
    sock = f"outpath-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    client = 0
    try:
        (tmp / "agent.py").write_text(f"LINE = {LINE!r}\n" + AGENT)
        (tmp / "hb").touch()
        go = tmp / "go"
        cols, rows = size
        tmux(sock, "-f", str(src / "swarmtui/data/tmux.conf"), "new-session", "-d", "-s", "b",
             "-x", str(cols), "-y", str(rows), "sleep 100000")
        dirs = []
        for n in range(agents):
            agent_dir, work = tmp / f"a{n}", tmp / f"w{n}"
            agent_dir.mkdir()
            work.mkdir()
            (agent_dir / PROMPT_FILE).write_text("go\n")
            LaunchSpec(argv=[sys.executable, str(tmp / "agent.py"), str(lines), str(rate),
                             str(go)], cwd=str(work), env={}, prompt_via="file",
                       prompt_file=str(agent_dir / PROMPT_FILE), heartbeat_file=str(tmp / "hb"),
                       orphan_timeout=600, kill_grace=2, log_max_bytes=1 << 30,
                       adapter=adapter).write(agent_dir)
            tmux(sock, "new-window", "-d", "-t", f"b:{n + 1}", f"env PYTHONPATH={src} "
                 f"{sys.executable} -m swarmtui wrap {agent_dir}")
            dirs.append(agent_dir)
        if watched:
            client = attach(sock, cols, rows)
            time.sleep(0.5)
            tmux(sock, "select-window", "-t", "b:1")
        server = int(tmux(sock, "display-message", "-p", "#{pid}").strip())
        wraps = [int(p) for p in tmux(sock, "list-panes", "-s", "-t", "b", "-F",
                                      "#{window_index} #{pane_pid}").split()[3::2]]
        deadline = time.monotonic() + 60
        while (not all((d / "agent.pgid").exists() for d in dirs)
               and time.monotonic() < deadline):
            time.sleep(0.05)
        time.sleep(1.0)  # the wrappers' own start is not the cost of a line
        w0, t0, c0 = sum(map(cpu_s, wraps)), cpu_s(server), time.monotonic()
        go.touch()
        want = lines * len(LINE % 0) * 0.99
        deadline = time.monotonic() + lines / rate * 3 + 30
        while time.monotonic() < deadline and not all(
                (d / OUTPUT_LOG).exists() and (d / OUTPUT_LOG).stat().st_size >= want
                for d in dirs):
            time.sleep(0.05)
        time.sleep(0.5)  # the last paint
        w1, t1, c1 = sum(map(cpu_s, wraps)), cpu_s(server), time.monotonic()
        per = 10_000 / (lines * agents)
        got = sum((d / OUTPUT_LOG).read_bytes().count(b"\n") for d in dirs
                  if (d / OUTPUT_LOG).exists())
        screen = tmux(sock, "capture-pane", "-p", "-t", "b:1").rstrip().splitlines()
        (go.parent / "go.stop").touch()
        return {"wrapper_s": (w1 - w0) * per, "tmux_s": (t1 - t0) * per, "wall_s": c1 - c0,
                "log_lines": got, "screen_tail": screen[-1:] or [""]}
    finally:
        if client:
            os.kill(client, 9)
            os.waitpid(client, 0)
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def parts(lines: int) -> None:
    """Where the wrapper's time per line goes, step by step, one line per read as in a fleet."""
    from swarmtui.boundedjson import STREAM_MAX_DEPTH, too_deep
    from swarmtui.engine.adapters import adapter_for
    from swarmtui.engine.wrapper.launch import CappedLog
    from swarmtui.secrets import Redactor

    data = [(LINE % i).encode() for i in range(lines)]
    red = Redactor(["sk-not-a-real-secret-value-123456"])
    out: dict[str, float] = {}

    def timed(name: str, fn: object) -> None:
        t = time.process_time()
        for d in data:
            fn(d)  # type: ignore[operator]
        out[name] = (time.process_time() - t) * 10_000 / lines

    timed("redact", red.bytes)
    for name in ("generic", "claude"):
        ad = adapter_for(name, {})

        def look(d: bytes, ad: object = ad) -> None:
            text = d[:-1].decode("utf-8", "replace")
            if not too_deep(text, STREAM_MAX_DEPTH):
                ad.observe(text)  # type: ignore[attr-defined]
        timed(f"observe ({name})", look)
    with tempfile.TemporaryDirectory() as d:
        log = CappedLog(Path(d) / "o.log", 1 << 30)
        timed("log write", log.write)
        log.close()
    null = os.open(os.devnull, os.O_WRONLY)
    timed("pane write (os.write)", lambda d: os.write(null, d))
    master, slave = pty.openpty()

    def drain() -> None:  # the terminal's side (tmux) reads what the pane is given
        while True:
            try:
                if not os.read(master, 1 << 16):
                    return
            except OSError:
                return
    import threading
    threading.Thread(target=drain, daemon=True).start()
    timed("pane write (a pty, drained)", lambda d: os.write(slave, d))
    rfd, wfd = os.pipe()
    timed("pipe read (write + os.read)", lambda d: (os.write(wfd, d), os.read(rfd, 65536)))
    for name, s in out.items():
        print(f"{name:30} {s:7.3f} CPU s per 10k lines")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", action="append", type=Path, help="checkout(s) to measure")
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=500.0, help="lines per second")
    ap.add_argument("--adapter", default="generic")
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--agents", type=int, default=1, help="wrappers at once")
    ap.add_argument("--parts", action="store_true")
    args = ap.parse_args()
    if args.parts:
        parts(args.lines)
        return 0
    cols, rows = (int(x) for x in args.size.split("x"))
    for _ in range(args.repeat):
        for src in args.src or [ROOT]:
            for watched in (False, True):
                r = one_run(src.resolve(), args.lines, args.rate, watched, args.adapter,
                            (cols, rows), args.agents)
                print(json.dumps({"src": str(src), "watched": watched, "agents": args.agents,
                                  **{k: (round(v, 3) if isinstance(v, float) else v)
                                     for k, v in r.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
