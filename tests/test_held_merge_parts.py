"""The merge queue's hold on a compromised agent's work, on a real loop, store and git: an
attempt whose final message (or results summary) the screen held waits in the queue while the
others merge past it, merges once the text is approved, is refused once it is rejected, and a
hold on another attempt's text does not hold this one."""

from __future__ import annotations

from pathlib import Path

from swarmtui.engine.intents import EnqueueMerge
from swarmtui.model import payloads as p
from tests.test_parts_mergequeue import World


def held(w: World, tid: str, qid: str, source: str, attempt: int = 1) -> None:
    w.loop.emit(p.TextQuarantined(qid=qid, digest=qid * 4, source=source, reasons=["override"]),
                tid, attempt)


def test_held_final_message_waits_then_merges_on_approval(tmp_path: Path) -> None:
    w = World(tmp_path)
    held(w, "a", "q-final", "final message")
    held(w, "b", "q-old", "results summary", attempt=2)  # another attempt's text: no hold
    for tid in ("a", "b"):
        w.loop.ask(EnqueueMerge(w.ports.task(tid), auto=True, by="auto"))
    assert "approve q-final" in w.queue.held(w.ports.task("a"), 1)[2]
    w.tick()
    w.finish_merge()
    w.tick()
    assert w.trail()[2:] == [("merge_started", "b"), ("task_merged", "b")]
    assert [m.task for m in w.ports.state.merge_queue] == ["a"]  # waiting, not dropped
    w.loop.emit(p.TextApproved(qid="q-final", digest="q-final" * 4, by="cli"), "a")
    w.tick()
    w.finish_merge()
    assert w.trail()[-2:] == [("merge_started", "a"), ("task_merged", "a")]


def test_rejected_summary_refuses_the_merge(tmp_path: Path) -> None:
    w = World(tmp_path)
    held(w, "c", "q-summ", "results summary")
    w.loop.ask(EnqueueMerge(w.ports.task("c"), auto=True, by="auto"))
    w.tick()
    assert w.worker.held == [] and w.ports.state.merge_queue
    w.loop.emit(p.TextRejected(qid="q-summ", digest="q-summ" * 4, by="cli"), "c")
    w.tick()
    refused = w.ports.store.events(0, kind="merge_refused")
    assert len(refused) == 1 and "rejected its results summary" in refused[0].data["reason"]
    assert w.ports.state.merge_queue == [] and w.worker.held == []
