"""One real fleet run for bench/fleet.py: N synthetic agents under the real supervisor.

``FleetRun`` builds a temporary repository, config and task file, starts
``python bench/fleet_sup.py ... up TASKS --headless`` (the supervisor, with its tick lengths
written out) with shim ``tmux`` and ``git`` first on its PATH (they log each call, then exec the
real binary), waits for N ``attempt_started`` events, starts the watch TUI, and runs the
phases: idle, busy, then the per-agent polling baseline. Then the agents are told to finish, and
the run ends by itself. Cleanup always runs: ``swarmtui down`` if the supervisor is still up,
``kill-server`` on the run's own socket, and any process still naming the run's folder or
socket is ended.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fleet_proc as fp
from fleet_stats import Window, count_kind

BENCH = Path(__file__).resolve().parent
PY = sys.executable


@dataclass
class Params:
    idle_s: float = 30.0
    busy_s: float = 30.0
    baseline_s: float = 20.0
    settle_s: float = 5.0
    interval: float = 2.0  # seconds between one agent's progress lines
    jitter: float = 0.3
    busy_lines: float = 2000.0  # log lines per second across the fleet while busy
    sample_s: float = 1.0
    prefill_bytes: int = 0  # per agent, written to output.log at its start
    watch: bool = True
    baseline: bool = True
    baseline_period: float = 0.5
    status_runs: int = 5
    keep: bool = False
    profile: str = ""  # "" or a folder: py-spy records the supervisor in the idle/busy phases


PYCACHE = "/tmp/swt-bench-pycache"


def clean_env() -> dict[str, str]:
    """The bench's environment for swarmtui processes: no API keys (nothing here talks to a
    model), no TMUX (we may run inside tmux), and bytecode cached as a user's Python does
    (PYTHONDONTWRITEBYTECODE dropped), in a folder of its own (PYTHONPYCACHEPREFIX), so
    nothing is written into the source tree."""
    drop = ("ANTHROPIC_", "CLAUDE_", "OPENAI_", "TMUX", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


def warm_bytecode() -> None:
    """Compile what the runs import once, before anything is timed."""
    code = ("import swarmtui.cli, swarmtui.cli.inspect, swarmtui.cli.session, "
            "swarmtui.engine.run.supervisor, swarmtui.engine.wrap, swarmtui.tui.app")
    subprocess.run([PY, "-c", code], env=clean_env(), capture_output=True, check=False,
                   cwd="/")


SHIM = """#!/bin/sh
echo "$PPID {tool} $1 $2 $3 $4 $5 $6" >> {log}
exec {real} "$@"
"""


def write_shims(folder: Path, log: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("tmux", "git"):
        real = shutil.which(tool)
        if real is None:
            raise SystemExit(f"{tool} not found on PATH")
        p = folder / tool
        p.write_text(SHIM.format(tool=tool, log=log, real=real))
        p.chmod(0o755)


def toml_list(xs: list[str]) -> str:
    return "[" + ", ".join(json.dumps(x) for x in xs) + "]"


@dataclass
class Phase:
    window: Window
    groups: dict[str, fp.Group]
    calls_at: tuple[int, int]  # shim log lines at start and end
    extra: dict[str, Any] = field(default_factory=dict)


class FleetRun:
    def __init__(self, n: int, prm: Params) -> None:
        self.n = n
        self.prm = prm
        self.root = Path(tempfile.mkdtemp(prefix=f"swt-bench-{n}-"))
        self.repo = self.root / "repo"
        self.socket = str(self.root / "tmux.sock")  # two benches at one N share no server
        self.control = self.root / "control"
        self.calls_log = self.root / "calls.log"
        self.stats_file = self.root / "sup-stats.json"
        self.watch_out = self.root / "watch.jsonl"
        self.watch_stop = self.root / "watch.stop"
        self.db = self.repo / ".swarm" / "state.db"
        self.env = clean_env()
        self.env["SWARMTUI_TMUX_SOCKET"] = self.socket
        self.sup: subprocess.Popen[bytes] | None = None
        self.watch: subprocess.Popen[bytes] | None = None
        self.baseline: subprocess.Popen[bytes] | None = None
        self.tmux_pid: int | None = None
        self.phases: dict[str, Phase] = {}
        self.facts: dict[str, Any] = {"n": n}
        self._sampling: dict[str, fp.Group] | None = None
        self._peak = fp.Group("peak")  # whole run: peak RSS per process
        self._peak_roles: dict[int, str] = {}
        self._stop_sampler = threading.Event()
        self._lock = threading.Lock()
        self._wrappers: list[int] = []
        self._agents: list[int] = []
        self._follower: list[int] = []
        self.profiles: list[subprocess.Popen[bytes]] = []

    # -- set-up ----------------------------------------------------------------------------------

    def build(self) -> None:
        self.repo.mkdir()
        g = ["git", "-c", "user.name=bench", "-c", "user.email=bench@swarmtui.invalid"]
        subprocess.run([*g, "init", "-q", "-b", "main"], cwd=self.repo, check=True)
        (self.repo / "README.md").write_text("# bench fleet\n")
        (self.repo / "src").mkdir()
        for i in range(50):
            (self.repo / "src" / f"m{i}.py").write_text(f"X = {i}\n")
        subprocess.run([*g, "add", "-A"], cwd=self.repo, check=True)
        subprocess.run([*g, "commit", "-q", "-m", "init"], cwd=self.repo, check=True)
        self.control.write_text("idle\n")
        n, prm = self.n, self.prm
        rate = prm.busy_lines / n
        agent = [PY, "-S", str(BENCH / "fleet_agent.py"), "--interval", str(prm.interval),
                 "--jitter", str(prm.jitter), "--busy-rate", f"{rate:.4f}", "--control",
                 str(self.control), "--prefill-bytes", str(prm.prefill_bytes)]
        # The defaults a user runs with, except: slots and the worker pool hold the fleet, no
        # memory gate, fast retries, no model calls for the context count.
        (self.root / "config.toml").write_text(f"""
[slots]
max_agents = {n}
reserve = 0
min_free_memory = "0"

[slots.pools]
worker = {n}

[retry]
backoff = "1s"
backoff_max = "5s"

[context]
count_with_api = false

[run]
default_agent = "synth"
default_role = "worker"

[agents.synth]
command = {toml_list(agent)}
prompt_via = "stdin"
adapter = "generic"
""")
        lines = []
        for i in range(n):
            lines += ["[[task]]", f'id = "t{i:04d}"', f'title = "synthetic task {i}"',
                      f'prompt = "Synthetic bench task {i}: tick and log."', ""]
        (self.root / "tasks.toml").write_text("\n".join(lines))
        write_shims(self.root / "shim", self.calls_log)

    def _kill_stale_server(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True,
                       env=self.env)
        Path(self.socket).unlink(missing_ok=True)

    # -- sampling --------------------------------------------------------------------------------

    def _roles(self) -> dict[str, list[int]]:
        roles: dict[str, list[int]] = {"bench": [os.getpid()]}
        if self.sup is not None:
            roles["supervisor"] = [self.sup.pid]
        if self.tmux_pid:
            roles["tmux"] = [self.tmux_pid]
        roles["wrappers"] = list(self._wrappers)
        roles["agents"] = list(self._agents)
        roles["follower"] = list(self._follower)
        if self.watch is not None:
            roles["watch"] = [self.watch.pid]
        if self.baseline is not None:
            roles["baseline"] = [self.baseline.pid]
        return roles

    def refresh_pids(self) -> None:
        agents_dir = self.repo / ".swarm" / "agents"
        wr: list[int] = []
        ag: list[int] = []
        for d in agents_dir.iterdir() if agents_dir.is_dir() else []:
            for name, into in (("wrap.pid", wr), ("agent.pgid", ag)):
                try:
                    into.append(int((d / name).read_text().strip()))
                except (OSError, ValueError):
                    pass
        self._wrappers, self._agents = wr, ag
        if self.tmux_pid is None:
            out = subprocess.run(["tmux", "-S", self.socket, "display-message", "-p",
                                  "#{pid}"], capture_output=True, text=True, env=self.env)
            if out.returncode == 0 and out.stdout.strip().isdigit():
                self.tmux_pid = int(out.stdout.strip())
        if self.tmux_pid and not self._follower:
            self._follower = [p for p in fp.children_of(self.tmux_pid)
                              if "--follow" in fp.cmdline(p)]

    def observe(self, *, with_pss: bool = False) -> None:
        roles = self._roles()
        with self._lock:
            groups = self._sampling
            for role, pids in roles.items():
                if groups is not None:
                    groups.setdefault(role, fp.Group(role)).observe(pids, with_pss=with_pss)
                for p in pids:
                    self._peak_roles[p] = role
                self._peak.observe(pids)

    def _sampler(self) -> None:
        last_refresh = 0.0
        while not self._stop_sampler.wait(self.prm.sample_s):
            if time.monotonic() - last_refresh > 5:
                self.refresh_pids()
                last_refresh = time.monotonic()
            self.observe()

    def calls(self) -> list[str]:
        try:
            return self.calls_log.read_text().splitlines()
        except OSError:
            return []

    def phase(self, name: str, seconds: float) -> Phase:
        self.refresh_pids()
        with self._lock:
            self._sampling = {}
        self.observe()
        c0 = len(self.calls())
        t0 = time.time()
        self._profile_start(name, seconds)
        time.sleep(seconds)
        t1 = time.time()
        self.observe(with_pss=True)
        c1 = len(self.calls())
        with self._lock:
            groups, self._sampling = self._sampling or {}, None
        for p in self.profiles:
            try:
                p.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                p.kill()
        ph = Phase(Window(name, t0, t1), groups, (c0, c1))
        self.phases[name] = ph
        return ph

    def _profile_start(self, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
        """py-spy on the supervisor (and the watch app) for the idle and busy phases; returns
        the supervisor's recorder (the phase waits for it to write its file)."""
        if not self.prm.profile or name not in ("idle", "busy") or self.sup is None:
            return None
        spy = next((str(c) for c in (Path(PY).parent / "py-spy",
                                     BENCH.parent / ".venv" / "bin" / "py-spy")
                    if c.exists()), shutil.which("py-spy") or "py-spy")
        first: subprocess.Popen[bytes] | None = None
        for who, proc in (("", self.sup), ("-watch", self.watch)):
            if proc is None:
                continue
            out = Path(self.prm.profile) / f"profile-n{self.n}-{name}{who}.txt"
            p = subprocess.Popen([spy, "record", "--pid", str(proc.pid), "--duration",
                                  str(int(seconds)), "--rate", "100", "--format", "raw",
                                  "--threads", "--nonblocking", "-o", str(out)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.profiles.append(p)
            first = first or p
        return first

    # -- the run ---------------------------------------------------------------------------------

    def wait_for(self, what: str, pred: Any, timeout: float,
                 also: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            for proc, name in ((self.sup, "sup"), (also, "watch")):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}) while waiting for "
                                       f"{what}; see {self.root}/{name}.log")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f}s")
            time.sleep(0.1)

    def start(self) -> None:
        self._kill_stale_server()
        env = dict(self.env)
        env["PATH"] = f"{self.root / 'shim'}:{env.get('PATH', '')}"
        argv = [PY, str(BENCH / "fleet_sup.py"), str(self.stats_file), "--", "up",
                str(self.root / "tasks.toml"), "--headless", "--repo", str(self.repo),
                "--config", str(self.root / "config.toml")]
        self.facts["supervisor_argv"] = argv
        log = open(self.root / "sup.log", "wb")  # noqa: SIM115 - the child holds it
        self.t_launch = time.time()
        self.sup = subprocess.Popen(argv, cwd=self.repo, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        log.close()
        threading.Thread(target=self._sampler, name="sampler", daemon=True).start()

    def wait_spawned(self) -> None:
        n = self.n
        self.wait_for("the store", self.db.exists, 60)
        self.wait_for(f"{n} attempt_started events",
                      lambda: count_kind(self.db, "attempt_started")[0] >= n, 120 + 1.0 * n)
        self.facts["t_all_started"] = count_kind(self.db, "attempt_started")[1]
        self.facts["t_run_started"] = count_kind(self.db, "run_started")[1]
        self.refresh_pids()

    def start_watch(self) -> None:
        if not self.prm.watch:
            return
        ready = self.watch_out.with_suffix(".ready")
        log = open(self.root / "watch.log", "wb")  # noqa: SIM115
        self.watch = subprocess.Popen([PY, str(BENCH / "fleet_watch.py"), str(self.repo),
                                       str(self.root / "config.toml"), str(self.watch_out),
                                       str(self.watch_stop)], env=self.env, stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        log.close()
        self.wait_for("the watch TUI", ready.exists, 150, also=self.watch)

    def wait_prefill(self) -> None:
        if not self.prm.prefill_bytes:
            return
        want = self.prm.prefill_bytes * self.n
        agents = self.repo / ".swarm" / "agents"

        def total() -> int:
            return sum((d / "output.log").stat().st_size for d in agents.iterdir()
                       if (d / "output.log").exists())

        self.wait_for("the prefilled logs", lambda: total() >= want, 600)
        self.facts["logs_on_disk_bytes"] = total()

    def status_json(self) -> list[float]:
        out = []
        for _ in range(self.prm.status_runs):
            t0 = time.perf_counter()
            # cwd: `python -m` puts the working directory first on sys.path
            subprocess.run([PY, "-m", "swarmtui", "status", "--json", "--repo", str(self.repo)],
                           env=self.env, capture_output=True, check=False, cwd=self.repo)
            out.append(time.perf_counter() - t0)
        return out

    def run_baseline(self) -> Phase | None:
        if not self.prm.baseline:
            return None
        from swarmtui.engine.runtime.tmux import session_name_for

        out = self.root / "baseline.json"
        self.baseline = subprocess.Popen(
            [PY, str(BENCH / "fleet_baseline.py"), self.socket,
             session_name_for(self.repo), str(self.repo / ".swarm" / "worktrees"), str(out),
             str(self.prm.baseline_period)], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1.0)
        ph = self.phase("baseline", self.prm.baseline_s)
        self.baseline.terminate()
        try:
            self.baseline.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.baseline.kill()
        try:
            data = json.loads(out.read_text())
            ph.extra = {"passes": data["passes"], "commands": data["commands"],
                        "pass_seconds": data["pass_seconds"]}
        except (OSError, ValueError, KeyError):
            pass
        return ph

    def finish(self) -> None:
        self.facts["t_done"] = time.time()
        self.control.write_text("done\n")
        t0 = time.monotonic()
        assert self.sup is not None
        try:
            self.sup.wait(timeout=120 + 0.5 * self.n)
            self.facts["finish_s"] = round(time.monotonic() - t0, 2)
            self.facts["supervisor_exit"] = self.sup.returncode
        except subprocess.TimeoutExpired:
            self.facts["finish_s"] = None
            self.facts["supervisor_exit"] = "did not finish"

    def run(self) -> None:
        prm = self.prm
        self.build()
        self.start()
        self.wait_spawned()
        self.start_watch()
        self.wait_prefill()
        time.sleep(prm.settle_s)
        self.phase("idle", prm.idle_s)
        self.control.write_text("busy\n")
        time.sleep(1.0)
        self.phase("busy", prm.busy_s)
        self.control.write_text("idle\n")
        time.sleep(2.0)
        self.facts["status_json_s"] = self.status_json()
        self.run_baseline()
        self.stop_watch()
        with self._lock:
            self.facts["peak"] = self._peak_summary()
        self.finish()

    def stop_watch(self) -> None:
        if self.watch is None:
            return
        self.watch_stop.write_text("stop\n")
        try:
            self.watch.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.watch.kill()
            self.watch.wait()

    def _peak_summary(self) -> dict[str, Any]:
        by_role: dict[str, list[int]] = {}
        for pid, role in self._peak_roles.items():
            if pid in self._peak.hwm:
                by_role.setdefault(role, []).append(self._peak.hwm[pid])
        return {r: {"max": max(v), "sum": sum(v), "count": len(v)} for r, v in by_role.items()}

    # -- cleanup ---------------------------------------------------------------------------------

    def cleanup(self) -> dict[str, Any]:
        """Leave nothing running. Returns what had to be done."""
        self._stop_sampler.set()
        done: dict[str, Any] = {}
        for p in self.profiles:
            if p.poll() is None:
                p.terminate()
        self.stop_watch()
        if self.baseline is not None and self.baseline.poll() is None:
            self.baseline.kill()
        if self.sup is not None and self.sup.poll() is None:
            r = subprocess.run([PY, "-m", "swarmtui", "down", "--repo", str(self.repo)],
                               env=self.env, capture_output=True, text=True, timeout=180,
                               cwd=self.repo)
            done["down"] = r.returncode
            try:
                self.sup.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.sup.kill()
                self.sup.wait()
                done["supervisor_killed"] = True
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True,
                       env=self.env)
        left = sorted(set(fp.pids_mentioning(str(self.root)) + fp.pids_mentioning(self.socket)))
        if left:
            done["leftover_processes"] = len(left)
            fp.kill_pids(left)
        Path(self.socket).unlink(missing_ok=True)
        return done

    def remove(self) -> None:
        if not self.prm.keep:
            shutil.rmtree(self.root, ignore_errors=True)
