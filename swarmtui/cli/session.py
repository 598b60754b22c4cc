"""Starting, resuming, attaching to and stopping a run."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui import __version__
from swarmtui import protocol as P
from swarmtui.cli.common import Invocation, existing_run, run_lock, say, tmux_for
from swarmtui.errors import InputError, NoRunError, RunLiveError, SwarmError
from swarmtui.runlock import START_LOCK, RunLock
from swarmtui.textsafe import term_safe

CALLER_ENV_FILE = "caller-env.json"  # the environment agents get, handed to the supervisor


def load_tasks(repo: Path, config: Any, path: str) -> list[Any]:
    from swarmtui.tasks import load_tasks as load

    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such task file")
    if p.suffix == ".json":
        p = p.resolve()  # feature lists get `passes` written back later, from any cwd
    tasks = load(p, roles=config.roles, agents=set(config.agents),
                 default_role=config.run.default_role, default_agent=config.run.default_agent)
    from swarmtui.engine.accounts.fallback import task_problems
    from swarmtui.engine.attempts.modes import mode_problems

    problems = task_problems(config, tasks)  # a task's own accounts, against the config
    problems += mode_problems(config, tasks)  # interactive only where the CLI has a screen
    if problems:
        raise InputError("\n".join(f"{path}: {x}" for x in problems))
    return tasks


def _require_commits(repo: Path) -> None:
    from swarmtui.engine.runtime.git import Git

    if not Git(repo).has_commits():
        raise InputError(f"{repo}: the repository has no commits yet; agents need a base to "
                         "branch from (commit something first, e.g. `git commit --allow-empty "
                         "-m init`)")


def cmd_up(ctx: Invocation) -> int:
    repo = ctx.repo
    config = ctx.config(repo)
    _require_commits(repo)
    tasks = load_tasks(repo, config, ctx.args.tasks)
    from swarmtui.cli.inspect import agent_problems
    from swarmtui.engine.accounts.fallback import agents_run
    from swarmtui.tasks.programs import verify_problems

    problems = agent_problems(config, agents_run(config, tasks))
    problems += verify_problems(tasks, gate=config.merge.verify)
    if problems:
        raise InputError("\n".join(f"{ctx.args.tasks}: {p}" for p in problems))
    starting = start_lock(repo, config)
    try:
        refuse_if_running(repo, config)
        tasks_file = str(Path(ctx.args.tasks).resolve())
        if ctx.args.headless:
            return run_headless(ctx, repo, config, tasks, tasks_file, started=starting.release)
        return start_session(ctx, repo, config, ["--tasks", tasks_file, *_ui_flags(ctx)],
                             started=starting.release)
    finally:
        starting.release()


def holder_text(repo: Path, config: Any) -> str:
    """Who holds the run: the supervisor's pid and where it runs."""
    from swarmtui.engine.runtime.tmux import SUPERVISOR_WINDOW, TmuxError

    pid = run_lock(repo).holder_pid()
    tmux = tmux_for(repo, config)
    where = "headless (no window)"
    try:
        pane = tmux.list_panes().get(SUPERVISOR_WINDOW)
        if pane is not None and pane.pane_pid == pid:
            where = f"in window {pane.window_index} of tmux session {tmux.session}"
    except TmuxError:
        pass
    return f"pid {pid or '?'}, {where}"


def refuse_if_running(repo: Path, config: Any) -> None:
    if run_lock(repo).holder_alive():
        raise RunLiveError(f"a supervisor is already running for {repo} "
                           f"({holder_text(repo, config)}); use `swarmtui attach`, "
                           "`swarmtui add` or `swarmtui status`")


def start_lock(repo: Path, config: Any) -> RunLock:
    """The right to start this repository's supervisor (see swarmtui/runlock.py); refused,
    naming the holder, while another start or a live supervisor has it."""
    lock = RunLock(repo / P.SWARM_DIR / START_LOCK)
    if not lock.acquire():
        refuse_if_running(repo, config)
        raise RunLiveError(f"another swarmtui (pid {lock.holder_pid() or '?'}) is starting the "
                           f"supervisor for {repo} right now; `swarmtui attach` once it is up")
    return lock


def _ui_flags(ctx: Invocation) -> list[str]:
    flags: list[str] = []
    if getattr(ctx.args, "theme", None):
        flags += ["--theme", ctx.args.theme]
    if getattr(ctx.args, "no_tui", False):
        flags.append("--no-tui")
    if getattr(ctx.args, "reload_config", False):
        flags.append("--reload-config")
    return flags


def _say_config(sup: Any, printer: Callable[[str], None]) -> None:
    if sup.how == "resumed" and sup.config_differs:
        where = sup.config.source or "built-in defaults"
        keys = ", ".join(sup.config_differs[:8]) + (" ..." if len(sup.config_differs) > 8 else "")
        printer(f"swarmtui: the resumed run keeps its own config ({where}); yours differs in: "
                f"{keys}. `swarmtui down` and a new `up` start over with yours.")


def run_headless(ctx: Invocation, repo: Path, config: Any, tasks: list[Any], tasks_file: str,
                 *, printer: Callable[[str], None] = print,
                 started: Callable[[], None] = lambda: None) -> int:
    from swarmtui.engine.run.supervisor import Supervisor
    from swarmtui.model import RunStatus
    from swarmtui.render import format_event

    store = ctx.store(repo, must_exist=False)
    lock = run_lock(repo)
    if not lock.acquire():
        raise RunLiveError(f"a supervisor is already running for {repo} "
                           f"({holder_text(repo, config)})")
    started()  # this process is the supervisor now: others may look and be refused
    sup = Supervisor(repo, config, store, tmux_for(repo, config))
    sup.listeners.append(lambda ev: printer(format_event(ev)))
    sup.exit_when_done = True
    _stop_on_signals(sup)
    try:
        sup.how = sup.open_run(tasks, tasks_file)
        _say_config(sup, printer)
        printer(f"swarmtui: {sup.how} run {sup.run_id} in {repo} ({len(sup.state.tasks)} "
                f"tasks); agents in tmux session {sup.tmux.session}: "
                f"{sup.tmux.shell_attach_hint()}")
        try:
            sup.run()
        except Exception:
            if not sup.crashed:
                raise
            # Recorded (an event with the traceback, and the supervisor log): say it plainly.
            printer(f"swarmtui: the supervisor crashed: {sup.crashed} (traceback in "
                    f"{P.SWARM_DIR}/supervisor.log); the agents keep running. `swarmtui attach "
                    f"--repo {shlex.quote(str(repo))}` or `swarmtui up` resumes the run.")
            return 1
    finally:
        lock.release()
    if sup.lost is not None:
        printer(f"swarmtui: supervisor stopped: {sup.lost.detail}. Its agents were ended with "
                "their tmux session; nothing more can be recorded for this run.")
        return 1
    if sup.finished_ok is None:
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
        sup.request_stop()

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def _print_summary(state: Any, printer: Callable[[str], None]) -> None:
    from swarmtui.textsafe import term_safe

    counts: dict[str, int] = {}
    for t in state.tasks.values():
        counts[str(t.state)] = counts.get(str(t.state), 0) + 1
    printer("swarmtui: run finished: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for t in state.tasks.values():
        tries = t.attempt - t.attempt_base
        note = t.reason if str(t.state) in ("dead", "failed", "cancelled") else t.summary
        printer(term_safe(f"  {t.id:<20} {t.state!s:<9} attempts {tries}  {note[:90]}"))


def _write_caller_env(repo: Path, config: Any) -> None:
    """Hand the caller's environment (as the run's pass_env allows) to the supervisor that
    tmux starts, through a 0600 file it reads and deletes: tmux's own environment is never
    used for agents."""
    from swarmtui.engine.attempts.envpolicy import passed

    # The variables [[accounts]] read their keys from, too (the spawn takes them out of
    # every agent's environment and gives each attempt its own account's key only).
    env = passed(os.environ, [*config.run.pass_env,
                              *(a.env for a in getattr(config, "accounts", []) if a.env)])
    path = repo / P.SWARM_DIR / CALLER_ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(env, f)
    os.replace(tmp, path)


def read_caller_env(repo: Path) -> dict[str, str] | None:
    path = repo / P.SWARM_DIR / CALLER_ENV_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def start_session(ctx: Invocation, repo: Path, config: Any, extra: list[str], *,
                  started: Callable[[], None] = lambda: None) -> int:
    """Start the supervisor in window 0 of the repository's tmux session, then attach.
    ``started`` is called once that supervisor holds the run lock (before attaching)."""
    from swarmtui.engine.runtime.tmux import SUPERVISOR_WINDOW, TmuxError

    tmux = tmux_for(repo, config)
    run_config = config
    db = repo / P.SWARM_DIR / P.STATE_DB
    if db.exists():
        try:
            run_config = existing_run(ctx)[1]
        except NoRunError:
            pass
    _write_caller_env(repo, run_config)
    argv = [sys.executable, "-P", "-m", "swarmtui", "supervise", "--repo", str(repo)]
    cfg = ctx.config_path(repo)
    if cfg is not None:
        argv += ["--config", str(cfg.resolve())]
    argv += extra
    env = {"COLORTERM": "truecolor"}  # tmux passes RGB through (terminal-features)
    for k in ("SWARMTUI_TMUX_SOCKET", "PATH", "HOME", "LANG", "TERM"):
        if k in os.environ:
            env[k] = os.environ[k]
    try:
        if tmux.has_session():
            tmux.free_window_zero()
            tmux.new_window(SUPERVISOR_WINDOW, argv, cwd=repo, env=env, index=0)
        else:
            tmux.new_session(argv, cwd=repo, env=env)
    except TmuxError as e:
        raise SwarmError(f"could not start the supervisor in tmux session {tmux.session}: "
                         f"{e}") from None
    lock = run_lock(repo)
    deadline = time.monotonic() + 30
    while not _ours(lock, tmux):
        if time.monotonic() > deadline or SUPERVISOR_WINDOW not in tmux.windows().values():
            shown = ""
            try:
                shown = tmux.capture(SUPERVISOR_WINDOW)
            except Exception:  # noqa: BLE001 - best effort to show why it died
                pass
            (repo / P.SWARM_DIR / CALLER_ENV_FILE).unlink(missing_ok=True)  # holds secrets
            raise SwarmError("the supervisor did not start in tmux" +
                             (f":\n{shown}" if shown else " (its window closed)"))
        time.sleep(0.05)  # waiting for the supervisor process to take its lock
    started()
    print(f"swarmtui: supervisor running in tmux session {tmux.session} (pid "
          f"{lock.holder_pid()})")
    try:
        tmux.select_window(SUPERVISOR_WINDOW)  # attach shows it, not the agent that was current
    except TmuxError:
        pass
    if getattr(ctx.args, "detach", False) or not sys.stdout.isatty():
        print(f"attach with: swarmtui attach --repo {shlex.quote(str(repo))}   "
              f"(or {tmux.shell_attach_hint()})")
        return 0
    return attach_tmux(tmux, repo)


def _ours(lock: RunLock, tmux: Any) -> bool:
    """Whether the run lock is held by the supervisor in our window 0 (not by a `down` or
    `merge` holding it for a moment, nor by anyone else)."""
    from swarmtui.engine.runtime.tmux import SUPERVISOR_WINDOW, TmuxError

    if not lock.holder_alive():
        return False
    try:
        pane = tmux.list_panes().get(SUPERVISOR_WINDOW)
    except TmuxError:
        return False
    return pane is not None and pane.pane_pid == lock.holder_pid()


def attach_tmux(tmux: Any, repo: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}  # allow attaching from in tmux
    rc = subprocess.run(tmux.attach_argv(), env=env, check=False).returncode
    print(term_safe(after_attach(repo), multiline=True))
    return rc


def after_attach(repo: Path) -> str:
    """What happened, said once the tmux client is back: detached (the run goes on), the run
    stopped or finished, or the supervisor gone without either (a crash)."""
    from swarmtui.model import RunStatus
    from swarmtui.store import Store, StoreError

    again = f"swarmtui attach --repo {shlex.quote(str(repo))}"
    try:
        with Store(repo / P.SWARM_DIR / P.STATE_DB, create=False) as store:
            state = store.replay()
            stops = store.events(0, run=state.run, kind="run_stopped")
    except (StoreError, SwarmError) as e:
        if not (repo / ".git").exists():
            return (f"swarmtui: the repository {repo} is gone; its supervisor stopped "
                    "(nothing more can be recorded for that run)")
        return f"swarmtui: detached; the run's state cannot be read ({e})"
    if state.status == RunStatus.STOPPED:
        kept = bool(stops and stops[-1].data.get("keep_agents"))
        return (f"swarmtui: the run was stopped (swarmtui down, or Q in window 0)"
                f"{'; its agents keep running' if kept else ' and its agents ended'}. "
                "`swarmtui up TASKS` starts a new run.")
    if state.status == RunStatus.FINISHED:
        counts: dict[str, int] = {}
        for t in state.tasks.values():
            counts[str(t.state)] = counts.get(str(t.state), 0) + 1
        return ("swarmtui: the run finished: " +
                ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
                ". `swarmtui status` has the details.")
    if run_lock(repo).holder_alive():
        return f"swarmtui: detached; the run goes on. Come back with: {again}"
    if state.last_crash is not None and not state.last_crash.resumed:
        from swarmtui.render import crash_line

        return (f"swarmtui: {crash_line(state.last_crash, hint=False)}; the agents keep "
                f"running. `{again}` restarts it in window 0 and it adopts them.")
    return ("swarmtui: the supervisor is not running: it ended without stopping the run "
            "(it crashed or was killed); the agents keep running. `" + again + "` restarts it "
            "in window 0 and it adopts them.")


def cmd_supervise(ctx: Invocation) -> int:
    """Internal: the supervisor process in window 0 (the TUI, or the plain event stream)."""
    from swarmtui.engine.run.supervisor import Supervisor
    from swarmtui.render import format_event

    repo = ctx.repo
    config = ctx.config(repo)
    tasks = load_tasks(repo, config, ctx.args.tasks) if ctx.args.tasks else []
    store = ctx.store(repo, must_exist=False)
    lock = run_lock(repo)
    if not lock.acquire():
        raise RunLiveError(f"a supervisor is already running for {repo}")
    agent_env = read_caller_env(repo)
    sup = Supervisor(repo, config, store, tmux_for(repo, config), agent_env=agent_env)
    try:
        sup.how = sup.open_run(tasks, ctx.args.tasks or "")
        if ctx.args.no_tui:
            sup.listeners.append(lambda ev: print(format_event(ev), flush=True))
            _stop_on_signals(sup)
            _say_config(sup, lambda s: print(s, flush=True))
            print(f"swarmtui {__version__}: {sup.how} run {sup.run_id} in {repo}; F12 returns "
                  "here from an agent window; `swarmtui down` stops the run", flush=True)
            sup.run()
            return 0
        # The TUI in the foreground; the supervisor loop in a thread of the same process. The
        # app reads the run from the store like any other client, so `watch` is the same app.
        from swarmtui.tui.app import run_app
        from swarmtui.windows import RunWindows

        thread = threading.Thread(target=sup.run, name="supervisor", daemon=True)
        thread.start()
        rc = run_app(repo, sup.config, read_only=False, windows=RunWindows(sup.tmux),
                     supervisor_alive=thread.is_alive, theme=ctx.args.theme)
        sup.request_stop()
        thread.join(timeout=30)
        return rc
    finally:
        lock.release()


def cmd_watch(ctx: Invocation) -> int:
    """The same app as window 0, read-only: actions are hidden, nothing is sent."""
    from swarmtui.client import RunClient
    from swarmtui.tui.app import run_app
    from swarmtui.windows import RunWindows

    repo = ctx.repo
    RunClient(repo)  # exit 3 when there is no run
    _, config, _ = existing_run(ctx)
    return run_app(repo, config, read_only=True, windows=RunWindows(tmux_for(repo, config)),
                   supervisor_alive=None, theme=ctx.args.theme)


def cmd_attach(ctx: Invocation) -> int:
    from swarmtui.model import RunStatus

    repo, config, store = existing_run(ctx)
    tmux = tmux_for(repo, config)
    state = store.replay()
    if not run_lock(repo).holder_alive():
        if state.status in (RunStatus.FINISHED, RunStatus.STOPPED):
            if tmux.has_session():
                return attach_tmux(tmux, repo)
            raise NoRunError(f"no live run in {repo} (the last one is {state.status})")
        # The supervisor died: restart it (it replays the store and adopts live agents).
        starting = start_lock(repo, config)
        try:
            if not run_lock(repo).holder_alive():  # else another attach restarted it meanwhile
                print("swarmtui: the supervisor is not running; restarting it (it adopts the "
                      "agents still alive)")
                return start_session(ctx, repo, config, _ui_flags(ctx),
                                     started=starting.release)
        finally:
            starting.release()
    if not tmux.has_session():
        raise SwarmError(f"the supervisor for {repo} runs headless; there is no session to "
                         "attach (`swarmtui watch` shows the run)")
    return attach_tmux(tmux, repo)


def cmd_demo(ctx: Invocation) -> int:
    from swarmtui.demo import build_demo

    base = Path(ctx.args.dir) if ctx.args.dir else None
    pace = ctx.args.pace if ctx.args.pace is not None else (0.5 if ctx.args.headless else 2.0)
    repo, tasks_path, config_path = build_demo(base, pace=pace)
    print(f"swarmtui demo: repository {repo}")
    ctx.args.repo = str(repo)
    ctx.args.config = str(config_path)
    ctx.args.tasks = str(tasks_path)
    return cmd_up(ctx)


def cmd_down(ctx: Invocation) -> int:
    from swarmtui.client import RunClient
    from swarmtui.engine.run.supervisor import Supervisor
    from swarmtui.model import RunStatus

    repo, config, store = existing_run(ctx)
    keep = ctx.args.keep_agents
    lock = run_lock(repo)
    if lock.holder_alive():
        res = RunClient(repo, store=store).submit(
            "down", {"keep_agents": keep}, timeout=config.run.kill_grace + 60).to_json_obj()
        say(str(res.get("message") or res.get("error") or res.get("reason") or
                res["status"]))
        return 0 if res["status"] == "done" else 1
    tmux = tmux_for(repo, config)
    if store.replay().status in (RunStatus.FINISHED, RunStatus.STOPPED):
        if not keep:
            tmux.kill_session()
        print("the run had already ended; session closed" if not keep else "the run had ended")
        return 0
    if not lock.acquire():
        raise RunLiveError(f"a supervisor started for {repo} meanwhile; run down again")
    try:
        sup = Supervisor(repo, config, store, tmux)
        sup.attach_offline()
        sup.stop(keep_agents=keep)
        if not keep:
            tmux.kill_session()
    finally:
        lock.release()
    print("run stopped" + (" (agents kept running)" if keep else ""))
    return 0
