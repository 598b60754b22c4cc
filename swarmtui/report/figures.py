"""The figures of a run report: plain frozen data, built by ``collect.build_report``.

Times are unix seconds; durations are seconds; money is US dollars. An attempt holds a slot
from its ``attempt_spawned`` to its ``agent_exited`` (``start`` to ``end``); one whose exit is
not recorded yet ends, for every figure, at the report's end (``exited`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from swarmtui.model import Cause


class Outcome(StrEnum):
    """How one attempt ended, as far as the run's result goes."""

    MERGED = "merged"  # its work landed on the target
    PASSED = "passed"  # verified, not merged (yet)
    FAILED = "failed"  # the agent, its work, the API or its set-up failed (see CauseClass)
    KILLED = "killed"  # ended on purpose: the operator, a retry, a cancel, the run stopping
    LOST = "lost"  # its window or server went away, or it ended itself as an orphan
    DISCARDED = "discarded"  # it passed, then a fresh attempt replaced it (retry, resolver)
    UNFINISHED = "unfinished"  # no outcome recorded when the log ends


class CauseClass(StrEnum):
    """What kind of failure a failed attempt's cause is (the timeline colours by it)."""

    AGENT = "agent"  # crashed, stuck, reported failed or blocked, max turns or budget
    CHECK = "check"  # its verify command or the integration check on the merge failed
    API = "api"  # the model's API: authentication, rate or usage limits, overload, errors
    SETUP = "setup"  # it needs a permission, or its prompt does not fit the window


_CLASS: dict[Cause, CauseClass | Outcome] = {
    Cause.CRASHED: CauseClass.AGENT,
    Cause.STUCK: CauseClass.AGENT,
    Cause.REPORTED_FAILED: CauseClass.AGENT,
    Cause.REPORTED_BLOCKED: CauseClass.AGENT,
    Cause.MAX_TURNS: CauseClass.AGENT,
    Cause.MAX_BUDGET: CauseClass.AGENT,
    Cause.COULD_NOT_START: CauseClass.AGENT,
    Cause.VERIFY_FAILED: CauseClass.CHECK,
    Cause.INTEGRATION_FAILED: CauseClass.CHECK,
    Cause.API_AUTH: CauseClass.API,
    Cause.API_RATE_LIMITED: CauseClass.API,
    Cause.API_OVERLOADED: CauseClass.API,
    Cause.API_SERVER: CauseClass.API,
    Cause.USAGE_LIMITED: CauseClass.API,
    Cause.NEEDS_PERMISSION: CauseClass.SETUP,
    Cause.TOO_LARGE: CauseClass.SETUP,
    Cause.KILLED: Outcome.KILLED,
    Cause.RETRIED: Outcome.KILLED,
    Cause.CANCELLED: Outcome.KILLED,
    Cause.STOPPED: Outcome.KILLED,
    Cause.LOST: Outcome.LOST,
    Cause.ORPHANED: Outcome.LOST,
}


def classify(cause: Cause) -> tuple[Outcome, CauseClass | None]:
    """The outcome of an attempt that ended with ``cause``, and its class when it failed.
    A cause this module does not know yet counts as the agent's failure."""
    c = _CLASS.get(cause, CauseClass.AGENT)
    if isinstance(c, CauseClass):
        return Outcome.FAILED, c
    return c, None


# Outcomes whose spend bought nothing that stands: the waste.
WASTED = frozenset({Outcome.FAILED, Outcome.KILLED, Outcome.LOST, Outcome.DISCARDED})


def style_of(outcome: Outcome, cause_class: CauseClass | None) -> str:
    """The style name of an attempt's bar: ``bar--merged``, ``bar--failed-agent``, ..."""
    if outcome == Outcome.FAILED:
        return f"bar--failed-{cause_class or CauseClass.AGENT}"
    return f"bar--{outcome}"


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of one model (or a sum over models)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input + other.input, self.output + other.output,
                     self.cache_read + other.cache_read, self.cache_write + other.cache_write,
                     self.cost_usd + other.cost_usd)

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


@dataclass(frozen=True)
class AttemptFigures:
    task: str
    attempt: int
    role: str
    agent: str
    start: float  # attempt_spawned
    end: float  # agent_exited, or the report's end while no exit is recorded
    exited: bool
    outcome: Outcome
    cause: Cause | None = None  # the attempt_failed cause (failed, killed, lost)
    cause_class: CauseClass | None = None  # set when the outcome is FAILED
    reason: str = ""
    exit_how: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = False  # the exit record carried a cost
    cost_estimated: bool = False  # from the price table (no cost reported by the agent CLI)
    models: dict[str, Usage] = field(default_factory=dict)
    summary: str = ""  # the agent's results summary (agent text: escape it)
    retry_after: str | None = None  # why this attempt follows an earlier one of its task
    merged_at: float | None = None
    lane: int = 0  # the timeline lane (0-based)
    account: str | None = None  # the [[accounts]] entry it ran on
    cli: str = ""  # the adapter (CLI) of the agent config it ran (a failover may change it)

    @property
    def id(self) -> str:
        return f"{self.task}-{self.attempt}"

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def wasted(self) -> bool:
        return self.outcome in WASTED

    @property
    def style(self) -> str:
        return style_of(self.outcome, self.cause_class)


@dataclass(frozen=True)
class TaskFigures:
    id: str
    title: str
    role: str
    agent: str
    state: str  # the task's state at the end of the log
    attempts: tuple[AttemptFigures, ...]
    first_spawn_at: float | None
    end_at: float | None  # merged, or when it reached the state it ends in
    cost_usd: float  # its attempts
    review_cost_usd: float
    tokens: int
    result_attempt: int | None  # the attempt whose result stands (merged or passed)

    @property
    def lead_time_s(self) -> float | None:
        if self.first_spawn_at is None or self.end_at is None:
            return None
        return max(0.0, self.end_at - self.first_spawn_at)


@dataclass(frozen=True)
class Spend:
    """Spend of a group of attempts (a role, the waste)."""

    cost_usd: float = 0.0
    tokens: int = 0
    attempts: int = 0
    agent_s: float = 0.0


@dataclass(frozen=True)
class SlotUse:
    peak: int
    peak_at: float | None
    mean: float  # slot-seconds / wall time: equal to the parallelism by construction
    mean_busy: float  # slot-seconds / the time at least one slot was in use
    busy_s: float
    max_agents: int
    reserve: int

    @property
    def utilisation(self) -> float:
        return self.mean / self.max_agents if self.max_agents else 0.0


@dataclass(frozen=True)
class Reviews:
    count: int = 0
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    errors: int = 0


@dataclass(frozen=True)
class Merge:
    task: str
    attempt: int
    time: float
    landed_late: bool = False  # merge_landed: it landed after its task had moved on


@dataclass(frozen=True)
class Report:
    run: int
    repo: str
    target: str
    status: str
    started_at: float
    ended_at: float  # the run's end, or the report's end while it runs
    live: bool  # the log does not say the run ended
    tasks: tuple[TaskFigures, ...]
    attempts: tuple[AttemptFigures, ...]  # by start, then id
    merges: tuple[Merge, ...]
    lanes: tuple[tuple[str, ...], ...]  # attempt ids per timeline lane
    agent_cost_usd: float
    tokens: int
    waste: Spend
    waste_ids: tuple[str, ...]
    by_role: dict[str, Spend]
    by_model: dict[str, Usage]
    failures_by_cause: dict[str, int]
    retries_by_cause: dict[str, int]
    slots: SlotUse
    agent_s: float
    reviews: Reviews
    unpriced_models: tuple[str, ...]  # models with tokens but no cost and no price
    states: dict[str, int]  # task state -> how many tasks end in it
    by_account: dict[str, Spend] = field(default_factory=dict)  # attempts on [[accounts]]
    by_cli: dict[str, Spend] = field(default_factory=dict)  # agent CLI (adapter) -> spend

    @property
    def wall_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def cost_usd(self) -> float:
        """Everything the run spent: agents and reviews."""
        return self.agent_cost_usd + self.reviews.cost_usd

    @property
    def merged(self) -> int:
        return self.states.get("merged", 0)

    @property
    def cost_per_merged_task(self) -> float | None:
        """The whole spend (waste and reviews included) over the tasks merged."""
        return self.cost_usd / self.merged if self.merged else None

    @property
    def parallelism(self) -> float | None:
        """What parallelism bought: the sum of agent time over the wall time."""
        return self.agent_s / self.wall_s if self.wall_s > 0 else None

    @property
    def priced_attempts(self) -> int:
        """Attempts whose exit record carried a cost (agents that report none count $0)."""
        return sum(1 for a in self.attempts if a.priced)

    @property
    def retries(self) -> int:
        return sum(self.retries_by_cause.values())

    @property
    def waste_share(self) -> float | None:
        return self.waste.cost_usd / self.agent_cost_usd if self.agent_cost_usd > 0 else None

    def attempt(self, aid: str) -> AttemptFigures:
        for a in self.attempts:
            if a.id == aid:
                return a
        raise KeyError(aid)

    def task(self, tid: str) -> TaskFigures:
        for t in self.tasks:
            if t.id == tid:
                return t
        raise KeyError(tid)
