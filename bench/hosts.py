"""Spawn time and event latency of the SSH runner, per host, with 2 and 3 hosts.

    .venv/bin/python bench/hosts.py [--hosts 2 3] [--agents 2] [--lines 30]

Each host is a real sshd on a loopback address (tests/sshd.py; needs openssh-server). Per
host, ``--agents`` attempts are prepared (push of the start commit, worktree there and here)
and started (files sent, tmux window, wrapper) through one SshRunner each; every agent writes a
progress line stamped with ``time.time()`` every 0.2 s. Figures:

- prepare: ``Runner.prepare`` (git push over the master, ``git worktree add`` on the host);
- start: ``Runner.start`` (the attempt's folder to the host, the window opened);
- first line: from the start call to the agent's first line in the local agent folder;
- latency: from the line's stamp (written on the host) to its arrival in the local file,
  seen by polling the local files every 5 ms (the supervisor's inotify watcher adds its 15-40
  ms debounce on top). The hosts share this machine's clock, so no skew enters.

Nothing is stubbed; the machine is shared by the hosts, so the figures are an upper bound of
what separate machines on a LAN would give (plus their network round trip).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swarmtui import protocol as P
from swarmtui.config.hosts import HostConfig
from swarmtui.engine.runners.base import PrepareJob
from swarmtui.engine.runners.ssh import SshRunner
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.wrapper.launch import LaunchSpec
from tests.sshd import SshdFleet, sshd_available

AGENT = """
import os, sys, time
n = int(sys.argv[1])
with open(os.environ["SWARM_PROGRESS_FILE"], "a", buffering=1) as f:
    for i in range(n):
        f.write(f"{time.time():.6f} - tick {i}\\n")
        time.sleep(0.2)
"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def ms(xs: list[float]) -> str:
    if not xs:
        return "-"
    return f"median {statistics.median(xs) * 1000:6.1f} ms  p95 {pct(xs, 0.95) * 1000:6.1f} ms"


def make_repo(base: Path) -> Path:
    repo = base / "repo"
    repo.mkdir()
    run = ["git", "-c", "user.name=bench", "-c", "user.email=bench@swarmtui.invalid"]
    subprocess.run([*run, "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("bench\n")
    subprocess.run([*run, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*run, "commit", "-q", "-m", "init"], cwd=repo, check=True)
    (repo / P.SWARM_DIR / P.AGENTS_DIR).mkdir(parents=True, mode=0o700)
    (repo / P.SWARM_DIR / P.HEARTBEAT_FILE).touch()
    (repo / ".git" / "info" / "exclude").write_text("/.swarm/\n")
    return repo


def one_round(n_hosts: int, agents: int, lines: int) -> dict[str, dict[str, list[float]]]:
    host_path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
    out: dict[str, dict[str, list[float]]] = {}
    with SshdFleet() as fleet, tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp))
        hosts = fleet.add(n_hosts, env={"PATH": host_path})
        runners = []
        for h in hosts:
            cfg = HostConfig(name=h.name, ssh=h.alias, ssh_config=str(h.ssh_config), slots=8,
                             python=sys.executable, connect_timeout=5, lost_after=10)
            runners.append(SshRunner(repo, cfg, Git(repo), control_dir=fleet.control_dir,
                                     orphan_timeout=300, kill_grace=1))
        try:
            for r in runners:
                r.link.wait_seen(20)
            started: dict[str, tuple[str, float]] = {}
            done = threading.Event()

            def poll() -> None:
                # Started before the first attempt, so no line waits for the poller.
                seen: dict[str, int] = {}
                first: set[str] = set()
                while not done.is_set():
                    now_wall, now = time.time(), time.monotonic()
                    for aid, (host, t1) in list(started.items()):
                        path = repo / P.SWARM_DIR / P.AGENTS_DIR / aid / P.PROGRESS_FILE
                        got = path.read_text().splitlines()
                        for line in got[seen.get(aid, 0):]:
                            stamp = float(line.split(" - ")[0])
                            out[host]["latency"].append(now_wall - stamp)
                        if got and aid not in first:
                            first.add(aid)
                            out[host]["first"].append(now - t1)
                        seen[aid] = len(got)
                    if len(started) == n_hosts * agents and all(
                            seen.get(a, 0) >= lines for a in started):
                        return
                    time.sleep(0.005)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            for r in runners:
                figures = out.setdefault(r.name, {"prepare": [], "start": [], "first": [],
                                                  "latency": []})
                for i in range(agents):
                    task = f"{r.name.lower()}{i}"
                    aid = P.agent_id(task, 1)
                    r.track(aid, r.name)
                    t0 = time.monotonic()
                    r.prepare(PrepareJob(task=task, attempt=1, branch=P.branch_name(task, 1),
                                         start="main"))
                    figures["prepare"].append(time.monotonic() - t0)
                    adir = r.agent_dir(task, 1)
                    adir.mkdir(mode=0o700)
                    (adir / P.PROMPT_FILE).write_text("bench\n")
                    (adir / P.PROGRESS_FILE).touch()
                    wt = r.worktree(task, 1)
                    env = {"PATH": os.environ["PATH"], P.ENV_AGENT_ID: aid,
                           P.ENV_PROGRESS_FILE: str(adir / P.PROGRESS_FILE)}
                    LaunchSpec(argv=[sys.executable, "-c", AGENT, str(lines)], cwd=str(wt),
                               env=env, prompt_via="file", prompt_file=str(adir / "prompt.md"),
                               heartbeat_file=str(repo / P.SWARM_DIR / P.HEARTBEAT_FILE),
                               orphan_timeout=300, kill_grace=1,
                               log_max_bytes=1 << 20).write(adir)
                    t1 = time.monotonic()
                    r.start(aid, adir, wt)
                    figures["start"].append(time.monotonic() - t1)
                    started[aid] = (r.name, t1)
            poller.join(lines * 0.2 + 60)
            done.set()
        finally:
            for r in runners:
                r.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--agents", type=int, default=2, help="attempts per host")
    ap.add_argument("--lines", type=int, default=30, help="progress lines per agent")
    args = ap.parse_args()
    if not sshd_available():
        print("needs /usr/sbin/sshd (apt-get install -y openssh-server)")
        return 2
    print(f"# {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}  ({os.cpu_count()} cores)")
    for n in args.hosts:
        figures = one_round(n, args.agents, args.lines)
        print(f"\n{n} hosts, {args.agents} agents each, {args.lines} lines per agent")
        for host, f in figures.items():
            print(f"  {host}: prepare  {ms(f['prepare'])}")
            print(f"  {host}: start    {ms(f['start'])}")
            print(f"  {host}: 1st line {ms(f['first'])}")
            print(f"  {host}: latency  {ms(f['latency'])}  ({len(f['latency'])} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
