"""``swarmtui hosts`` and the hosts part of ``doctor``: the machines agents run on.

While a supervisor runs, its own view is shown (``.swarm/hosts.json``, written by the hosts
runner every two seconds: state, the reason a host cannot be reached, slots in use, latency);
otherwise, or with ``--probe``, each host is asked directly over SSH (reachable, round trip,
swarmtui, Python, tmux and git versions, free disk in its work directory, and whether tmux
run as swarmtui runs it there prints a formatted list that reads back intact).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from swarmtui import __version__
from swarmtui import protocol as P
from swarmtui.cli.common import Invocation, run_lock
from swarmtui.config import Config
from swarmtui.config.hosts import LOCAL_HOST, HostConfig
from swarmtui.textsafe import term_safe

FRESH = 10.0  # seconds: a supervisor's view older than this is not shown as current
MIN_DISK = 1 << 30


def supervisor_view(repo: Path) -> dict[str, Any] | None:
    """The running supervisor's view of its hosts, when it is recent."""
    from swarmtui.engine.runners.hosts import HOSTS_FILE

    path = repo / P.SWARM_DIR / HOSTS_FILE
    try:
        if path.is_symlink() or path.stat().st_size > 1 << 20:
            return None
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or time.time() - float(data.get("time", 0)) > FRESH:
        return None
    if not run_lock(repo).holder_alive():
        return None
    return data


def probe(repo: Path, host: HostConfig) -> dict[str, Any]:
    """Ask one host directly: reachable, latency, versions and disk (blocks)."""
    from swarmtui.engine.runners.hosts import control_dir_for

    control = control_dir_for(repo) / "probe"
    try:
        return _probe(repo, host, control)
    finally:
        for log in control.glob("*.log"):  # the probe's own masters' logs
            log.unlink(missing_ok=True)
        for leftover in (control, control.parent):  # unless a supervisor's sockets are there
            try:
                leftover.rmdir()
            except OSError:
                pass


def _probe(repo: Path, host: HostConfig, control: Path) -> dict[str, Any]:
    from swarmtui.engine.runners.ssh import REMOTE_MODULE
    from swarmtui.engine.runtime.ssh import SshHost
    from swarmtui.engine.runtime.tmux import session_name_for

    out: dict[str, Any] = {"name": host.name, "kind": "ssh", "destination": host.ssh,
                           "slots": host.slots, "roles": list(host.roles), "used": None,
                           "state": "unreachable", "reason": "", "latency_ms": None,
                           "versions": {}, "disk_free": None, "has_clone": False}
    try:
        transport = SshHost(host.ssh, config_file=host.ssh_config or None,
                            control_dir=control,
                            connect_timeout=host.connect_timeout,
                            extra_options=host.ssh_options)
    except ValueError as e:
        out["reason"] = str(e)
        return out
    with transport:
        ok, sentence, latency = transport.reachable()
        out["latency_ms"] = round((latency or 0) * 1000, 1) if ok else None
        if not ok:
            out["reason"] = sentence
            return out
        req = json.dumps({"workdir": host.workdir, "key": session_name_for(repo)})
        code, text, err = transport.run([host.python, "-P", "-m", REMOTE_MODULE, "info", req],
                                        timeout=30)
        if code != 0:
            out["state"] = "broken"
            out["reason"] = (f"reachable, but swarmtui does not run there with "
                             f"{host.python!r}: {err.strip()[-200:] or f'exit {code}'}")
            return out
        try:
            info = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out["state"] = "broken"
            out["reason"] = f"reachable, but its answer was not understood: {text[-200:]!r}"
            return out
        out["tmux_output"] = _remote_tmux_check(transport, host)
    out["state"] = "up"
    out["versions"] = {k: str(info.get(k, "")) for k in ("swarmtui", "python", "tmux", "git")}
    out["disk_free"] = info.get("disk_free")
    out["has_clone"] = bool(info.get("clone"))
    out["root"] = info.get("root")
    return out


def _remote_tmux_check(transport: Any, host: HostConfig) -> str:
    """"" when tmux on the host, run as the runner runs it, reads a formatted list back
    intact; else what went wrong."""
    from swarmtui.engine.runners.ssh import REMOTE_MODULE

    code, text, err = transport.run([host.python, "-P", "-m", REMOTE_MODULE, "tmuxcheck", "{}"],
                                    timeout=60)
    try:
        answer = json.loads(text.strip().splitlines()[-1]) if code == 0 else None
    except (ValueError, IndexError):
        answer = None
    if not isinstance(answer, dict):
        return f"the check did not run: {(err.strip() or text.strip())[-200:] or f'exit {code}'}"
    return str(answer.get("problem") or "")


def doctor_tmux(check: Any) -> None:
    """One doctor line: tmux run here as swarmtui runs it reads a formatted list back."""
    from swarmtui.engine.runtime.tmux import output_check

    problem = output_check()
    check("fail" if problem else "ok", "tmux output",
          problem or "a formatted list reads back intact (tabs, UTF-8), whatever the locale")


def _local(config: Config) -> dict[str, Any]:
    entry = next((h for h in config.hosts if h.name == LOCAL_HOST), None)
    return {"name": LOCAL_HOST, "kind": "local", "destination": "", "state": "up",
            "reason": "", "slots": entry.slots if entry else config.slots.max_agents,
            "roles": list(entry.roles) if entry else [], "used": None, "latency_ms": None,
            "versions": {}, "has_clone": True}


def cmd_hosts(ctx: Invocation) -> int:
    repo = ctx.repo
    config = ctx.config(repo)
    view = None if ctx.args.probe else supervisor_view(repo)
    if view is not None:
        hosts = list(view.get("hosts") or [])
        source = "supervisor"
    else:
        hosts = [_local(config)] + [probe(repo, h) for h in config.hosts
                                    if h.name != LOCAL_HOST]
        source = "probe"
    if ctx.args.json:
        print(json.dumps({"source": source, "hosts": hosts}, sort_keys=True))
    else:
        if len(hosts) == 1:
            print("no [[hosts]] in the config: every agent runs on this machine "
                  "(README: Adding a host)")
        print(f"{'HOST':<14} {'STATE':<12} {'SLOTS':<7} {'LATENCY':<9} WHERE / WHY")
        for h in hosts:
            used = h.get("used")
            slots = f"{used}/{h['slots']}" if used is not None else f"{h['slots']}"
            lat = f"{h['latency_ms']:.0f} ms" if h.get("latency_ms") is not None else "-"
            where = h.get("reason") or h.get("destination") or "this machine"
            versions = h.get("versions") or {}
            if versions and not h.get("reason"):
                where += " (" + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ")"
            print(term_safe(f"{h['name']:<14} {h['state']:<12} {slots:<7} {lat:<9} {where}"))
        print(f"({'from the running supervisor' if source == 'supervisor' else 'probed now'})")
    return 0 if all(h["state"] == "up" for h in hosts) else 1


def doctor_hosts(repo: Path | None, config: Config, check: Any) -> None:
    """One doctor line per SSH host: reachable, tools there, the same swarmtui, disk."""
    for h in config.hosts:
        if h.name == LOCAL_HOST:
            continue
        got = probe(repo or Path.cwd(), h)
        what = f"host {h.name}"
        if got["state"] != "up":
            check("fail", what, got["reason"])
            continue
        v = got["versions"]
        problems = []
        if "missing" in v.get("tmux", "") or "failed" in v.get("tmux", ""):
            problems.append(f"tmux: {v['tmux']}")
        if "missing" in v.get("git", "") or "failed" in v.get("git", ""):
            problems.append(f"git: {v['git']}")
        if got.get("tmux_output"):
            problems.append(f"tmux output: {got['tmux_output']}")
        if v.get("swarmtui") != __version__:
            problems.append(f"swarmtui {v.get('swarmtui')} there, {__version__} here")
        free = got.get("disk_free")
        if isinstance(free, int) and free < MIN_DISK:
            problems.append(f"only {free >> 20} MiB free in its work directory")
        disk = f"{free / (1 << 30):.1f} GiB free" if isinstance(free, int) else "disk unknown"
        detail = (f"{h.ssh}: {got['latency_ms']:.0f} ms, {v.get('tmux')}, {v.get('git')}, "
                  f"python {v.get('python')}, swarmtui {v.get('swarmtui')}, {disk}")
        check("fail" if problems else "ok", what,
              detail + ("; " + "; ".join(problems) if problems else ""))
