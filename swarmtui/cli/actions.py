"""Commands that change a run: through the live supervisor's inbox (or, for ``merge`` when
no supervisor runs, directly under the run lock)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any

from swarmtui import protocol as P
from swarmtui.cli.common import Invocation, existing_run, out, parse_agent_ref, run_lock, say
from swarmtui.errors import InputError, RunLiveError, SwarmError


def submit(ctx: Invocation, kind: str, cargs: dict[str, Any], *, source: str | None = None,
           timeout: float = 60.0) -> dict[str, Any]:
    """Append a command for the live supervisor and wait for its answer. Run from inside an
    agent's window, the command says so (``agent:<id>``): the supervisor treats what an agent
    asks for differently from what the operator asks for."""
    from swarmtui.client import RunClient

    if source is None:
        agent = os.environ.get(P.ENV_AGENT_ID)
        source = f"agent:{agent}" if agent else "cli"
    return RunClient(ctx.repo).submit(kind, cargs, source=source, timeout=timeout).to_json_obj()


def task_ref(ctx: Invocation) -> dict[str, Any]:
    """{"task", "attempt"} for an ID argument: "task-N" names that attempt; a bare task id
    names the attempt that is current as this command reads the log, so an action the
    supervisor gets after it moved on is refused rather than applied to a newer attempt."""
    from swarmtui.store import Store

    repo = ctx.repo
    db = repo / P.SWARM_DIR / P.STATE_DB
    known: set[str] | None = None
    state = None
    if db.exists():
        with Store(db) as store:
            state = store.replay()
        known = set(state.tasks)
    task, attempt = parse_agent_ref(ctx.args.id, known)
    if getattr(ctx.args, "attempt", None) is not None:
        attempt = ctx.args.attempt
    if attempt is None and state is not None and task in state.tasks:
        attempt = state.tasks[task].attempt or None
    return {"task": task, "attempt": attempt}


def _simple(kind: str, *, with_task: bool = True,
            extra: Callable[[argparse.Namespace], dict[str, Any]] | None = None
            ) -> Callable[[Invocation], int]:
    def run(ctx: Invocation) -> int:
        cargs: dict[str, Any] = task_ref(ctx) if with_task else {}
        if extra:
            cargs.update(extra(ctx.args))
        res = submit(ctx, kind, cargs)
        msg = res.get("message") or res.get("error") or res.get("reason") or res["status"]
        out(ctx.args, res, str(msg))
        return 0 if res["status"] == "done" else 1

    return run


cmd_kill = _simple("kill")
cmd_retry = _simple("retry", extra=lambda a: {"note": a.note or "", "resume": a.resume,
                                             "allow": a.allow or [], "force": a.force})
cmd_send = _simple("send", extra=lambda a: {"text": a.text})
cmd_interrupt = _simple("interrupt")
cmd_cancel = _simple("cancel")
cmd_verify = _simple("verify")
cmd_resolve = _simple("resolve")
cmd_approve = _simple("approve", with_task=False, extra=lambda a: {"quarantine": a.qid})
cmd_reject = _simple("reject", with_task=False, extra=lambda a: {"quarantine": a.qid})


def _answer(allow: bool) -> Callable[[Invocation], int]:
    """``allow TASK[#N]`` / ``deny TASK[#N]``: answer the live request N (the oldest when no
    number is given) of the task's running attempt."""

    def run(ctx: Invocation) -> int:
        ref, _, number = str(ctx.args.id).partition("#")
        if number and not number.isdigit():
            raise InputError(f"{ctx.args.id!r}: expected TASK or TASK#N (N the request's "
                             "number, as `status` shows it)")
        ctx.args.id = ref
        cargs = task_ref(ctx)
        cargs.update(request=int(number) if number else None, allow=allow,
                     scope=getattr(ctx.args, "scope", "once"), why=getattr(ctx.args, "why", "")
                     or "")
        res = submit(ctx, "answer", cargs)
        msg = res.get("message") or res.get("error") or res.get("reason") or res["status"]
        out(ctx.args, res, str(msg))
        return 0 if res["status"] == "done" else 1

    return run


cmd_allow = _answer(True)
cmd_deny = _answer(False)


def cmd_review(ctx: Invocation) -> int:
    cargs = task_ref(ctx)
    res = submit(ctx, "review", cargs, timeout=300)
    msg = res.get("message") or res.get("error") or res.get("reason") or res["status"]
    out(ctx.args, res, str(msg))
    return 0 if res["status"] == "done" else 1
cmd_pause = _simple("pause", with_task=False)
cmd_resume = _simple("resume", with_task=False)


def cmd_ack(ctx: Invocation) -> int:
    cargs: dict[str, Any] = {}
    if ctx.args.alert is not None:
        cargs["alert"] = ctx.args.alert
    if ctx.args.task:
        cargs["task"] = ctx.args.task
    res = submit(ctx, "ack", cargs)
    out(ctx.args, res, str(res.get("message") or res.get("error") or res["status"]))
    return 0 if res["status"] == "done" else 1


def _task_args(a: argparse.Namespace) -> dict[str, Any]:
    return {"prompt": a.prompt, "id": a.id, "role": a.role, "agent": a.agent,
            "files": a.files or [], "verify": a.verify, "depends_on": a.depends_on or [],
            "priority": a.priority, "title": a.title}


def cmd_add(ctx: Invocation) -> int:
    res = submit(ctx, "add", _task_args(ctx.args))
    out(ctx.args, res, str(res.get("message") or res.get("error") or res["status"]))
    if res["status"] == "done":
        if not ctx.args.json:
            print(res["task"])
        return 0
    return 2 if "swarmtui" in str(res.get("error", "")) else 1


def cmd_spawn(ctx: Invocation) -> int:
    """From inside an agent: ask for a sub-agent within this agent's subtree budget."""
    requester = os.environ.get(P.ENV_TASK_ID)
    if not requester:
        raise InputError(f"swarmtui spawn runs inside an agent (${P.ENV_TASK_ID} is not set); "
                         "operators use `swarmtui add`")
    from swarmtui.engine.sandbox.channel import SOCKET_ENV
    from swarmtui.engine.sandbox.channel import ask as channel_ask

    cargs = _task_args(ctx.args)
    cargs["requester"] = requester
    sock = os.environ.get(SOCKET_ENV)
    if sock:  # in a sandbox: the store is not here; the wrapper sends it on as this attempt
        res = channel_ask(sock, "spawn", cargs)
    else:
        res = submit(ctx, "spawn", cargs,
                     source=f"agent:{os.environ.get(P.ENV_AGENT_ID, requester)}")
    if res["status"] == "done":
        if ctx.args.json:
            print(json.dumps(res, sort_keys=True))
        else:
            say(str(res.get("message", "")))
            print(res["task"])
        return 0
    reason = res.get("reason") or res.get("error") or res["status"]
    say(f"spawn refused: {reason}", err=True)
    return 1


def cmd_merge(ctx: Invocation) -> int:
    """Merge a passed task: through the live supervisor's queue, or directly under the lock
    when no supervisor runs (e.g. after a headless run has ended)."""
    from swarmtui.engine.run.supervisor import Supervisor
    from swarmtui.model import MergeItem, TaskState

    repo, config, store = existing_run(ctx)
    ref = task_ref(ctx)
    lock = run_lock(repo)
    if lock.holder_alive():
        res = submit(ctx, "merge", ref, timeout=config.verify.timeout + 120)
        out(ctx.args, res, str(res.get("message") or res.get("reason") or res["status"]))
        return 0 if res["status"] == "done" else 1
    if not lock.acquire():
        raise RunLiveError(f"a supervisor started for {repo} meanwhile; run merge again")
    try:
        from swarmtui.cli.common import tmux_for

        sup = Supervisor(repo, config, store, tmux_for(repo, config))
        parts = sup.attach_offline()
        tid = ref["task"]
        t = sup.state.tasks.get(tid)
        if t is None:
            raise InputError(f"no task {tid!r} in run {sup.run_id}")
        if ref["attempt"] is not None and ref["attempt"] != t.attempt:
            raise SwarmError(f"{P.agent_id(tid, ref['attempt'])} is not the current attempt "
                             f"({P.agent_id(tid, t.attempt)} is)")
        if t.state != TaskState.PASSED:
            raise SwarmError(f"{tid} is {t.state}; only a passed task can be merged")
        held = parts.merges.held(t, t.attempt)[2]
        if held:
            raise SwarmError(f"{tid} is not merged: {held}")
        parts.merges.enqueue(t, auto=False, by="cli")
        outcome = parts.merges.merge_now(MergeItem(task=tid, attempt=t.attempt, auto=False,
                                                   by="cli"))
        assert sup.ports is not None
        sup.ports.workers.shutdown()
    finally:
        lock.release()
    obj = {**outcome.to_dict(), "task": tid, "outcome": outcome.status,
           "status": "done" if outcome.status == "merged" else outcome.status}
    msg = (f"merged {tid} into {sup.state.target} ({(outcome.commit or '')[:10]})"
           if outcome.status == "merged" else f"not merged: {outcome.reason}")
    out(ctx.args, obj, msg)
    return 0 if outcome.status == "merged" else 1


def cmd_gc(ctx: Invocation) -> int:
    from swarmtui.engine.integrate.gc import collect

    repo = ctx.repo
    config = ctx.config(repo)
    store = ctx.store(repo)
    report = collect(repo, store, target=config.merge.target or None, force=ctx.args.force)
    if ctx.args.json:
        print(json.dumps(report.to_json_obj(), sort_keys=True))
    else:
        for line in report.lines():
            say(line)
    return 0 if not report.kept else 1


def cmd_wrap(ctx: Invocation) -> int:
    from swarmtui.engine.wrapper.main import main as wrap_main

    return wrap_main(ctx.args.agent_dir)


def cmd_fake_agent(ctx: Invocation) -> int:
    from swarmtui import fake_agent

    return fake_agent.run(ctx.args)


