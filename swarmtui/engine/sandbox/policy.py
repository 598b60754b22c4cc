"""What the supervisor asks of an attempt's box (``launch.json``'s ``extra["sandbox"]``), from
the agent's ``[agents.X.sandbox]`` and whether bubblewrap works here."""

from __future__ import annotations

import threading
from typing import Any

from swarmtui.config import Config, SandboxConfig
from swarmtui.engine.sandbox.layout import SandboxError
from swarmtui.engine.sandbox.probe import Probe, probe
from swarmtui.model import payloads as p

LOCAL = ("local", "")
# The agent CLIs seen to run a whole task in the box here (tests/test_sandbox_e2e.py and
# tests/test_live_e2e.py with the real CLI; tests/test_sandbox_clis_e2e.py for the others,
# tests/test_sandbox_aider_e2e.py for Aider).
# Under "auto" any other stays outside, said so at start, until it is checked: a CLI whose
# state or helpers live elsewhere fails in the box.
VERIFIED = frozenset({"aider", "claude", "codex", "gemini", "opencode", "qwen"})
# CLIs whose own sandbox cannot start inside ours: Codex 0.171's is bubblewrap too, and in the
# box (no capability, no user namespace to map) each shell command it wraps fails with
# "bwrap: setting up uid map: Operation not permitted". There it runs as if
# ``permissions.sandbox = true`` (its own bypassed): our box is what holds.
NO_INNER_BOX = frozenset({"codex"})


# What each SSH host said of its bubblewrap when its runner connected (``runners/ssh.py``
# asks once per connection, over its ssh master): an attempt there is boxed by the host's
# wrapper when it works there. Unknown until then.
_HOSTS: dict[str, Probe] = {}
_HOSTS_LOCK = threading.Lock()


def note_host(name: str, found: Probe) -> None:
    with _HOSTS_LOCK:
        _HOSTS[name] = found


def forget_host(name: str) -> None:
    with _HOSTS_LOCK:
        _HOSTS.pop(name, None)


def host_probe(name: str) -> Probe:
    """Whether bubblewrap works on SSH host ``name``, as far as the supervisor knows."""
    with _HOSTS_LOCK:
        found = _HOSTS.get(name)
    return found or Probe(False, why=f"host {name} has not said whether bubblewrap works there")


def inner_box_off(adapter: str, box: dict[str, Any]) -> bool:
    """Whether the attempt's CLI must run with its own sandbox bypassed (``box``: what
    ``launch_extra`` asked for)."""
    return adapter in NO_INNER_BOX and box.get("mode") == "bwrap"


def _auto_off(adapter: str, where: str) -> str | None:
    if adapter in VERIFIED:
        return None
    return (f"{where}.mode = \"auto\" leaves the {adapter} adapter's CLI outside the box (not "
            "yet checked to run in it); mode = \"bwrap\" boxes it anyway")


def run_check(config: Config) -> p.SandboxChecked:
    """At a run's start: which agents will run unsandboxed here, and why."""
    found = probe()
    off = sorted(n for n, a in config.agents.items()
                 if a.sandbox.mode == "off" or (a.sandbox.mode == "auto" and (
                     not found.ok or a.adapter not in VERIFIED)))
    why = found.why if not found.ok else ""
    if not why and off:
        why = "[agents." + "/".join(off) + ".sandbox] mode = \"off\""
    return p.SandboxChecked(on=found.ok, tool=found.version, why=why, off=off)


def launch_extra(cfg: SandboxConfig, *, runner: str, repo: str, task: str, worktree: str,
                 branch: str, where: str, adapter: str = "claude") -> dict[str, Any]:
    """``{"mode": "bwrap", ...}`` or ``{"mode": "off", "why": ...}``; SandboxError when the
    config requires a box this attempt cannot have (``where`` names the config key)."""
    if cfg.mode == "off":
        return {"mode": "off", "why": f"{where}.mode = \"off\""}
    if cfg.mode == "auto" and (why := _auto_off(adapter, where)) is not None:
        return {"mode": "off", "why": why}
    # On an SSH host the host's wrapper makes the box, with the paths there (the runner
    # rewrites every path of the launch spec to the host's).
    found = probe() if runner in LOCAL else host_probe(runner)
    if not found.ok and runner not in LOCAL:
        why = f"attempts on host {runner} are not sandboxed: {found.why}"
        if cfg.mode == "bwrap":
            raise SandboxError(f"{where}.mode = \"bwrap\" but {why}")
        return {"mode": "off", "why": why}
    if not found.ok:
        if cfg.mode == "bwrap":
            raise SandboxError(f"{where}.mode = \"bwrap\" but {found.why}")
        return {"mode": "off", "why": found.why}
    return {"mode": "bwrap", "network": cfg.network, "api_hosts": list(cfg.api_hosts),
            "read": list(cfg.read),
            "write": list(cfg.write), "repo": repo, "task": task, "worktree": worktree,
            "branch": branch}
