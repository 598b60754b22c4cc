"""Read-only commands: status, events, ledger, validate, doctor."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.cli.common import Invocation, existing_run_state, out, run_lock, tmux_for
from swarmtui.errors import InputError, SwarmError
from swarmtui.gitview import target_tip


def __getattr__(name: str) -> Any:
    """The status view's pieces, where callers found them before they moved to the engine
    (``engine/run/statusview.py``); loaded on first use, so building the parser stays cheap."""
    if name in ("accounts_obj", "agents_obj", "forecast_obj"):
        from swarmtui.engine.run import statusview

        return getattr(statusview, name)
    raise AttributeError(name)


def status_obj(repo: Path, config: Any, store: Any, state: Any = None) -> dict[str, Any]:
    """The status object folded from the log: the engine's view of the run's state with this
    reader's parts (``statusfile.finish``), the same two steps as an answer from the
    supervisor's status file."""
    from swarmtui.engine.run.statusview import view
    from swarmtui.statusfile import finish

    state = store.replay() if state is None else state
    live = run_lock(repo).holder_alive()
    now = time.time()
    obj, anchors = view(state, config, now)
    return finish(obj, anchors, live=live, repo=str(repo), tip=target_tip(repo, state.target),
                  now=now)


def cmd_status(ctx: Invocation) -> int:
    """From the log. (The plain forms of the command were offered to the supervisor's status
    file first, in ``cli/quick.py``; asking it again here could only wait twice.)"""
    from swarmtui.statustext import status_text

    repo, config, store, state = existing_run_state(ctx)
    obj = status_obj(repo, config, store, state)
    if ctx.args.json:
        print(json.dumps(obj, sort_keys=True))
    else:
        print(status_text(obj, str(state.status)))
    return 0


def cmd_events(ctx: Invocation) -> int:
    from swarmtui.render import format_event

    repo = ctx.repo
    store = ctx.store(repo)
    since = ctx.args.since
    while True:
        batch = store.events(since, limit=1000)
        for ev in batch:
            line = json.dumps(ev.to_json_obj(), sort_keys=True) if ctx.args.json \
                else format_event(ev)
            print(line, flush=True)
            since = ev.seq
        if len(batch) == 1000:
            continue  # more are waiting: a long log is printed whole, not cut at a page
        if not ctx.args.follow:
            return 0
        if not batch:
            time.sleep(0.2)  # a reader polling another process's appends


def cmd_ledger(ctx: Invocation) -> int:
    from swarmtui.engine.integrate.ledger import entries_from_events
    from swarmtui.textsafe import term_safe

    repo = ctx.repo
    store = ctx.store(repo)
    entries = entries_from_events(store.events(0, kind="task_merged"))
    if ctx.args.json:
        for e in entries:
            print(json.dumps(e.to_json_obj(), sort_keys=True))
        return 0
    if not entries:
        print("the ledger is empty: nothing has been merged yet")
    for e in entries:
        flag = "do-not-revert" if e.do_not_revert else "merged"
        print(term_safe(f"{e.commit[:10]}  {e.task:<20} {flag:<13} {e.summary.strip()[:70]}"))
        if e.files:
            print(term_safe(f"{'':12}files: {', '.join(e.files[:10])}"))
    return 0


def missing_binaries(config: Any, agents: set[str]) -> list[str]:
    """One problem line per agent (of ``agents``) whose command is not on PATH."""
    problems = []
    for name in sorted(agents):
        agent = config.agents.get(name)
        if agent is None:
            continue
        exe = agent.command[0]
        if "/" in exe:
            ok = Path(exe).is_file()
        else:
            ok = shutil.which(exe) is not None
        if not ok:
            problems.append(f"agent {name}: command {exe!r} not found"
                            + ("" if "/" in exe else " on PATH")
                            + f" (set [agents.{name}] command in the config, or install it)")
    return problems


def unattended_problems(config: Any, agents: set[str]) -> list[str]:
    """One problem line per Claude Code agent (of ``agents``) that cannot run unattended."""
    import os

    from swarmtui.engine.adapters import claude_launch

    problems: list[str] = []
    for name in sorted(agents):
        agent = config.agents.get(name)
        if agent is not None and agent.adapter not in ("claude", "generic"):
            from swarmtui.engine.adapters.launch import unattended_problems as other

            problems += other(agent.adapter, list(agent.command), where=f"agents.{name}")
        if agent is None or agent.adapter != "claude":
            continue
        pc = agent.permissions
        perms = claude_launch.Permissions(mode=pc.mode, allow=tuple(pc.allow),
                                          deny=tuple(pc.deny), sandbox=pc.sandbox)
        problems += claude_launch.unattended_problems(
            perms, root=os.geteuid() == 0, where=f"agents.{name}.permissions")
    return problems


def agent_problems(config: Any, agents: set[str]) -> list[str]:
    return missing_binaries(config, agents) + unattended_problems(config, agents)


def cmd_validate(ctx: Invocation) -> int:
    from swarmtui.cli.session import load_tasks

    repo = ctx.repo
    config = ctx.config(repo)
    tasks = load_tasks(repo, config, ctx.args.tasks)
    from swarmtui.engine.accounts.fallback import agents_run
    from swarmtui.tasks.programs import verify_problems

    problems = agent_problems(config, agents_run(config, tasks))
    problems += verify_problems(tasks, gate=config.merge.verify)
    if problems:
        raise InputError("\n".join(f"{ctx.args.tasks}: {p}" for p in problems))
    obj = {"ok": True, "tasks": [t.id for t in tasks],
           "config": str(config.source) if config.source else None}
    out(ctx.args, obj, f"{ctx.args.tasks}: {len(tasks)} tasks OK (config: "
        f"{config.source or 'built-in defaults'})")
    return 0


def _version(s: str) -> tuple[int, int]:
    m = re.search(r"(\d+)\.(\d+)", s)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cmd_doctor(ctx: Invocation) -> int:
    checks: list[tuple[str, str, str]] = []  # (level, what, detail)

    def check(level: str, what: str, detail: str) -> None:
        checks.append((level, what, detail))

    check("ok" if sys.version_info >= (3, 11) else "fail", "python", sys.version.split()[0])
    for tool, minimum in (("tmux", (3, 2)), ("git", (2, 38))):
        path = shutil.which(tool)
        if not path:
            check("fail", tool, "not found on PATH")
            continue
        text = subprocess.run([tool, "-V" if tool == "tmux" else "--version"],
                              capture_output=True, text=True).stdout.strip()
        check("ok" if _version(text) >= minimum else "fail", tool,
              f"{text} (need >= {'.'.join(map(str, minimum))})")
        if tool == "tmux":
            from swarmtui.cli.hosts_cmd import doctor_tmux

            doctor_tmux(check)
    repo = _doctor_repo(ctx, check)
    config = None
    try:
        config = ctx.config(repo)
        check("ok", "config", str(config.source or "built-in defaults"))
    except SwarmError as e:
        check("fail", "config", str(e))
    if config is not None:
        _doctor_config(config, check)
        from swarmtui.tasks.programs import doctor_verify

        doctor_verify(ctx, config, check)
        _doctor_accounts(config, check)
        _doctor_sandbox(config, check)
        if config.hosts:
            from swarmtui.cli.hosts_cmd import doctor_hosts

            doctor_hosts(repo, config, check)
    if repo is not None:
        _doctor_store(ctx, repo, check)
    if config is not None and repo is not None:
        tmux = tmux_for(repo, config)
        check("ok", "tmux server", f"socket {tmux.socket}: "
              f"{'running' if tmux.server_alive() else 'not running'}")
    worst = "fail" if any(c[0] == "fail" for c in checks) else "ok"
    if ctx.args.json:
        print(json.dumps({"ok": worst == "ok", "checks": [
            {"level": lv, "what": w, "detail": d} for lv, w, d in checks]}, sort_keys=True))
    else:
        for lv, w, d in checks:
            print(f"{lv:<5} {w:<16} {d}")
    return 0 if worst == "ok" else 1


def _doctor_sandbox(config: Any, check: Any) -> None:
    """bubblewrap, for the agents whose sandbox is not off."""
    from swarmtui.engine.sandbox.probe import probe

    wanted = {n: a.sandbox.mode for n, a in config.agents.items() if a.sandbox.mode != "off"}
    if not wanted:
        check("ok", "sandbox", "off for every agent (agents run as you, unsandboxed)")
        return
    found = probe()
    if found.ok:
        check("ok", "sandbox", f"{found.version} ({found.path}) for {', '.join(sorted(wanted))}")
    else:
        level = "fail" if "bwrap" in wanted.values() else "warn"
        check(level, "sandbox", f"agents will run unsandboxed: {found.why}")
    api = sorted(n for n in wanted if config.agents[n].sandbox.network == "api")
    if api and found.ok:
        from swarmtui.engine.sandbox.probe import api_probe

        net = api_probe()
        check("ok" if net.ok else "fail", "sandbox network", (
            f"network = \"api\" for {', '.join(api)}: the API proxy works ({net.why})"
            if net.ok else f"network = \"api\" for {', '.join(api)} fails: {net.why}"))


def _doctor_accounts(config: Any, check: Any) -> None:
    """Each [[accounts]] key can be had where it says (never shown), and a key file is not
    readable by others."""
    import os

    from swarmtui.engine.accounts.credential import NoCredential, credential

    for acct in config.accounts:
        what = f"account {acct.name}"
        where = f"${acct.env}" if acct.env else acct.file
        try:
            credential(acct, os.environ)
        except NoCredential as e:
            check("fail", what, str(e))
            continue
        if acct.file and Path(acct.file).expanduser().stat().st_mode & 0o077:
            check("warn", what, f"{acct.cli}: its key file {acct.file} can be read by others "
                  f"(chmod 600 it)")
            continue
        check("ok", what, f"{acct.cli}: a key in {where}")


def _doctor_repo(ctx: Invocation, check: Any) -> Path | None:
    from swarmtui.engine.runtime.git import Git

    try:
        repo = ctx.repo
    except SwarmError as e:
        check("fail", "repository", str(e))
        return None
    if Git(repo).has_commits():
        check("ok", "repository", str(repo))
    else:
        check("fail", "repository", f"{repo}: no commits yet; agents need a base to branch "
              "from (commit something first)")
    return repo


def _doctor_version(agent: Any, name: str, check: Any) -> None:
    """The CLI's version against the one its adapter was tested with (adapters that read the
    CLI's own output only)."""
    import os

    from swarmtui.engine.adapters.versions import TESTED, verdict

    if agent.adapter not in TESTED:
        return
    try:
        done = subprocess.run([agent.command[0], "--version"], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL,
                              env={**os.environ, **agent.env})
    except (OSError, subprocess.TimeoutExpired) as e:
        check("warn", f"agent {name} version", f"{agent.command[0]} --version: {e}")
        return
    if done.returncode != 0:
        check("warn", f"agent {name} version", f"{agent.command[0]} --version exited "
              f"{done.returncode}: {(done.stderr or done.stdout).strip()[-200:]}")
        return
    level, detail = verdict(agent.adapter, done.stdout.strip().splitlines()[0]
                            if done.stdout.strip() else "")
    check(level, f"agent {name} version", detail)


def _doctor_config(config: Any, check: Any) -> None:
    from swarmtui.engine.runtime.files import free_memory_bytes

    for name in sorted(config.agents):
        problems = missing_binaries(config, {name})
        exe = config.agents[name].command[0]
        check("warn" if problems else "ok", f"agent {name}",
              problems[0] if problems else f"{exe}: found")
        if not problems:
            _doctor_version(config.agents[name], name, check)
        for problem in unattended_problems(config, {name}):
            check("fail", f"agent {name}", problem)
    mem = free_memory_bytes()
    floor = config.slots.min_free_memory
    if mem is not None:
        check("ok" if mem >= floor else "warn", "memory",
              f"{mem / 2**30:.1f} GiB available (floor {floor / 2**30:.1f} GiB)")


def _doctor_store(ctx: Invocation, repo: Path, check: Any) -> None:
    db = repo / P.SWARM_DIR / P.STATE_DB
    if not db.exists():
        check("ok", "store", "no run yet")
        return
    try:
        store = ctx.store(repo)
        check("ok", "store", f"{db} schema {store.schema_version}, {store.last_seq()} events")
    except Exception as e:  # noqa: BLE001 - doctor reports, never crashes
        check("fail", "store", f"{db}: {e}")
    check("ok", "supervisor", "running" if run_lock(repo).holder_alive() else "not running")
