"""Whether bubblewrap can make a sandbox on this machine: asked once per process (it starts a
process), by the supervisor at start (recorded, so the operator sees an unsandboxed run) and by
``doctor`` (which says what to install)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass

INSTALL = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
           "bubblewrap; Arch: pacman -S bubblewrap)")


@dataclass(frozen=True)
class Probe:
    ok: bool
    path: str = ""
    version: str = ""
    why: str = ""  # when not ok: what failed, and what to do about it


@functools.cache
def probe() -> Probe:
    """``bwrap --ro-bind / / true``: the smallest sandbox there is."""
    if sys.platform != "linux":
        return Probe(False, why=f"agents are sandboxed on Linux only (this is {sys.platform})")
    exe = shutil.which("bwrap")
    if exe is None:
        return Probe(False, why=f"bwrap is not on PATH: {INSTALL}")
    try:
        done = subprocess.run([exe, "--ro-bind", "/", "/", "true"], capture_output=True,
                              text=True, timeout=20, stdin=subprocess.DEVNULL)
        version = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                 timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return Probe(False, exe, why=f"{exe} did not run: {e}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return Probe(False, exe, version, why=(
            f"{exe} cannot make a sandbox here ({last[:200]}); unprivileged user namespaces "
            "may be disabled (sysctl kernel.unprivileged_userns_clone, or an AppArmor "
            "profile for bwrap)"))
    return Probe(True, exe, version)
