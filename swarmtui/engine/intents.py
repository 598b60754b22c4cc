"""Intents: what one part of the supervisor asks of another, as typed messages.

A part never holds another part. It asks: ``ask(EndAttempt(task, attempt))``, and the loop hands
the intent to the one part that owns its type (``run/wiring.py`` says which, once). An intent
that answers (``MergePending`` -> ``bool``) carries its answer's type, so ``ask`` is typed end to
end. Intents are handled at once, on the loop thread, in the asker's transaction: asking is a
call whose callee is decided in one place, not a queue, so the order of events stays what the
asker's code says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from swarmtui.model import AttemptRec, Cause, Health, TaskView
from swarmtui.model import payloads as p

if TYPE_CHECKING:
    from swarmtui.engine.guard.quarantine import Flag, Guard  # noqa: F401 - Guard: see GuardFor
    from swarmtui.engine.runtime.ingest import ResultsRefusal
    from swarmtui.store import Command

R = TypeVar("R", covariant=True)
R2 = TypeVar("R2")


class Intent(Generic[R]):
    """What one part asks of the part that owns the intent's type; ``R`` is its answer."""


class Ask(Protocol):
    def __call__(self, intent: Intent[R2], /) -> R2: ...


class NoOwner(LookupError):
    """An intent nobody owns: a wiring mistake, found the first time it is asked."""


# -- attempts: liveness ---------------------------------------------------------------------

@dataclass(frozen=True)
class EndAttempt(Intent[None]):
    """End the attempt's process (TERM, then KILL after ``run.kill_grace``)."""
    task: str
    attempt: int
    hard: bool = False


@dataclass(frozen=True)
class IsEnding(Intent[bool]):
    """Whether the attempt is being ended by the supervisor."""
    task: str
    attempt: int


@dataclass(frozen=True)
class AttemptExited(Intent[None]):
    """The attempt's exit is recorded: nothing is left to end."""
    task: str
    attempt: int


@dataclass(frozen=True)
class WrapperAlive(Intent[bool]):
    """Whether the attempt's wrapper still runs, as tmux last said."""
    rec: AttemptRec


# -- attempts: reading and outcomes ---------------------------------------------------------

@dataclass(frozen=True)
class ReadAttempt(Intent[None]):
    """Read what the attempt's files say now and turn it into events."""
    task: str
    attempt: int
    skip_progress: bool = False


@dataclass(frozen=True)
class SettleAttempt(Intent[None]):
    """The attempt's agent has exited: read its results, or fail it for the reason its exit
    record gives."""
    task: str
    attempt: int


@dataclass(frozen=True)
class SweepAttempts(Intent[None]):
    """Read every open attempt's files (after a missed or rearmed watch)."""


@dataclass(frozen=True)
class AfterExit(Intent[None]):
    """The agent exited without results: decide the cause and what follows."""
    task: TaskView
    exited: p.AgentExited
    session: str | None
    results_refused: ResultsRefusal | None = None


@dataclass(frozen=True)
class FailAttempt(Intent[bool]):
    """Fail the task's attempt with ``cause`` and act on the retry decision, only while it is
    the task's current, running or verifying attempt (``any_state``: the current attempt in
    whatever state, such as a passed one whose merge failed); True when it was failed."""
    task: str
    attempt: int
    cause: Cause
    reason: str
    health: Health | None = None
    not_before: float | None = None
    any_state: bool = False


@dataclass(frozen=True)
class Spawn(Intent[None]):
    """Start a new attempt of the task (the slot is taken in the log first)."""
    task: TaskView


@dataclass(frozen=True)
class SpawnMany(Intent[None]):
    """Start a new attempt of each task: their spawn events are one store transaction (one
    fsync), and no attempt's preparation begins before that transaction is durable."""
    tasks: tuple[TaskView, ...]


# -- health ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContextSignal(Intent[None]):
    """One ``context`` signal line the attempt's agent wrote."""
    task: str
    attempt: int
    obj: dict[str, object]
    offset: int


@dataclass(frozen=True)
class CheckReadiness(Intent[None]):
    """Run the task's readiness check when it is due."""
    task: TaskView
    began: float
    now: float


@dataclass(frozen=True)
class DiskIsFull(Intent[bool]):
    """Whether the disk is full (recorded, or too full to record)."""


@dataclass(frozen=True)
class CheckDiskRecovered(Intent[None]):
    """Put the reserve back and say so once the disk has room again."""


# -- integrate and review -------------------------------------------------------------------

@dataclass(frozen=True)
class StartVerify(Intent[None]):
    """Run the task's verify command on its current attempt."""
    task: TaskView


@dataclass(frozen=True)
class VerifyRunning(Intent[bool]):
    """Whether any verify command runs now."""


@dataclass(frozen=True)
class EnqueueMerge(Intent[None]):
    task: TaskView
    auto: bool
    by: str
    command_id: int | None = None


@dataclass(frozen=True)
class MergePending(Intent[bool]):
    """Whether the task waits in the merge queue or is merging."""
    task: str


@dataclass(frozen=True)
class ReviewMissing(Intent[str]):
    """Why the task may not merge yet under ``merge.review`` ("" when it may)."""
    task: TaskView


@dataclass(frozen=True)
class MergeHeld(Intent[str]):
    """Why the task's current attempt may not merge: the screen held what it said about its
    work, and the operator has not approved it ("" when it may merge)."""
    task: TaskView


@dataclass(frozen=True)
class MergeWorking(Intent[bool]):
    """Whether a merge runs now or waits in the queue."""


@dataclass(frozen=True)
class StartReview(Intent[None]):
    task: TaskView
    command: Command | None
    then_merge: bool = False


@dataclass(frozen=True)
class CheckResolve(Intent[None]):
    """``swarmtui resolve``: check the conflict, then start the resolving attempt."""
    task: TaskView
    command: Command


@dataclass(frozen=True)
class ForecastsSettled(Intent[bool]):
    """Whether the merge forecast has caught up with the log."""


# -- guard ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GuardFor(Intent["Guard"]):
    """A guard for one prompt; ``judge`` only off the loop (it may call the API)."""
    judge: bool = False


@dataclass(frozen=True)
class RecordHeld(Intent[None]):
    """Record the texts a guard held (``text_quarantined``), unless decided meanwhile."""
    flags: tuple[Flag, ...]
    task: str | None
    attempt: int | None


@dataclass(frozen=True)
class ScreenText(Intent[tuple[str, str]]):
    """Screen text on the loop (no judge): (what may enter a prompt, the qid if held)."""
    text: str
    source: str
    task: str | None
    attempt: int | None


@dataclass(frozen=True)
class DecideHeld(Intent[tuple[str, dict[str, object]]]):
    """The operator's ``approve`` or ``reject`` of a held text: (status, result)."""
    qid: str
    approve: bool
    by: str


# -- run ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Steer(Intent[tuple[str, dict[str, object]]]):
    """An operator's ``answer``, ``interrupt`` or ``send`` for a running attempt's live
    session: (status, result), ``deferred`` while it is delivered."""
    command: Command
    task: TaskView
    op: dict[str, object]


@dataclass(frozen=True)
class SteerableNow(Intent[str | None]):
    """Why the task's running attempt cannot be steered now (None: it can)."""
    task: TaskView


@dataclass(frozen=True)
class AnswerCommand(Intent[None]):
    """An inbox command's row and its ``command_applied`` event, in one transaction."""
    command_id: int
    kind: str
    source: str
    status: str
    result: dict[str, object]


@dataclass(frozen=True)
class StopRun(Intent[None]):
    """End the run (agents ended unless kept); ``answer`` is a `down` to answer at the end."""
    keep_agents: bool
    answer: tuple[int, str] | None = None


@dataclass(frozen=True)
class IsStopping(Intent[bool]):
    """Whether the run is being stopped."""


@dataclass(frozen=True)
class LeaveLoop(Intent[None]):
    """The run is over: the loop ends after this message (agents are the run's to keep)."""
    why: str
