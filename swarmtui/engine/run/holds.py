"""The quarantine part: guards for prompt assembly, the record of held texts, and the operator's
``approve`` and ``reject``.

Guards are built on the loop from the projection (which texts are released or refused) and
used in workers; what they hold comes back with the worker's result and is recorded here as
``text_quarantined``. Approving releases a text into every later prompt (and lets a spawned task
whose prompt was held start); rejecting keeps it out for good (and cancels such a task).
"""

from __future__ import annotations

from swarmtui.engine.guard.quarantine import QUARANTINE_DIR, Flag, Guard
from swarmtui.engine.guard.screening.judge import Judge, JudgeConfig
from swarmtui.engine.intents import DecideHeld, GuardFor, RecordHeld, ScreenText
from swarmtui.engine.ports import Ports, redactor_for
from swarmtui.model import payloads as p

JUDGE_CACHE = "screen-judgements.json"


class Holds:
    """Owns ``GuardFor``, ``RecordHeld``, ``ScreenText`` and ``DecideHeld``."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.folder = ports.swarm / QUARANTINE_DIR
        self.redact = redactor_for(ports)
        sc = ports.config.screen
        key = ports.agent_env.get(sc.api_key_env) or None
        self.judge = Judge(JudgeConfig(api_key=key, model=sc.model, timeout=sc.timeout,
                                       base_url=ports.agent_env.get(sc.base_url_env) or None),
                           cache_path=ports.swarm / JUDGE_CACHE) if (sc.judge and key) else None

    def guard(self, *, judge: bool = False) -> Guard:
        """A guard for one prompt; ``judge`` only off the loop (it may call the API)."""
        st = self.ports.state
        return Guard(released=st.released(), refused=st.refused(), folder=self.folder,
                     redact=self.redact, judge=self.judge if judge else None)

    def guard_for(self, it: GuardFor) -> Guard:
        return self.guard(judge=it.judge)

    def record_held(self, it: RecordHeld) -> None:
        self.record(list(it.flags), it.task, it.attempt)

    def screen_text(self, it: ScreenText) -> tuple[str, str]:
        return self.check(it.text, it.source, it.task, it.attempt)

    def decide_held(self, it: DecideHeld) -> tuple[str, dict[str, object]]:
        return self.decide(it.qid, approve=it.approve, by=it.by)

    def record(self, flags: list[Flag], task: str | None, attempt: int | None) -> None:
        for f in flags:
            held = self.ports.state.quarantine.get(f.qid)
            if held is not None and held.state != "held":
                continue  # decided meanwhile
            self.ports.emit(p.TextQuarantined(
                qid=f.qid, digest=f.digest, source=f.source, reasons=list(f.reasons),
                sentences=list(f.sentences), excerpt=f.excerpt, score=f.score, length=f.length,
                judged=f.judged), task, attempt)

    def check(self, text: str, source: str, task: str | None,
              attempt: int | None) -> tuple[str, str]:
        """Screen ``text`` on the loop (no judge): (what may enter a prompt, qid if held)."""
        g = self.guard()
        safe = g(text, source)
        self.record(g.flags, task, attempt)
        return safe, (g.flags[0].qid if g.flags else "")

    def decide(self, qid: str, *, approve: bool, by: str) -> tuple[str, dict[str, object]]:
        ports = self.ports
        if by.startswith("agent:"):
            # An agent must not release text an agent wrote: only the operator decides.
            return "refused", {"task": None, "reason": "only the operator can decide on held "
                               f"text; {by} asked"}
        held = ports.state.quarantine.get(qid)
        if held is None:
            return "failed", {"error": f"no held text {qid!r} (see `swarmtui status --json`, "
                              "alerts)"}
        if held.state != "held":
            return "refused", {"task": held.task, "reason": f"{qid} was already {held.state}"}
        if approve:
            ports.emit(p.TextApproved(qid=qid, digest=held.digest, by=by), held.task)
            return "done", {"task": held.task, "message": f"released {qid}: it enters later "
                            "prompts as written"}
        ports.emit(p.TextRejected(qid=qid, digest=held.digest, by=by), held.task)
        for t in list(ports.state.tasks.values()):
            if t.held == qid and t.state.value in ("pending", "blocked"):
                ports.emit(p.TaskCancelled(reason=f"its prompt was rejected ({qid})", by=by),
                         t.id)
        return "done", {"task": held.task, "message": f"rejected {qid}: it stays out of every "
                        "prompt"}
