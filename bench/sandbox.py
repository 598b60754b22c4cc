"""What the agent's sandbox costs: the time from the wrapper's Popen to the agent's first
instruction, and the memory the box adds per agent (bubblewrap's two processes, measured as
their proportional set size), boxed against unboxed, with a real git worktree; and what
``network = "api"`` adds: the start (the box's port handed to the wrapper's proxy), the
processes in the box, and the proxy's memory in the wrapper, idle and per open tunnel.

    .venv/bin/python bench/sandbox.py [N]
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.sandbox.box import Box


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo,
                   check=True, capture_output=True)


def one_commit_repo(root: Path) -> Path:
    """``root/repo``: a git repository on ``main`` with one commit (also bench/sandbox_aider.py)."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    return repo


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("Pss:"))


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.1f} ms"


def rss_kib() -> int:
    text = Path("/proc/self/status").read_text()
    return next(int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("VmRSS:"))


def in_box(proc: subprocess.Popen[bytes]) -> list[str]:
    """The names of the processes below bubblewrap's outer process (its init, and below)."""
    out: list[str] = []
    todo = [str(proc.pid)]
    while todo:
        kids = subprocess.run(["pgrep", "-P", todo.pop()], capture_output=True,
                              text=True).stdout.split()
        out += [Path(f"/proc/{k}/comm").read_text().strip() for k in kids]
        todo += kids
    return out


IDLE_RELAY = """
import _socket, select, sys, threading
s = _socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
threading.Thread(target=lambda: select.select([s], [], []), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""


def relay_kib() -> tuple[int, int]:
    """RSS and PSS of an idle Python relay in the box: what the proxy's design avoids."""
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", IDLE_RELAY],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdin is not None
    proc.stdout.readline()
    text = Path(f"/proc/{proc.pid}/smaps_rollup").read_text()
    proc.stdin.close()
    proc.wait()
    got = {ln.split(":")[0]: int(ln.split()[1]) for ln in text.splitlines()[1:]}
    return got["Rss"], got["Pss"]


def round_trips(c: socket.socket, n: int = 300) -> float:
    """The median time of one small request and its answer on ``c``."""
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.sendall(b"GET / HTTP/1.1\r\nHost: api\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += c.recv(4096)
        xs.append(time.perf_counter() - t0)
    return statistics.median(xs)


def api(repo: Path, env: dict[str, str], n: int) -> None:
    """network = "api" against "full": start, processes in the box, the proxy's memory."""

    class Api(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as an API client's connection is

        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    starts: dict[str, list[float]] = {"full": [], "none": [], "api": []}
    for i in range(n):
        for net in ("full", "none", "api"):
            task = f"{net}{i}"
            wt, adir = P.worktree_dir(repo, task, 1), P.agent_dir(repo, task, 1)
            adir.mkdir(parents=True)
            git(repo, "worktree", "add", "-q", "-b", P.branch_name(task, 1), str(wt))
            box = Box.open(adir, {"sandbox": {
                "mode": "bwrap", "network": net, "repo": str(repo), "task": task,
                "worktree": str(wt), "branch": P.branch_name(task, 1)}})
            t0 = time.perf_counter()
            argv, benv = box.command(["true"], {**env, "ANTHROPIC_BASE_URL": url}, "claude",
                                     str(wt))
            subprocess.run(argv, env=benv, check=True)
            starts[net].append(time.perf_counter() - t0)
            if net == "api" and i == 0:
                argv, benv = box.command(["sleep", "30"], {**env, "ANTHROPIC_BASE_URL": url},
                                         "claude", str(wt))
                proc = subprocess.Popen(argv, env=benv)
                time.sleep(0.5)  # bench only: let the box start
                print(f"processes in an api box around `sleep`: {in_box(proc)}")
                proc.kill()
                proc.wait()
            box.close()
    # The proxy in the wrapper: idle, then with tunnels held open (an agent CLI keeps a few).
    from swarmtui.engine.sandbox.egress import Egress

    before = rss_kib()
    proxies = []
    for _ in range(n):
        e = Egress([("127.0.0.1", server.server_address[1])])
        lst = socket.create_server(("127.0.0.1", 0))
        e.serve(lst)
        proxies.append((e, lst.getsockname()[1]))
    idle = (rss_kib() - before) / n
    before = rss_kib()
    tunnels = []
    for _, port in proxies:
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(f"CONNECT 127.0.0.1:{server.server_address[1]} HTTP/1.1\r\n\r\n".encode())
        c.recv(100)
        tunnels.append(c)
    per_tunnel = (rss_kib() - before) / n
    # What the hop costs a request: round trips on a kept-alive connection, direct and tunnelled.
    direct = socket.create_connection(("127.0.0.1", server.server_address[1]))
    trips = {"direct": round_trips(direct), "tunnel": round_trips(tunnels[0])}
    direct.close()
    for c in tunnels:
        c.close()
    for e, _ in proxies:
        e.close()
    server.shutdown()
    print(f"making the box and running `true` (median of {n}): network full "
          f"{ms(starts['full'])}, none {ms(starts['none'])}, api {ms(starts['api'])}; "
          f"a request's round trip {trips['direct'] * 1e6:.0f} us direct, "
          f"{trips['tunnel'] * 1e6:.0f} us through the proxy's tunnel; the proxy in the wrapper: "
          f"{idle:.0f} KiB RSS idle, {per_tunnel:.0f} KiB per open tunnel")
    rss, pss = relay_kib()
    print(f"an idle Python relay (the alternative, not built): {rss / 1024:.1f} MiB RSS, "
          f"{pss / 1024:.1f} MiB PSS")


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="sbx-bench-"))
    repo = one_commit_repo(root)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home")}
    plain: list[float] = []
    boxed: list[float] = []
    setup: list[float] = []
    mem: list[int] = []
    for i in range(n):
        task = f"t{i}"
        wt, adir = P.worktree_dir(repo, task, 1), P.agent_dir(repo, task, 1)
        adir.mkdir(parents=True)
        git(repo, "worktree", "add", "-q", "-b", P.branch_name(task, 1), str(wt))
        t0 = time.perf_counter()
        subprocess.run(["true"], env=env, cwd=wt, check=True)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        box = Box.open(adir, {"sandbox": {"mode": "bwrap", "repo": str(repo), "task": task,
                                          "worktree": str(wt), "branch": P.branch_name(task, 1)}})
        argv, benv = box.command(["true"], dict(env), "claude", str(wt))
        setup.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(argv, env=benv, check=True)
        boxed.append(time.perf_counter() - t0)
        # Memory: a box around a sleeping agent; bwrap's own processes are the cost.
        argv, benv = box.command(["sleep", "30"], dict(env), "claude", str(wt))
        proc = subprocess.Popen(argv, env=benv)
        time.sleep(0.3)  # bench only: let bwrap finish setting up
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
        mem.append(pss_kib(proc.pid) + sum(pss_kib(int(k)) for k in kids
                                           if Path(f"/proc/{k}/comm").read_text().strip()
                                           == "bwrap"))
        proc.kill()
        proc.wait()
        box.close()
    print(f"{n} attempts: start `true` unboxed {ms(plain)}, boxed {ms(boxed)} "
          f"(+ {ms(setup)} making the box: folders, ref copy, channel); bubblewrap's "
          f"processes per agent: {statistics.median(mem) / 1024:.1f} MiB PSS")
    api(repo, env, n)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
