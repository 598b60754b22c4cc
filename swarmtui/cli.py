"""Every swarmtui command. Thin: parse, call the engine or the store, print.

Exit codes: 0 ok, 1 the operation failed, 2 bad usage or input, 3 no run in this repository.
Commands that act on a running supervisor append a row to the store's command inbox and wait
for the supervisor's answer, so they work the same from any shell (or from inside an agent).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui import __version__
from swarmtui import protocol as P
from swarmtui.errors import InputError, NoRunError, RunLiveError, SwarmError



# -- context -------------------------------------------------------------------------------------


@dataclass
class Ctx:
    args: argparse.Namespace

    @property
    def repo(self) -> Path:
        from swarmtui.engine.runtime.git import GitError, find_root

        start = self.args.repo or os.environ.get(P.ENV_REPO) or os.getcwd()
        try:
            return find_root(Path(start))
        except GitError as e:
            raise InputError(str(e)) from None

    def config(self, repo: Path | None = None) -> Any:
        from swarmtui.config import load_config

        cfg = self.args.config
        return load_config(repo=repo, explicit=Path(cfg) if cfg else None)

    def config_path(self, repo: Path) -> Path | None:
        from swarmtui.config import find_config_file

        cfg = self.args.config
        return find_config_file(repo, Path(cfg) if cfg else None)

    def store(self, repo: Path, *, must_exist: bool = True) -> Any:
        from swarmtui.store import Store

        db = repo / P.SWARM_DIR / P.STATE_DB
        if must_exist and not db.exists():
            raise NoRunError(f"no run in {repo} (no {db.relative_to(repo)}); "
                             "start one with `swarmtui up TASKS`")
        return Store(db)


def _existing_run(ctx: Ctx) -> tuple[Path, Any, Any]:
    """(repo, config, store) of the repository's run; exit 3 when it never had one."""
    repo = ctx.repo
    config = ctx.config(repo)
    store = ctx.store(repo)
    if store.current_run() == 0:
        raise NoRunError(f"no run in {repo}; start one with `swarmtui up TASKS`")
    return repo, config, store


def _lock(repo: Path) -> Any:
    from swarmtui.runlock import RunLock

    return RunLock(repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)


def _tmux(repo: Path, config: Any) -> Any:
    from swarmtui.engine.runtime.tmux import Tmux, session_name_for

    return Tmux(session_name_for(repo), socket=config.run.tmux_socket or None)


def _out(args: argparse.Namespace, obj: Any, human: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(obj, sort_keys=True))
    else:
        print(human)


# -- inbox commands ------------------------------------------------------------------------------


def submit(ctx: Ctx, kind: str, cargs: dict[str, Any], *, source: str = "cli",
           timeout: float = 60.0) -> dict[str, Any]:
    """Append a command for the live supervisor and wait for its answer."""
    from swarmtui.client import RunClient

    repo = ctx.repo
    return RunClient(repo).submit(kind, cargs, source=source, timeout=timeout).to_json_obj()


def _simple(kind: str, *, with_task: bool = True,
            extra: Callable[[argparse.Namespace], dict[str, Any]] | None = None
            ) -> Callable[[Ctx], int]:
    def run(ctx: Ctx) -> int:
        cargs: dict[str, Any] = {"task": ctx.args.id} if with_task else {}
        if extra:
            cargs.update(extra(ctx.args))
        res = submit(ctx, kind, cargs)
        msg = res.get("message") or res.get("error") or res.get("reason") or res["status"]
        _out(ctx.args, res, msg)
        return 0 if res["status"] == "done" else 1

    return run


# -- up / supervise / demo -----------------------------------------------------------------------


def _load_tasks(ctx: Ctx, repo: Path, config: Any, path: str) -> list[Any]:
    from swarmtui.tasks import load_tasks

    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such task file")
    if p.suffix == ".json":
        p = p.resolve()  # feature lists get `passes` written back later, from any cwd
    return load_tasks(p, roles=config.roles, agents=set(config.agents),
                      default_role=config.run.default_role,
                      default_agent=config.run.default_agent)


def cmd_up(ctx: Ctx) -> int:
    repo = ctx.repo
    config = ctx.config(repo)
    tasks = _load_tasks(ctx, repo, config, ctx.args.tasks)
    lock = _lock(repo)
    if lock.holder_alive():
        raise RunLiveError(f"a supervisor is already running for {repo} (pid "
                           f"{lock.holder_pid()}); use `swarmtui attach` or `swarmtui status`")
    tasks_file = str(Path(ctx.args.tasks).resolve())
    if ctx.args.headless:
        return run_headless(ctx, repo, config, tasks, tasks_file)
    return start_session(ctx, repo, config, ["--tasks", tasks_file, *_ui_flags(ctx)])


def _ui_flags(ctx: Ctx) -> list[str]:
    flags: list[str] = []
    if getattr(ctx.args, "theme", None):
        flags += ["--theme", ctx.args.theme]
    if getattr(ctx.args, "no_tui", False):
        flags.append("--no-tui")
    return flags


def run_headless(ctx: Ctx, repo: Path, config: Any, tasks: list[Any], tasks_file: str,
                 *, printer: Callable[[str], None] = print) -> int:
    from swarmtui.engine.supervisor import Supervisor
    from swarmtui.render import format_event

    store = ctx.store(repo, must_exist=False)
    lock = _lock(repo)
    if not lock.acquire():
        raise RunLiveError(f"a supervisor is already running for {repo}")
    sup = Supervisor(repo, config, store, _tmux(repo, config))
    sup.listeners.append(lambda ev: printer(format_event(ev)))
    sup.exit_when_done = True
    _stop_on_signals(sup)
    try:
        how = sup.open_run(tasks, tasks_file)
        printer(f"swarmtui: {how} run {sup.run_id} in {repo} ({len(sup.state.tasks)} tasks); "
                f"agents in tmux session {sup.tmux.session}: "
                f"{sup.tmux.shell_attach_hint()}")
        sup.run()
    finally:
        lock.release()
    if sup.finished_ok is None:
        from swarmtui.model import RunStatus

        if sup.state.status == RunStatus.STOPPED:
            printer("swarmtui: the run was stopped (swarmtui down).")
            return 0
        printer("swarmtui: supervisor stopped; agents keep running. `swarmtui up` or "
                "`swarmtui attach` resumes the run.")
        return 1
    _print_summary(sup.state, printer)
    return 0 if sup.finished_ok else 1


def _stop_on_signals(sup: Any) -> None:
    def handler(signum: int, _frame: object) -> None:
        sup.stop_requested.set()
        sup.inbox.put(("wake", None))

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)


def _print_summary(state: Any, printer: Callable[[str], None]) -> None:
    counts: dict[str, int] = {}
    for t in state.tasks.values():
        counts[str(t.state)] = counts.get(str(t.state), 0) + 1
    printer("swarmtui: run finished: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for t in state.tasks.values():
        tries = t.attempt - t.attempt_base
        note = t.reason if str(t.state) in ("dead", "failed", "cancelled") else t.summary
        printer(f"  {t.id:<20} {t.state!s:<9} attempts {tries}  {note[:90]}")


def start_session(ctx: Ctx, repo: Path, config: Any, extra: list[str]) -> int:
    """Start the supervisor in window 0 of the repository's tmux session, then attach."""
    tmux = _tmux(repo, config)
    argv = [sys.executable, "-m", "swarmtui", "supervise", "--repo", str(repo)]
    cfg = ctx.config_path(repo)
    if cfg is not None:
        argv += ["--config", str(cfg.resolve())]
    argv += extra
    env = {k: os.environ[k] for k in ("SWARMTUI_TMUX_SOCKET", "PATH", "HOME")
           if k in os.environ}
    env["COLORTERM"] = "truecolor"  # tmux passes RGB through (terminal-features in tmux.conf)
    if tmux.has_session():
        tmux.server.cmd("new-window", "-d", "-t", f"={tmux.session}:0", "-n", "swarmtui",
                        "-c", str(repo), *argv)
    else:
        tmux.new_session(argv, cwd=repo, env=env)
    lock = _lock(repo)
    deadline = time.monotonic() + 20
    while not lock.holder_alive():
        if time.monotonic() > deadline or not tmux.has_session():
            out = ""
            try:
                out = tmux.capture("swarmtui")
            except Exception:  # noqa: BLE001 - best effort to show why it died
                pass
            raise SwarmError("the supervisor did not start in tmux" + (f":\n{out}" if out else ""))
        time.sleep(0.05)  # waiting for the supervisor process to take its lock
    print(f"swarmtui: supervisor running in tmux session {tmux.session}")
    if ctx.args.detach or not sys.stdout.isatty():
        print(f"attach with: swarmtui attach   (or {tmux.shell_attach_hint()})")
        return 0
    return _attach(tmux)


def _attach(tmux: Any) -> int:
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}  # allow attaching from in tmux
    argv = tmux.attach_argv()
    os.execvpe(argv[0], argv, env)
    return 0  # not reached


def cmd_supervise(ctx: Ctx) -> int:
    """Internal: the supervisor process in window 0 (until the TUI lands: the event stream)."""
    from swarmtui.engine.supervisor import Supervisor
    from swarmtui.render import format_event

    repo = ctx.repo
    config = ctx.config(repo)
    tasks = _load_tasks(ctx, repo, config, ctx.args.tasks) if ctx.args.tasks else []
    store = ctx.store(repo, must_exist=False)
    lock = _lock(repo)
    if not lock.acquire():
        raise RunLiveError(f"a supervisor is already running for {repo}")
    sup = Supervisor(repo, config, store, _tmux(repo, config))
    try:
        how = sup.open_run(tasks, ctx.args.tasks or "")
        if ctx.args.no_tui:
            sup.listeners.append(lambda ev: print(format_event(ev), flush=True))
            _stop_on_signals(sup)
            print(f"swarmtui {__version__}: {how} run {sup.run_id} in {repo}; F12 returns "
                  "here from an agent window; `swarmtui down` stops the run", flush=True)
            sup.run()
            return 0
        # The TUI in the foreground; the supervisor loop in a thread of the same process. The
        # app reads the run from the store like any other client, so `watch` is the same app.
        from swarmtui.tui.app import run_app

        thread = threading.Thread(target=sup.run, name="supervisor", daemon=True)
        thread.start()
        rc = run_app(repo, config, read_only=False, tmux=sup.tmux,
                     supervisor_alive=thread.is_alive, theme=ctx.args.theme)
        sup.stop_requested.set()
        sup.inbox.put(("wake", None))
        thread.join(timeout=30)
        return rc
    finally:
        lock.release()


def cmd_watch(ctx: Ctx) -> int:
    """The same app as window 0, read-only: actions are hidden, nothing is sent."""
    from swarmtui.client import RunClient

    repo = ctx.repo
    config = ctx.config(repo)
    RunClient(repo)  # exit 3 when there is no run
    from swarmtui.tui.app import run_app

    return run_app(repo, config, read_only=True, tmux=_tmux(repo, config), supervisor_alive=None,
                   theme=ctx.args.theme)


def cmd_attach(ctx: Ctx) -> int:
    repo = ctx.repo
    config = ctx.config(repo)
    store = ctx.store(repo)
    tmux = _tmux(repo, config)
    state = store.replay()
    from swarmtui.model import RunStatus

    if not _lock(repo).holder_alive():
        if store.current_run() == 0 or state.status in (RunStatus.FINISHED, RunStatus.STOPPED):
            if tmux.has_session():
                return _attach(tmux)
            raise NoRunError(f"no live run in {repo} (the last one is {state.status})")
        # The supervisor died: restart it (it replays the store and adopts live agents).
        return start_session(ctx, repo, config, _ui_flags(ctx))
    if not tmux.has_session():
        raise SwarmError(f"the supervisor for {repo} runs headless; there is no session to attach")
    return _attach(tmux)


def cmd_demo(ctx: Ctx) -> int:
    from swarmtui.demo import build_demo

    base = Path(ctx.args.dir) if ctx.args.dir else None
    repo, tasks_path, config_path = build_demo(base, pace=ctx.args.pace)
    print(f"swarmtui demo: repository {repo}")
    ctx.args.repo = str(repo)
    ctx.args.config = str(config_path)
    ctx.args.tasks = str(tasks_path)
    return cmd_up(ctx)


# -- read-only commands --------------------------------------------------------------------------


def status_obj(repo: Path, config: Any, store: Any) -> dict[str, Any]:
    from swarmtui.model import ACTIVE
    from swarmtui.render import task_row

    state = store.replay()
    live = _lock(repo).holder_alive()
    now = time.time()
    rows = [task_row(t, config.retry.max_attempts, now) for t in state.tasks.values()]
    used = sum(1 for t in state.tasks.values() if t.state in ACTIVE)
    queued = sum(1 for t in state.tasks.values() if str(t.state) in ("pending", "blocked"))
    run_state = str(state.status)
    if not live and run_state not in ("finished", "stopped"):
        run_state = "orphaned"  # unfinished, but no supervisor holds it
    return {
        "run": {"id": state.run, "state": run_state, "supervisor": live, "repo": str(repo),
                "base": state.base, "target": state.target, "started_at": state.started_at,
                "ended_at": state.ended_at, "paused": state.paused,
                "breaker_open": state.breaker_open, "breaker_reason": state.breaker_reason,
                "usage_limited_until": state.usage_limited_until,
                "queued": queued,
                "cost_usd": round(sum(t.cost_usd for t in state.tasks.values()), 4),
                "last_seq": state.last_seq},
        "slots": {"used": used, "max": config.slots.max_agents,
                  "reserve": config.slots.reserve,
                  "pools": {role: {"max": n, "used": sum(
                      1 for t in state.tasks.values() if t.state in ACTIVE and t.spec.role == role)}
                      for role, n in config.slots.pools.items()}},
        "tasks": rows,
    }


def cmd_status(ctx: Ctx) -> int:
    from swarmtui.render import format_status_table

    repo, config, store = _existing_run(ctx)
    obj = status_obj(repo, config, store)
    if ctx.args.json:
        print(json.dumps(obj, sort_keys=True))
    else:
        print(format_status_table(store.replay(), obj["tasks"], obj["run"]["supervisor"],
                                  obj["slots"]))
    return 0


def cmd_events(ctx: Ctx) -> int:
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
        if not ctx.args.follow:
            return 0
        if not batch:
            time.sleep(0.2)  # a reader polling another process's appends


def cmd_validate(ctx: Ctx) -> int:
    repo = ctx.repo
    config = ctx.config(repo)
    tasks = _load_tasks(ctx, repo, config, ctx.args.tasks)
    obj = {"ok": True, "tasks": [t.id for t in tasks],
           "config": str(config.source) if config.source else None}
    _out(ctx.args, obj, f"{ctx.args.tasks}: {len(tasks)} tasks OK (config: "
         f"{config.source or 'built-in defaults'})")
    return 0


def cmd_doctor(ctx: Ctx) -> int:
    checks: list[tuple[str, str, str]] = []  # (level, what, detail)

    def check(level: str, what: str, detail: str) -> None:
        checks.append((level, what, detail))

    check("ok" if sys.version_info >= (3, 11) else "fail", "python", sys.version.split()[0])
    for tool, minimum in (("tmux", (3, 2)), ("git", (2, 17))):
        path = shutil.which(tool)
        if not path:
            check("fail", tool, "not found on PATH")
            continue
        out = subprocess.run([tool, "-V" if tool == "tmux" else "--version"],
                             capture_output=True, text=True).stdout.strip()
        ver = tuple(int(x) for x in _digits(out)[:2])
        check("ok" if ver >= minimum else "fail", tool,
              f"{out} (need >= {'.'.join(map(str, minimum))})")
    try:
        repo = ctx.repo
        check("ok", "repository", str(repo))
    except SwarmError as e:
        check("fail", "repository", str(e))
        repo = None
    config = None
    try:
        config = ctx.config(repo)
        check("ok", "config", str(config.source or "built-in defaults"))
    except SwarmError as e:
        check("fail", "config", str(e))
    if config is not None:
        for name, agent in config.agents.items():
            exe = agent.command[0]
            found = shutil.which(exe) or (Path(exe).exists() and exe)
            check("ok" if found else "warn", f"agent {name}",
                  f"{exe}: {'found' if found else 'not found on PATH'}")
        from swarmtui.engine.supervisor import free_memory_bytes

        mem = free_memory_bytes()
        if mem is not None:
            check("ok" if mem >= config.slots.min_free_memory else "warn", "memory",
                  f"{mem / 2**30:.1f} GiB available (floor {config.slots.min_free_memory / 2**30:.1f} GiB)")
    if repo is not None:
        db = repo / P.SWARM_DIR / P.STATE_DB
        if db.exists():
            try:
                store = ctx.store(repo)
                check("ok", "store", f"{db} schema {store.schema_version}, "
                      f"{store.last_seq()} events")
            except Exception as e:  # noqa: BLE001 - doctor reports, never crashes
                check("fail", "store", f"{db}: {e}")
            live = _lock(repo).holder_alive()
            check("ok", "supervisor", "running" if live else "not running")
        else:
            check("ok", "store", "no run yet")
    if config is not None and repo is not None:
        tmux = _tmux(repo, config)
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


def _digits(s: str) -> list[str]:
    import re

    m = re.search(r"(\d+)\.(\d+)", s)
    return [m.group(1), m.group(2)] if m else ["0", "0"]


# -- actions -------------------------------------------------------------------------------------


def _task_args(a: argparse.Namespace) -> dict[str, Any]:
    return {"prompt": a.prompt, "id": a.id, "role": a.role, "agent": a.agent,
            "files": a.files or [], "verify": a.verify, "depends_on": a.depends_on or [],
            "priority": a.priority, "title": a.title}


def cmd_add(ctx: Ctx) -> int:
    res = submit(ctx, "add", _task_args(ctx.args))
    _out(ctx.args, res, res.get("message") or res.get("error") or res["status"])
    if res["status"] == "done":
        print(res["task"]) if not ctx.args.json else None
        return 0
    return 2 if "error" in res and "swarmtui" in str(res.get("error")) else 1


def cmd_spawn(ctx: Ctx) -> int:
    """From inside an agent: ask for a sub-agent within this agent's subtree budget."""
    requester = os.environ.get(P.ENV_TASK_ID)
    if not requester:
        raise InputError(f"swarmtui spawn runs inside an agent (${P.ENV_TASK_ID} is not set); "
                         "operators use `swarmtui add`")
    cargs = _task_args(ctx.args)
    cargs["requester"] = requester
    res = submit(ctx, "spawn", cargs, source=f"agent:{os.environ.get(P.ENV_AGENT_ID, requester)}")
    if res["status"] == "done":
        if ctx.args.json:
            print(json.dumps(res, sort_keys=True))
        else:
            print(res.get("message", ""))
            print(res["task"])
        return 0
    reason = res.get("reason") or res.get("error") or res["status"]
    print(f"spawn refused: {reason}", file=sys.stderr)
    return 1


def cmd_down(ctx: Ctx) -> int:
    repo, config, store = _existing_run(ctx)
    keep = ctx.args.keep_agents
    lock = _lock(repo)
    if lock.holder_alive():
        res = submit(ctx, "down", {"keep_agents": keep})
        msg = res.get("message") or res.get("error") or res["status"]
        print(msg)
        return 0 if res["status"] == "done" else 1
    from swarmtui.engine.supervisor import Supervisor
    from swarmtui.model import RunStatus

    if store.replay().status in (RunStatus.FINISHED, RunStatus.STOPPED):
        tmux = _tmux(repo, config)
        if not keep:
            tmux.kill_session()
        print("the run had already ended; session closed" if not keep else "the run had ended")
        return 0
    if not lock.acquire():
        raise RunLiveError(f"a supervisor started for {repo} meanwhile; run down again")
    try:
        sup = Supervisor(repo, config, store, _tmux(repo, config))
        sup.open_run([], "")
        sup.stop(keep_agents=keep)
        if sup.close_session_on_exit:
            sup.tmux.kill_session()
    finally:
        lock.release()
    print("run stopped" + (" (agents kept running)" if keep else ""))
    return 0


def cmd_merge(ctx: Ctx) -> int:
    """Merge a passed task: through the live supervisor's queue, or directly under the lock
    when no supervisor runs (e.g. after a headless run has ended)."""
    from swarmtui.engine.supervisor import Supervisor
    from swarmtui.model import TaskState

    repo, config, store = _existing_run(ctx)
    tid = ctx.args.id
    lock = _lock(repo)
    if lock.holder_alive():
        res = submit(ctx, "merge", {"task": tid}, timeout=config.verify.timeout + 120)
        _out(ctx.args, res, res.get("message") or res.get("reason") or res["status"])
        return 0 if res["status"] == "done" else 1
    if not lock.acquire():
        raise RunLiveError(f"a supervisor started for {repo} meanwhile; run merge again")
    try:
        sup = Supervisor(repo, config, store, _tmux(repo, config))
        sup.attach_to_run()
        t = sup.state.tasks.get(tid)
        if t is None:
            raise InputError(f"no task {tid!r} in run {sup.run_id}")
        if t.state != TaskState.PASSED:
            raise SwarmError(f"{tid} is {t.state}; only a passed task can be merged")
        out = sup.merge_now(t, source="cli")
    finally:
        lock.release()
    obj = {**out.to_dict(), "task": tid, "outcome": out.status,
           "status": "done" if out.status == "merged" else out.status}
    msg = (f"merged {tid} into {sup.state.target} ({(out.commit or '')[:10]})"
           if out.status == "merged" else f"not merged: {out.reason}")
    _out(ctx.args, obj, msg)
    return 0 if out.status == "merged" else 1


def cmd_ledger(ctx: Ctx) -> int:
    from swarmtui.engine.ledger import entries_from_events

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
        print(f"{e.commit[:10]}  {e.task:<20} {flag:<13} {e.summary.strip()[:70]}")
        if e.files:
            print(f"{'':12}files: {', '.join(e.files[:10])}")
    return 0


def cmd_gc(ctx: Ctx) -> int:
    from swarmtui.engine.gc import collect

    repo = ctx.repo
    config = ctx.config(repo)
    store = ctx.store(repo)
    report = collect(repo, store, target=config.merge.target or None, force=ctx.args.force)
    if ctx.args.json:
        print(json.dumps(report.to_json_obj(), sort_keys=True))
    else:
        for line in report.lines():
            print(line)
    return 0 if not report.kept else 1


def cmd_wrap(ctx: Ctx) -> int:
    from swarmtui.engine.wrap import main as wrap_main

    return wrap_main(ctx.args.agent_dir)


def cmd_fake_agent(ctx: Ctx) -> int:
    from swarmtui import fake_agent

    return fake_agent.run(ctx.args)


# -- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", metavar="DIR",
                        help="the repository (default: the git repository around the cwd)")
    common.add_argument("--config", metavar="FILE", help="config file (see config.toml.example)")
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true", help="machine-readable output (stable)")

    p = argparse.ArgumentParser(
        prog="swarmtui", description="Supervise a fleet of AI coding agents in tmux and git "
        "worktrees.", epilog="Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 no run.")
    p.add_argument("--version", action="version", version=f"swarmtui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name: str, fn: Callable[[Ctx], int], help: str | None, parents: tuple[Any, ...] = (common,),
            **kw: Any) -> argparse.ArgumentParser:
        # Internal commands get no help entry, which keeps them out of the command list.
        extra = {} if help is None else {"help": help, "description": help}
        sp = sub.add_parser(name, parents=list(parents), **extra, **kw)
        sp.set_defaults(fn=fn)
        return sp

    sp = add("up", cmd_up, "start (or resume) a run of the tasks in TASKS")
    sp.add_argument("tasks", metavar="TASKS", help="task file (.toml or a .json feature list)")
    sp.add_argument("--headless", action="store_true",
                    help="supervise in this terminal, print events, exit when all tasks end")
    sp.add_argument("--detach", action="store_true", help="return once the session is up")
    sp.add_argument("--theme", help="colour theme of the TUI")
    sp.add_argument("--no-tui", action="store_true", help="window 0 shows the plain event stream")

    sp = add("demo", cmd_demo, "run the bundled demo on simulated agents (no API key needed)")
    sp.add_argument("--headless", action="store_true", help="print events and a summary, exit")
    sp.add_argument("--detach", action="store_true", help="return once the session is up")
    sp.add_argument("--dir", metavar="DIR", help="build the demo repository here")
    sp.add_argument("--pace", type=float, default=0.5, help="seconds per simulated step")
    sp.add_argument("--theme", help="colour theme of the TUI")
    sp.add_argument("--no-tui", action="store_true", help="window 0 shows the plain event stream")

    add("status", cmd_status, "show the run, slots and tasks", (common, js))
    sp = add("events", cmd_events, "print the event log", (common, js))
    sp.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    sp.add_argument("--since", type=int, default=0, metavar="SEQ", help="only events after SEQ")

    for name, fn, hlp in (("add", cmd_add, "add a task to the running supervisor"),
                          ("spawn", cmd_spawn, "from inside an agent: ask for a sub-agent")):
        sp = add(name, fn, hlp, (common, js))
        sp.add_argument("prompt", metavar="PROMPT")
        sp.add_argument("--id")
        sp.add_argument("--title")
        sp.add_argument("--role")
        sp.add_argument("--agent")
        sp.add_argument("--files", action="append", metavar="GLOB")
        sp.add_argument("--verify", metavar="CMD")
        sp.add_argument("--depends-on", action="append", metavar="ID", dest="depends_on")
        sp.add_argument("--priority", type=int, default=0)

    sp = add("kill", _simple("kill"), "end a task's agent (TERM, then KILL); keeps its worktree",
             (common, js))
    sp.add_argument("id", metavar="ID")
    sp = add("retry", _simple("retry", extra=lambda a: {"note": a.note}),
             "start a fresh attempt with a handoff (and an optional note)", (common, js))
    sp.add_argument("id", metavar="ID")
    sp.add_argument("--note", metavar="TEXT", help="passed to the next attempt in its handoff")
    sp = add("cancel", _simple("cancel"), "give up on a task (ending its agent if running); "
             "dependents die with it", (common, js))
    sp.add_argument("id", metavar="ID")
    sp = add("verify", _simple("verify"), "run a task's verify command again", (common, js))
    sp.add_argument("id", metavar="ID")
    sp = add("merge", cmd_merge, "merge a passed task into the target (one at a time; exits 1 "
             "with the reason when it refuses)", (common, js))
    sp.add_argument("id", metavar="ID")
    sp = add("resolve", _simple("resolve"), "start a resolver attempt for a passed task whose "
             "merge conflicts", (common, js))
    sp.add_argument("id", metavar="ID")
    add("ledger", cmd_ledger, "list merged work and its do-not-revert marks", (common, js))
    add("pause", _simple("pause", with_task=False), "stop dispatching new agents", (common, js))
    add("resume", _simple("resume", with_task=False),
        "resume dispatch (also closes an open breaker)", (common, js))
    add("attach", cmd_attach, "attach this terminal to the run's tmux session (restarts a dead "
        "supervisor)")
    sp = add("watch", cmd_watch, "the live view, read-only (for a second person or shell)")
    sp.add_argument("--theme", help="colour theme (see themes/)")
    sp = add("down", cmd_down, "stop the run: end every agent and the session")
    sp.add_argument("--keep-agents", action="store_true", help="leave agents running")
    sp = add("gc", cmd_gc, "remove worktrees and branches of merged or cancelled tasks' "
             "attempts; unmerged work needs --force", (common, js))
    sp.add_argument("--force", action="store_true",
                    help="also remove attempts with unmerged commits or uncommitted changes")
    add("doctor", cmd_doctor, "check the machine, the repository and the config", (common, js))
    sp = add("validate", cmd_validate, "check a task file and the config", (common, js))
    sp.add_argument("tasks", metavar="TASKS")

    sp = add("supervise", cmd_supervise, None)
    sp.add_argument("--tasks")
    sp.add_argument("--no-tui", action="store_true")
    sp.add_argument("--theme")
    sp = add("wrap", cmd_wrap, None, ())
    sp.add_argument("agent_dir")
    from swarmtui import fake_agent

    sp = add("fake-agent", cmd_fake_agent, "the simulated agent used by the demo and the tests", ())
    fake_agent.add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on bad usage, 0 on --help
        return int(e.code or 0)
    try:
        return int(args.fn(Ctx(args)) or 0)
    except SwarmError as e:
        print(f"swarmtui: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
