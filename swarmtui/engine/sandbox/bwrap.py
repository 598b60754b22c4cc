"""The bubblewrap command line for one attempt, from a list of mounts (pure).

Mounts are applied parents first (by the depth of their destination), so a writable worktree
can sit inside a read-only repository view and a read-only ``.git`` file inside the writable
worktree. The root is bubblewrap's own empty tmpfs, remounted read-only at the end: a path not
mounted does not exist, and nothing can be created beside the mounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["ro", "rw", "ro-try", "symlink", "dir"]
SOCKET_DIR = "/run/swarmtui"  # where the agent's channel socket is inside the box
SOCKET = f"{SOCKET_DIR}/agent.sock"
NET_SOCKET = f"{SOCKET_DIR}/net.sock"  # network = "api": where the box hands over its port


@dataclass(frozen=True)
class Mount:
    kind: Kind
    dest: str
    src: str = ""  # the host path (for a symlink: its target)


def depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def argv(mounts: Iterable[Mount], *, chdir: str, network: str, root: bool,
         bwrap: str = "bwrap") -> list[str]:
    """``bwrap ... --`` (the agent's argv follows). ``root``: drop every capability (root in
    the box could otherwise mount the host's disks)."""
    out = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try"]
    if network != "full":  # "none", and "api" (whose one way out is the wrapper's proxy)
        out.append("--unshare-net")
    if root:
        out += ["--cap-drop", "ALL"]
    out += ["--proc", "/proc", "--dev", "/dev"]
    seen: set[str] = set()
    for m in sorted(mounts, key=lambda m: depth(m.dest)):
        if m.dest in seen:
            continue
        seen.add(m.dest)
        if m.kind == "symlink":
            out += ["--symlink", m.src, m.dest]
        elif m.kind == "dir":
            out += ["--dir", m.dest]
        else:
            flag = {"ro": "--ro-bind", "rw": "--bind", "ro-try": "--ro-bind-try"}[m.kind]
            out += [flag, m.src or m.dest, m.dest]
    out += ["--remount-ro", "/", "--chdir", chdir, "--"]
    return out
