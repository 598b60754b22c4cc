"""``swarmtui plan TASKS``: what a task file implies before anything runs.

* **How many at once.** The tasks are put through the real scheduler
  (``swarmtui.engine.run.scheduler.plan``) in rounds, as if every task took the same time: each
  round starts whatever the slot budget (``max_agents``, the reserve, the role pools), the
  scope locks (``swarmtui.engine.scope.scopes_overlap``) and the dependencies allow, and all
  of it finishes before the next. The widest round is how many can run at once; the number of
  rounds is how long the run is in units of one task. Each constraint is also applied alone,
  which says which one binds.
* **Dependency depth**: the longest ``depends_on`` chain.
* **Overlapping scopes**: the pairs of tasks whose declared files may touch one path (they run
  one after another), with the first pair of globs that overlap.
* **A cost estimate**: the tokens of each prompt and its declared files (``estimate_tokens``
  on what ``pick_files`` reads), times a factor for the turns an agent takes, priced as input
  tokens with the config's price table. It is a rough guide: no output tokens, no cache
  discounts, the agent's own instructions only when ``overhead`` says so.

``plan_tasks`` is pure; ``read_declared_files`` is the I/O the CLI does first.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui.config import Config
from swarmtui.engine.review.fit import (
    DEFAULT_MODEL,
    Picked,
    estimate_tokens,
    pick_files,
    render,
)
from swarmtui.engine.run.scheduler import SlotPolicy
from swarmtui.engine.run.scheduler import plan as schedule
from swarmtui.engine.scope import patterns_overlap, scopes_overlap
from swarmtui.model import RunState, TaskSpec, TaskState, TaskView
from swarmtui.report.fmt import one_line, usd

DEFAULT_TURNS = 10.0
PLAN_SCHEMA = 1


@dataclass(frozen=True)
class PlanOptions:
    turns: float = DEFAULT_TURNS  # how many times an agent reads its context, roughly
    model: str | None = None  # price every task as this model (default: from its agent)
    overhead: int = 0  # tokens the agent adds to each turn itself (system prompt, tools)


@dataclass(frozen=True)
class Overlap:
    a: str
    b: str
    patterns: tuple[str, str]  # the first glob of a and of b that overlap


@dataclass(frozen=True)
class TaskEstimate:
    id: str
    role: str
    agent: str
    model: str | None
    prompt_tokens: int
    file_tokens: int
    files: int  # declared files read
    tokens: int  # one turn's context: prompt, files and overhead
    estimated_tokens: int  # tokens times turns
    cost_usd: float | None  # None: no model or no price
    note: str = ""  # "no model", "no price", what of the declared files was not read


@dataclass(frozen=True)
class Bounds:
    """The most tasks at once under each constraint alone (and under all of them)."""

    slots: int
    scope: int
    dependencies: int
    all: int


@dataclass(frozen=True)
class PlanReport:
    tasks: tuple[str, ...]
    max_agents: int
    reserve: int
    pools: dict[str, int]
    rounds: tuple[tuple[str, ...], ...]
    never_start: tuple[str, ...]  # tasks no round could start (no pool for their role)
    bounds: Bounds
    limited_by: tuple[str, ...]  # the constraints whose bound is the answer, when it binds
    depth: int
    longest_chain: tuple[str, ...]
    overlaps: tuple[Overlap, ...]
    estimates: tuple[TaskEstimate, ...]
    missing_prices: tuple[str, ...]
    unknown_models: tuple[str, ...]  # agents that name no model
    options: PlanOptions

    @property
    def max_parallel(self) -> int:
        return self.bounds.all

    @property
    def total_tokens(self) -> int:
        return sum(e.estimated_tokens for e in self.estimates)

    @property
    def total_cost_usd(self) -> float | None:
        priced = [e.cost_usd for e in self.estimates if e.cost_usd is not None]
        return sum(priced) if priced else None

    @property
    def priced_tasks(self) -> int:
        return sum(1 for e in self.estimates if e.cost_usd is not None)


# -- rounds through the scheduler ------------------------------------------------------------


def _policy(config: Config) -> SlotPolicy:
    s = config.slots
    return SlotPolicy(max_agents=s.max_agents, reserve=s.reserve,
                      reserve_priority=s.reserve_priority, pools=dict(s.pools))


def _unbounded(tasks: Sequence[TaskSpec]) -> SlotPolicy:
    n = max(1, len(tasks))
    return SlotPolicy(max_agents=n, reserve=0, reserve_priority=0,
                      pools={t.role: n for t in tasks})


def rounds(tasks: Sequence[TaskSpec], policy: SlotPolicy, *, require_merged: bool = False
           ) -> tuple[list[tuple[str, ...]], list[str]]:
    """The rounds in which the scheduler would start ``tasks`` if each took the same time,
    and the tasks it never starts."""
    run = RunState()
    for spec in tasks:
        run.tasks[spec.id] = TaskView(spec=spec)
    out: list[tuple[str, ...]] = []
    while True:
        started = schedule(run, policy, 0.0, require_merged=require_merged).start
        if not started:
            break
        out.append(tuple(started))
        for tid in started:
            run.tasks[tid].state = TaskState.MERGED
    never = [t.id for t in run.tasks.values() if t.state != TaskState.MERGED]
    return out, never


def _widest(found: list[tuple[str, ...]]) -> int:
    return max((len(r) for r in found), default=0)


def _bounds(tasks: Sequence[TaskSpec], config: Config, found: list[tuple[str, ...]]) -> Bounds:
    free = _unbounded(tasks)
    bare = [dataclasses.replace(t, files=(), depends_on=()) for t in tasks]
    no_deps = [dataclasses.replace(t, depends_on=()) for t in tasks]
    no_files = [dataclasses.replace(t, files=()) for t in tasks]
    return Bounds(slots=_widest(rounds(bare, _policy(config))[0]),
                  scope=_widest(rounds(no_deps, free)[0]),
                  dependencies=_widest(rounds(no_files, free)[0]),
                  all=_widest(found))


def _limited_by(b: Bounds, n: int) -> tuple[str, ...]:
    if b.all >= n:
        return ()
    named = {"slots": b.slots, "scope locks": b.scope, "dependencies": b.dependencies}
    return tuple(k for k, v in named.items() if v == b.all)


# -- dependencies and scopes -----------------------------------------------------------------


def longest_chain(tasks: Sequence[TaskSpec]) -> tuple[str, ...]:
    """The longest ``depends_on`` chain, first task first (names outside ``tasks`` are
    satisfied already and do not count)."""
    by_id = {t.id: t for t in tasks}
    best: dict[str, tuple[str, ...]] = {}

    def chain(tid: str, seen: frozenset[str]) -> tuple[str, ...]:
        if tid in best:
            return best[tid]
        longest: tuple[str, ...] = ()
        for dep in by_id[tid].depends_on:
            if dep in by_id and dep not in seen:  # the loader refuses cycles; stay safe
                c = chain(dep, seen | {dep})
                if len(c) > len(longest):
                    longest = c
        best[tid] = (*longest, tid)
        return best[tid]

    return max((chain(t.id, frozenset({t.id})) for t in tasks), key=len, default=())


def overlapping_pairs(tasks: Sequence[TaskSpec]) -> list[Overlap]:
    """Pairs of tasks (in file order) whose declared files may touch the same path."""
    out: list[Overlap] = []
    for i, a in enumerate(tasks):
        for b in tasks[i + 1:]:
            if a.files and b.files and scopes_overlap(a.files, b.files):
                pair = next((x, y) for x in a.files for y in b.files if patterns_overlap(x, y))
                out.append(Overlap(a.id, b.id, pair))
    return out


# -- cost ------------------------------------------------------------------------------------


def model_of(config: Config, agent: str) -> str | None:
    """The model an agent's command names (``--model X``), Claude Code's default for the
    claude adapter, or None."""
    cfg = config.agents.get(agent)
    if cfg is None:
        return None
    argv = list(cfg.command)
    for i, arg in enumerate(argv):
        if arg == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return DEFAULT_MODEL if cfg.adapter == "claude" else None


def _files_note(picked: Picked | None) -> str:
    if picked is None:
        return ""
    if picked.error:
        return f"declared files not read: {picked.error}"
    bits = []
    if picked.skipped:
        bits.append(f"{len(picked.skipped)} skipped")
    if picked.truncated:
        bits.append(f"{len(picked.truncated)} cut")
    return "declared files: " + ", ".join(bits) if bits else ""


def estimate(t: TaskSpec, config: Config, picked: Picked | None, options: PlanOptions
             ) -> TaskEstimate:
    files = picked.files if picked is not None else ()
    prompt_tokens = estimate_tokens(t.prompt)
    context = estimate_tokens(render(t.prompt, files)) if files else prompt_tokens
    tokens = context + max(0, options.overhead)
    total = round(tokens * max(0.0, options.turns))
    model = options.model or model_of(config, t.agent)
    notes = [_files_note(picked)]
    cost: float | None = None
    if model is None:
        notes.append("no model")
    elif model in config.prices:
        cost = total * config.prices[model].input / 1e6
    else:
        notes.append("no price")
    return TaskEstimate(id=t.id, role=t.role, agent=t.agent, model=model,
                        prompt_tokens=prompt_tokens, file_tokens=context - prompt_tokens,
                        files=len(files), tokens=tokens, estimated_tokens=total,
                        cost_usd=cost, note="; ".join(n for n in notes if n))


def read_declared_files(repo: Path, tasks: Sequence[TaskSpec]) -> dict[str, Picked]:
    """The declared files of each task that has some, read as context fit reads them."""
    return {t.id: pick_files(repo, t.files) for t in tasks if t.files}


def plan_tasks(tasks: Sequence[TaskSpec], config: Config, *,
               picked: Mapping[str, Picked] | None = None,
               options: PlanOptions | None = None) -> PlanReport:
    """What ``tasks`` imply under ``config`` (see the module docstring)."""
    options = options or PlanOptions()
    picked = picked or {}
    found, never = rounds(tasks, _policy(config), require_merged=config.merge.auto)
    bounds = _bounds(tasks, config, found)
    chain = longest_chain(tasks)
    estimates = [estimate(t, config, picked.get(t.id), options) for t in tasks]
    missing = sorted({e.model for e in estimates if e.model and e.cost_usd is None})
    unknown = sorted({e.agent for e in estimates if e.model is None})
    return PlanReport(
        tasks=tuple(t.id for t in tasks), max_agents=config.slots.max_agents,
        reserve=config.slots.reserve, pools=dict(config.slots.pools), rounds=tuple(found),
        never_start=tuple(never), bounds=bounds, limited_by=_limited_by(bounds, len(tasks)),
        depth=len(chain), longest_chain=chain, overlaps=tuple(overlapping_pairs(tasks)),
        estimates=tuple(estimates), missing_prices=tuple(missing),
        unknown_models=tuple(unknown), options=options)


# -- rendering -------------------------------------------------------------------------------


def plan_json(pl: PlanReport) -> dict[str, Any]:
    """Plain JSON data, stable keys (schema 1): ``schema``, ``tasks`` (ids), ``slots``
    (``max_agents``, ``reserve``, ``usable``, ``pools``), ``max_parallel``, ``bounds``
    (``slots``, ``scope``, ``dependencies``, ``all``), ``limited_by``, ``rounds`` (lists of
    ids), ``never_start``, ``depth``, ``longest_chain``, ``overlaps`` (``a``, ``b``,
    ``patterns``), ``estimate`` (``turns``, ``overhead``, ``model``, ``tokens``, ``cost_usd``,
    ``priced_tasks``, ``missing_prices``, ``unknown_models``, ``tasks``: ``id``, ``role``,
    ``agent``, ``model``, ``prompt_tokens``, ``file_tokens``, ``files``, ``tokens``,
    ``estimated_tokens``, ``cost_usd``, ``note``)."""
    b = pl.bounds
    return {
        "schema": PLAN_SCHEMA,
        "tasks": list(pl.tasks),
        "slots": {"max_agents": pl.max_agents, "reserve": pl.reserve,
                  "usable": pl.max_agents - pl.reserve, "pools": dict(pl.pools)},
        "max_parallel": pl.max_parallel,
        "bounds": {"slots": b.slots, "scope": b.scope, "dependencies": b.dependencies,
                   "all": b.all},
        "limited_by": list(pl.limited_by),
        "rounds": [list(r) for r in pl.rounds],
        "never_start": list(pl.never_start),
        "depth": pl.depth,
        "longest_chain": list(pl.longest_chain),
        "overlaps": [{"a": o.a, "b": o.b, "patterns": list(o.patterns)} for o in pl.overlaps],
        "estimate": {
            "turns": pl.options.turns, "overhead": pl.options.overhead,
            "model": pl.options.model, "tokens": pl.total_tokens,
            "cost_usd": None if pl.total_cost_usd is None else round(pl.total_cost_usd, 6),
            "priced_tasks": pl.priced_tasks, "missing_prices": list(pl.missing_prices),
            "unknown_models": list(pl.unknown_models),
            "tasks": [dataclasses.asdict(e) for e in pl.estimates],
        },
    }


def _at_once(pl: PlanReport) -> list[str]:
    n = len(pl.tasks)
    pools = ", ".join(f"{k} {v}" for k, v in pl.pools.items())
    b = pl.bounds
    why = f" (limited by {' and '.join(pl.limited_by)})" if pl.limited_by else ""
    lines = [
        f"at once       at most {pl.max_parallel} of {n}{why}",
        f"              alone: slots allow {b.slots} ({pl.max_agents} agents, reserve "
        f"{pl.reserve}; pools {pools}), scope locks {b.scope}, dependencies "
        f"{b.dependencies}",
        f"rounds        {len(pl.rounds)} if every task took as long"
        + (f": about {n / len(pl.rounds):.1f}x a one-at-a-time run" if pl.rounds else ""),
    ]
    lines += [f"  {i + 1:>3}  {' '.join(one_line(t) for t in r)}"
              for i, r in enumerate(pl.rounds)]
    if pl.never_start:
        lines.append(f"never start   {', '.join(one_line(t) for t in pl.never_start)} "
                     "(no slot or pool for their role)")
    return lines


def _estimate_lines(pl: PlanReport) -> list[str]:
    o = pl.options
    extra = f" + {o.overhead:,} per turn" if o.overhead else ""
    lines = [f"cost estimate prompt and declared files{extra}, x {o.turns:g} turns, priced as "
             "input tokens",
             f"  {'task':<24} {'model':<22} {'context':>8} {'tokens':>10} {'cost':>10}"]
    for e in pl.estimates:
        cost = usd(e.cost_usd) if e.cost_usd is not None else "-"
        lines.append(f"  {one_line(e.id, 24):<24} {one_line(e.model or '-', 22):<22} "
                     f"{e.tokens:>8,} {e.estimated_tokens:>10,} {cost:>10}"
                     + (f"  {one_line(e.note, 70)}" if e.note else ""))
    total = pl.total_cost_usd
    lines.append(f"  total {pl.total_tokens:,} tokens, "
                 + (f"{usd(total)} for the {pl.priced_tasks} of {len(pl.estimates)} tasks "
                    "priced" if total is not None else "no task priced"))
    for m in pl.missing_prices:
        lines.append(f"  no price for model {one_line(m)} (add [prices.\"{one_line(m)}\"] to "
                     "the config)")
    if pl.unknown_models:
        lines.append(f"  no model known for agents {', '.join(map(one_line, pl.unknown_models))}"
                     " (their command names none; pass --model NAME)")
    return lines


def plan_text(pl: PlanReport, source: str = "") -> str:
    chain = " -> ".join(one_line(t) for t in pl.longest_chain) or "-"
    lines = [f"plan{f' for {one_line(source)}' if source else ''}: {len(pl.tasks)} tasks"]
    lines += _at_once(pl)
    lines.append(f"depth         {pl.depth} ({chain})")
    if pl.overlaps:
        pairs = "1 pair" if len(pl.overlaps) == 1 else f"{len(pl.overlaps)} pairs"
        lines.append(f"overlaps      {pairs} of tasks whose files overlap, run one after "
                     "another:")
        lines += [f"  {one_line(o.a)} <-> {one_line(o.b)}  ("
                  f"{' ~ '.join(shlex.quote(one_line(x)) for x in o.patterns)})"
                  for o in pl.overlaps]
    else:
        lines.append("overlaps      none")
    lines += _estimate_lines(pl)
    return "\n".join(lines)
