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


@functools.cache
def api_probe() -> Probe:
    """Whether a ``network = "api"`` box works here: a box with a network of its own whose
    first program hands its port to a proxy outside (what every such attempt does first).
    Nothing beyond bubblewrap and this Python is needed; ``doctor`` asks."""
    import tempfile
    import time
    from pathlib import Path

    from swarmtui.engine.sandbox import netport
    from swarmtui.engine.sandbox.egress import Egress

    found = probe()
    if not found.ok:
        return found
    proxy = Egress([])
    with tempfile.TemporaryDirectory(prefix="swarmtui-probe-") as tmp:
        handoff = Path(tmp) / "net.sock"
        try:
            proxy.take(handoff)
            t0 = time.monotonic()
            done = subprocess.run(
                [found.path, "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net",
                 sys.executable, "-I", "-S", netport.__file__, str(handoff), "--", "true"],
                capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
            ms = (time.monotonic() - t0) * 1000
        except (OSError, subprocess.TimeoutExpired) as e:
            return Probe(False, found.path, found.version, why=f"the proxy's box did not run: {e}")
        finally:
            proxy.close()
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return Probe(False, found.path, found.version, why=(
            f"a box with a network of its own cannot be made or reach the proxy here "
            f"({last[:200]})"))
    return Probe(True, found.path, found.version, why=f"{ms:.0f} ms to start one")
