"""The runner of a run with ``[[hosts]]``: this machine and every SSH host behind one Runner.

Each attempt is placed on one runner (``place``, recorded in ``attempt_spawned.runner``) and
every later call about it goes to that runner, by window name; after a restart the log says
where each open attempt runs (``track``). ``snapshot`` merges every host's panes; a host that
cannot be reached puts its windows in ``unreachable`` (liveness waits for them, and fails them
as lost once the host counts as lost) instead of reporting them gone.

It also writes ``.swarm/hosts.json`` (at most every two seconds, from the tmux worker) for
``swarmtui hosts``, ``status`` and the hosts panel: each host's state, slots in use, latency.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.config import Config
from swarmtui.config.hosts import LOCAL_HOST
from swarmtui.engine.runners.base import (
    HostUnknown,
    PrepareJob,
    RunnerError,
    ServerGone,
)
from swarmtui.engine.runners.bootstrap import Copied
from swarmtui.engine.runners.local import LocalRunner
from swarmtui.engine.runners.placement import Candidate, place
from swarmtui.engine.runners.ssh import SshRunner
from swarmtui.engine.runtime.git import Git
from swarmtui.engine.runtime.tmux import PaneInfo, Tmux
from swarmtui.engine.sandbox.policy import host_probe

log = logging.getLogger(__name__)

HOSTS_FILE = "hosts.json"
WRITE_EVERY = 2.0


@dataclass
class HostStatus:
    name: str
    kind: str  # local | ssh
    destination: str
    state: str  # up | connecting | unreachable
    reason: str
    slots: int
    used: int
    latency_ms: float | None
    has_clone: bool
    roles: list[str]
    versions: dict[str, str]


def control_dir_for(repo: Path) -> Path:
    """A short folder for the ssh control sockets (a Unix socket path has 108 bytes)."""
    import hashlib

    digest = hashlib.sha1(str(Path(repo).resolve()).encode()).hexdigest()[:10]
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    return base / f"swarmtui-ssh-{os.getuid()}-{digest}"


class HostsRunner:
    name = "hosts"

    def __init__(self, repo: Path, config: Config, local: LocalRunner,
                 remotes: Sequence[SshRunner]) -> None:
        self.repo = Path(repo)
        self.local = local
        self.remotes = {r.name: r for r in remotes}
        entry = next((h for h in config.hosts if h.name == LOCAL_HOST), None)
        self.local_slots = entry.slots if entry is not None else config.slots.max_agents
        self.local_roles = tuple(entry.roles) if entry is not None else ()
        self.placed: dict[str, str] = {}
        self._unreachable: dict[str, str | None] = {}
        self._last_panes: dict[str, dict[str, PaneInfo]] = {}
        self._written = 0.0

    @classmethod
    def from_config(cls, repo: Path, config: Config, tmux: Tmux, git: Git) -> HostsRunner:
        control = control_dir_for(repo)
        remotes = [SshRunner(repo, h, git, control_dir=control,
                             orphan_timeout=config.heartbeat.orphan_timeout,
                             kill_grace=config.run.kill_grace)
                   for h in config.hosts if h.name != LOCAL_HOST]
        return cls(repo, config, LocalRunner(repo, tmux, git), remotes)

    def _of(self, window: str) -> LocalRunner | SshRunner:
        where = self.placed.get(window, LOCAL_HOST)
        return self.remotes.get(where) or self.local

    # -- paths are the same everywhere (remote runners mirror into them) -------------------

    def agent_dir(self, task: str, attempt: int) -> Path:
        return self.local.agent_dir(task, attempt)

    def worktree(self, task: str, attempt: int) -> Path:
        return self.local.worktree(task, attempt)

    def prepare(self, job: PrepareJob) -> str:
        return self._of(P.agent_id(job.task, job.attempt)).prepare(job)

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        return self._of(worktree.name).copy_untracked(worktree, patterns)

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        return self._of(window).start(window, agent_dir, worktree)

    def start_many(self, windows: Sequence[tuple[str, Path, Path]]
                   ) -> list[int | RunnerError | None]:
        """This machine's windows in one batch (``LocalRunner.start_many``), each remote one
        on its own."""
        mine = [w for w in windows if self._of(w[0]) is self.local]
        got = dict(zip((w[0] for w in mine), self.local.start_many(mine), strict=True))
        for w, adir, wt in windows:
            if w not in got:
                try:
                    got[w] = self._of(w).start(w, adir, wt)
                except RunnerError as e:
                    got[w] = e
                except Exception as e:  # noqa: BLE001 - that window's failure only
                    got[w] = RunnerError(str(e))
        return [got[w[0]] for w in windows]

    def snapshot(self) -> dict[str, PaneInfo]:
        panes: dict[str, PaneInfo] = {}
        try:
            local = self.local.snapshot()
        except ServerGone:
            local = {}  # its windows are gone; every host's own are not
        panes.update(local)
        self._last_panes[LOCAL_HOST] = local
        lost: dict[str, str | None] = {}
        for r in self.remotes.values():
            try:
                mine = r.snapshot()
            except (ServerGone, HostUnknown):
                mine = {}
                lost.update(r.unreachable())
            self._last_panes[r.name] = mine
            panes.update(mine)
        self._unreachable = {w: why for w, why in lost.items()
                             if self.placed.get(w) in self.remotes}
        if time.monotonic() - self._written > WRITE_EVERY:
            self._written = time.monotonic()
            self.write_status()
        return panes

    def end(self, window: str, *, pgid: int | None, wrapper_pid: int | None,
            hard: bool) -> None:
        self._of(window).end(window, pgid=pgid, wrapper_pid=wrapper_pid, hard=hard)

    def steer(self, task: str, attempt: int, line: bytes) -> bool:
        return self._of(P.agent_id(task, attempt)).steer(task, attempt, line)

    def group_alive(self, pgid: int, window: str | None = None) -> bool:
        if window is None:
            return self.local.group_alive(pgid)
        return self._of(window).group_alive(pgid, window)

    def ensure_session(self) -> None:
        self.local.ensure_session()

    def close_session(self) -> None:
        for r in self.remotes.values():
            r.close_session()
        self.local.close_session()

    def set_status(self, line: str) -> None:
        self.local.set_status(line)

    def attach_argv(self, window: str | None = None) -> list[str]:
        if window is None:
            return self.local.attach_argv()
        return self._of(window).attach_argv(window)

    def place(self, role: str, busy: Mapping[str, int]) -> str | None:
        hosts = [Candidate(LOCAL_HOST, self.local_slots, self.local_roles)]
        for r in self.remotes.values():
            hosts.append(Candidate(r.name, r.cfg.slots, tuple(r.cfg.roles),
                                   reachable=r.reachable(), has_clone=bool(r.root)))
        # The log says "local" for this machine's attempts (LocalRunner.name).
        return place(hosts, role, {(LOCAL_HOST if k == self.local.name else k): v
                                   for k, v in busy.items()})

    def track(self, window: str, runner: str) -> None:
        self.placed[window] = runner
        remote = self.remotes.get(runner)
        if remote is not None:
            remote.track(window, runner)

    def unreachable(self) -> dict[str, str | None]:
        return dict(self._unreachable)

    def settle(self) -> None:
        for r in self.remotes.values():  # their links connect at once; the waits overlap
            r.settle()

    def close(self) -> None:
        for r in self.remotes.values():
            r.close()
            try:
                r.transport.master_log.unlink(missing_ok=True)
                r.transport.control_dir.rmdir()  # empty once every master has ended
            except OSError:
                pass

    # -- the operator's view ---------------------------------------------------------------

    def status(self) -> list[HostStatus]:
        out = [HostStatus(LOCAL_HOST, "local", "", "up", "", self.local_slots,
                          sum(1 for w in self._last_panes.get(LOCAL_HOST, {})
                              if self.placed.get(w, LOCAL_HOST) == LOCAL_HOST
                              and w in self.placed),
                          None, True, list(self.local_roles), {})]
        for r in self.remotes.values():
            link = r.link
            if r.reachable():
                state, reason = "up", ""
            else:
                try:
                    r.snapshot()
                    state, reason = "up", ""
                except ServerGone as e:
                    state, reason = "unreachable", str(e)
                except HostUnknown as e:
                    state, reason = "connecting", str(e)
            used = sum(1 for w in self._last_panes.get(r.name, {}) if self.placed.get(w)
                       == r.name)
            versions: dict[str, str] = {k: str(r.info[k]) for k in
                                        ("swarmtui", "python", "tmux", "git") if k in r.info}
            if r.root:  # whether its attempts run boxed (bubblewrap there), as it said
                box = host_probe(r.name)
                versions["sandbox"] = (box.version or "on") if box.ok else "none"
            out.append(HostStatus(r.name, "ssh", r.cfg.ssh, state, reason, r.cfg.slots, used,
                                  round(link.latency * 1000, 1) if link.latency is not None
                                  else None, bool(r.root), list(r.cfg.roles), versions))
        return out

    def write_status(self) -> None:
        data: dict[str, Any] = {"time": time.time(), "pid": os.getpid(),
                                "hosts": [asdict(s) for s in self.status()]}
        path = self.repo / P.SWARM_DIR / HOSTS_FILE
        tmp = path.with_name(f".{HOSTS_FILE}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
            os.replace(tmp, path)
        except OSError as e:
            log.warning("%s not written: %s", path, e)


def make_runner(repo: Path, config: Config, tmux: Tmux, git: Git) -> LocalRunner | HostsRunner:
    """The runner a run's config asks for: the local one unless ``[[hosts]]`` names others."""
    if any(h.name != LOCAL_HOST for h in config.hosts):
        return HostsRunner.from_config(repo, config, tmux, git)
    return LocalRunner(repo, tmux, git)
