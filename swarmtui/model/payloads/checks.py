"""Payloads of what is learnt about an attempt: progress, health, results, diff, forecast,
context fit, review, verification."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from swarmtui.model.kinds import EventKind, Health, Refusal
from swarmtui.model.payloads.base import Payload, _register


@_register
class Progress(Payload):
    KIND = EventKind.PROGRESS
    status: str
    n: int
    offset: int = 0  # byte offset in progress.md just past this line
    outputs: int | None = None
    reread: bool = False  # the file was rewritten: counting started again from its start


class HealthEvidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    silent_s: float | None = None
    idle_s: float | None = None
    intervals: float | None = None
    last_progress_at: float | None = None
    waiting_s: float | None = None
    note: str = ""
    context_pct: float | None = None  # health "context": the fill, its tokens and window
    tokens: int | None = None
    window: int | None = None
    check: str = ""  # health "check_failing": the check's last output line
    drift: list[str] = Field(default_factory=list)  # files changed outside the declared scope


@_register
class HealthChanged(Payload):
    KIND = EventKind.HEALTH
    health: Health
    evidence: HealthEvidence = Field(default_factory=HealthEvidence)


@_register
class Results(Payload):
    KIND = EventKind.RESULTS
    status: Literal["done", "failed", "blocked"]
    summary: str = ""
    files_modified: list[str] = Field(default_factory=list)
    do_not_revert: bool = False
    outputs: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


@_register
class ResultsInvalid(Payload):
    KIND = EventKind.RESULTS_INVALID
    error: str


@_register
class FileRefused(Payload):
    """An attempt's protocol file was not read: not a regular file, a link, or too large."""

    KIND = EventKind.FILE_REFUSED
    file: str
    why: str
    refusal: Refusal | None = None  # typed: what was wrong (None in logs written before it)
    limit: int | None = None  # the cap or depth it went over, when that was the reason


@_register
class Diff(Payload):
    KIND = EventKind.DIFF
    files: int
    insertions: int
    deletions: int
    head: str = ""


class Revert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    task: str
    file: str
    lines: int
    example: str = ""


@_register
class Forecast(Payload):
    KIND = EventKind.FORECAST
    target: Literal["clean", "conflict"] | None
    files: list[str] = Field(default_factory=list)
    conflicts_with: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)
    head: str = ""
    target_commit: str = ""
    error: str = ""


@_register
class ContextFit(Payload):
    KIND = EventKind.CONTEXT_FIT
    tokens: int
    window: int
    fraction: float
    counted: bool
    level: str
    sentence: str = ""


@_register
class ReviewRecorded(Payload):
    """A model's review of the attempt (``ok`` False: no review, and ``error`` says why)."""

    KIND = EventKind.REVIEW
    ok: bool
    verdict: Literal["approve", "request_changes", "reject"] | None = None
    confidence: float = 0.0
    summary: str = ""
    concerns: list[dict[str, Any]] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str = ""
    error: str = ""


@_register
class VerifyStarted(Payload):
    KIND = EventKind.VERIFY_STARTED
    command: str = ""


@_register
class VerifyPassed(Payload):
    KIND = EventKind.VERIFY_PASSED
    code: int | None = 0
    tail: str = ""
    seconds: float = 0.0


@_register
class VerifyFailed(Payload):
    KIND = EventKind.VERIFY_FAILED
    code: int | None
    tail: str = ""
    seconds: float = 0.0
    timed_out: bool = False
