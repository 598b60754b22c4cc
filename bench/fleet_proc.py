"""Reading processes from /proc for bench/fleet.py: CPU time, RSS, peak RSS, PSS, children.

CPU is ``utime + stime`` from ``/proc/<pid>/stat`` (own threads; ``cutime + cstime``, the time
of children already reaped, is kept apart). RSS and its peak (``VmHWM``) come from
``/proc/<pid>/status``; PSS (shared pages divided among the processes sharing them, the fair
share of N identical Python processes) from ``/proc/<pid>/smaps_rollup``.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    pid: int
    cpu: float  # seconds of CPU of this process (all threads)
    child_cpu: float  # seconds of CPU of its reaped children
    rss: int  # bytes
    hwm: int  # peak RSS, bytes
    pss: int | None = None  # bytes (only when asked for)


def read_stat(pid: int) -> tuple[float, float, int] | None:
    """(own cpu s, reaped children cpu s, ppid) of ``pid``, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2:].split()
    # fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime ...
    ppid = int(rest[1])
    ut, st, cut, cst = (int(x) for x in rest[11:15])
    return (ut + st) / CLK_TCK, (cut + cst) / CLK_TCK, ppid


def read_mem(pid: int) -> tuple[int, int] | None:
    """(RSS, peak RSS) in bytes."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = hwm = 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    return rss, hwm


def read_pss(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def sample(pid: int, *, pss: bool = False) -> ProcSample | None:
    st = read_stat(pid)
    mem = read_mem(pid)
    if st is None or mem is None:
        return None
    return ProcSample(pid=pid, cpu=st[0], child_cpu=st[1], rss=mem[0], hwm=mem[1],
                      pss=read_pss(pid) if pss else None)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_of(pid: int) -> list[int]:
    out = []
    for p in all_pids():
        st = read_stat(p)
        if st is not None and st[2] == pid:
            out.append(p)
    return out


def pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (the bench's own temp folder or socket:
    nothing else on the machine names them)."""
    me = os.getpid()
    return [p for p in all_pids() if p != me and any(text in a for a in cmdline(p))]


def kill_pids(pids: list[int], grace: float = 2.0) -> list[int]:
    """TERM, then KILL what is left after ``grace``; returns the pids that needed a KILL."""
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if _alive(p)]
        time.sleep(0.05)
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return left


def _alive(pid: int) -> bool:
    st = read_stat(pid)
    if st is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass
class Group:
    """A set of processes followed over a phase: CPU deltas per pid, and the peak RSS seen."""

    name: str
    start: dict[int, float] = field(default_factory=dict)  # pid -> cpu s at phase start
    last: dict[int, float] = field(default_factory=dict)  # pid -> cpu s last seen
    child_start: dict[int, float] = field(default_factory=dict)
    child_last: dict[int, float] = field(default_factory=dict)
    hwm: dict[int, int] = field(default_factory=dict)  # pid -> peak RSS seen (bytes)
    rss: dict[int, int] = field(default_factory=dict)  # pid -> last RSS (bytes)
    pss: dict[int, int] = field(default_factory=dict)  # pid -> last PSS (bytes)

    def observe(self, pids: list[int], *, with_pss: bool = False) -> None:
        for pid in pids:
            s = sample(pid, pss=with_pss)
            if s is None:
                continue
            self.start.setdefault(pid, s.cpu)
            self.child_start.setdefault(pid, s.child_cpu)
            self.last[pid] = s.cpu
            self.child_last[pid] = s.child_cpu
            self.hwm[pid] = max(self.hwm.get(pid, 0), s.hwm)
            self.rss[pid] = s.rss
            if s.pss is not None:
                self.pss[pid] = s.pss

    def cpu(self) -> float:
        return sum(self.last[p] - self.start[p] for p in self.last)

    def child_cpu(self) -> float:
        return sum(self.child_last[p] - self.child_start[p] for p in self.child_last)
