"""Quarantine, not quoting: text one agent wrote reaches another agent's prompt only if the
screen clears it or the operator released it.

``Guard`` is what prompt assembly (in workers) calls on every piece of agent text on its way
into a prompt: handoff lines, summaries, verify output, file names, ledger lines, resolver
briefings, review inputs. Clean text passes; text the operator approved passes as written;
anything flagged (or uncertain, and judged malicious by the optional model-backed judge) is
replaced by a short withheld-notice that never contains the text, kept in full for the operator
(``.swarm/quarantine/<qid>.txt``, 0600), and reported back to the loop, which records it as a
``text_quarantined`` event. The id is derived from the digest of the normalised text, so the
same text flagged again (or a disguised copy of it) is the same quarantine.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from swarmtui.engine.guard.screen import ReasonCode, Verdict, screen, withheld_notice
from swarmtui.engine.guard.screening.judge import Judge
from swarmtui.engine.guard.screening.signals import safe_excerpt
from swarmtui.secrets import Redactor
from swarmtui.textsafe import clean_text, term_safe

QUARANTINE_DIR = "quarantine"
REJECTED_NOTICE = ("[withheld by swarmtui: text from {source} was rejected by the operator as a "
                   "possible prompt injection]")


def qid_of(digest: str) -> str:
    return "q-" + digest[:10]


@dataclass(frozen=True)
class Flag:
    """Held text, found by a guard, to be recorded by the loop."""

    qid: str
    digest: str
    source: str
    reasons: tuple[str, ...]
    sentences: tuple[str, ...]
    excerpt: str
    score: float
    length: int
    judged: str = ""


@dataclass
class Guard:
    """Screens text on its way into a prompt; safe to use from one worker thread at a time."""

    released: frozenset[str]
    refused: frozenset[str]
    folder: Path  # <repo>/.swarm/quarantine
    redact: Redactor = field(default_factory=Redactor)
    judge: Judge | None = None
    flags: list[Flag] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, text: str, source: str) -> str:
        if not text or not text.strip():
            return text
        text = self.redact(clean_text(text))
        v = screen(text, source=source)
        if v.digest in self.released:
            return text
        if v.digest in self.refused:
            return REJECTED_NOTICE.format(source=source)
        judged = ""
        held = v.flagged
        if not held and v.uncertain and self.judge is not None:
            j = self.judge.judge(text, source=source, digest=v.digest, hints=v.flags)
            if j.available:
                judged = f"{'malicious' if j.malicious else 'benign'} ({j.confidence:.0%})"
                held = bool(j.malicious)
        if not held:
            return text
        flag = self._hold(text, v, source, judged)
        return withheld_notice(v, flag.qid, source)

    def _hold(self, text: str, v: Verdict, source: str, judged: str) -> Flag:
        qid = qid_of(v.digest)
        flag = Flag(qid=qid, digest=v.digest, source=source,
                    reasons=tuple(r.code.value for r in v.reasons) or ("uncertain",),
                    sentences=tuple(r.sentence for r in v.reasons[:3]),
                    excerpt=term_safe(_quoted(v, text)),
                    score=round(v.score, 3), length=len(text), judged=judged)
        with self._lock:
            if all(f.digest != v.digest for f in self.flags):
                self.flags.append(flag)
        keep(self.folder, qid, text)
        return flag


def _quoted(v: Verdict, text: str) -> str:
    """What the alert quotes: the strongest rule's excerpt (words of the text itself; the
    classifier's reason lists features, which are not), else the text's opening."""
    return next((r.excerpt for r in v.reasons if r.code != ReasonCode.CLASSIFIER),
                safe_excerpt(text, 80))


def keep(folder: Path, qid: str, text: str) -> None:
    """The held text in full, for the operator (owner-only)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{qid}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
    except OSError:
        pass  # the event still records the reasons and an excerpt


def read_held(folder: Path, qid: str, limit: int = 200_000) -> str | None:
    try:
        with open(folder / f"{qid}.txt", encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return None
