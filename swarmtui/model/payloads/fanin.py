"""Payloads of fan-in: the merge queue, merges, integration checks, feature write-back."""

from __future__ import annotations

from pydantic import Field

from swarmtui.model.kinds import EventKind
from swarmtui.model.payloads.base import Payload, _register
from swarmtui.model.payloads.checks import Revert


@_register
class MergeQueued(Payload):
    KIND = EventKind.MERGE_QUEUED
    auto: bool
    by: str = ""
    command_id: int | None = None


@_register
class MergeStarted(Payload):
    KIND = EventKind.MERGE_STARTED


@_register
class MergeRefused(Payload):
    KIND = EventKind.MERGE_REFUSED
    reason: str
    conflicts: list[str] = Field(default_factory=list)
    dirty: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)  # protected paths the branch changes
    untracked: list[str] = Field(default_factory=list)  # untracked files the merge would replace


@_register
class MergeLanded(Payload):
    """A merge landed although its task had moved on meanwhile."""

    KIND = EventKind.MERGE_LANDED
    commit: str
    note: str = ""


@_register
class IntegrationFailed(Payload):
    KIND = EventKind.INTEGRATION_FAILED
    reason: str
    tail: str = ""
    landed: bool = False


@_register
class FeaturePassed(Payload):
    KIND = EventKind.FEATURE_PASSED
    file: str
    index: int


@_register
class FeatureWritebackFailed(Payload):
    KIND = EventKind.FEATURE_WRITEBACK_FAILED
    file: str
    index: int
    error: str
