"""Context fit before spawning an agent: will its prompt and declared files fit the model's window?

An agent whose task does not fit its context window thrashes: it compacts, forgets and repeats
itself, or fails late and expensively. Before a spawn the engine asks (on a worker thread) how
many tokens the prompt and the task's declared files take. The API's ``count_tokens`` knows the
real tokenizer; without a key, or when that call fails or is slow, a local estimate stands in
and the result says so. Nothing here raises: the answer is advice, never a reason to crash.

The declared files are picked the way git sees the work tree (tracked files only) and matched
with the same reading of globs as the scope lock (``swarmtui.engine.scope.normalise`` and
``fnmatchcase``, whose ``*`` also crosses ``/``), and what is read is bounded in total and per
file, so a ``files = ["**"]`` task on a large repository costs a bounded read.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from swarmtui.engine.guard.screening.normalise import safe_excerpt
from swarmtui.engine.runtime.git import GitError, tracked_files
from swarmtui.engine.scope import normalise

if TYPE_CHECKING:  # the client is imported where it is used: it takes seconds to load
    import anthropic

DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_WINDOW = 200_000

Level = Literal["ok", "warn", "over"]

# -- estimating --------------------------------------------------------------------------------

# Tokenizers of the Claude family give English prose and code about 4 characters per token.
# Scripts they see less often cost far more: CJK ideographs, kana and Hangul run near one token
# per character, other non-Latin scripts (Cyrillic, Greek, Arabic, Devanagari, ...) near two
# characters per token. The estimate leans high on purpose: a warning that comes a little early
# costs less than an agent that runs out of room.
_LATIN_COST = 0.25
_OTHER_COST = 0.5
_CJK_COST = 1.0
_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x9FFF),  # CJK radicals, kana, CJK unified ideographs and their neighbours
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half- and full-width forms
    (0x1F000, 0x1FAFF),  # emoji and pictographs: usually a token or more each
    (0x20000, 0x3FFFF),  # CJK extensions
)


def _char_cost(cp: int) -> float:
    if cp < 0x0250 or 0x2000 <= cp <= 0x206F:  # Latin, Latin-1, Latin Extended, punctuation
        return _LATIN_COST
    for lo, hi in _CJK_RANGES:
        if lo <= cp <= hi:
            return _CJK_COST
    return _OTHER_COST


def estimate_tokens(text: str) -> int:
    """A local token estimate: ~4 characters per token for Latin text and code, at least one
    token per CJK character and two characters per token for other scripts (rounded up)."""
    if not text:
        return 0
    if text.isascii():  # the common case, without a per-character loop
        return math.ceil(len(text) * _LATIN_COST)
    return math.ceil(sum(_char_cost(ord(ch)) for ch in text))


def count_tokens(client: anthropic.Anthropic, model: str, system: str, text: str,
                 timeout: float) -> int:
    """The API's count of one user message ``text`` under ``system``; raises the client's
    errors (``fit`` is the caller that turns them into an estimate)."""
    import anthropic

    result = client.messages.count_tokens(
        model=model, messages=[{"role": "user", "content": text}],
        system=system if system else anthropic.omit, timeout=timeout)
    return int(result.input_tokens)


# -- fitting -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """How much of the window a task's prompt and files take. ``counted`` is True when the API
    counted the tokens; otherwise ``reason`` says why the figure is an estimate."""

    tokens: int
    window: int
    fraction: float
    counted: bool
    reason: str
    level: Level
    files: int = 0
    overhead: int = 0
    warn_at: float = 0.6

    @property
    def sentence(self) -> str:
        """One line for people, e.g. "the prompt and 3 declared files take about 41,200 tokens
        (estimate; no API key configured), 21% of the 200,000-token window"."""
        if self.files:
            noun = "file" if self.files == 1 else "files"
            subject = f"the prompt and {self.files} declared {noun} take"
        else:
            subject = "the prompt takes"
        if self.counted:
            amount, how = f"{self.tokens:,}", "counted by the API"
        else:
            shown = round(self.tokens, -2) if self.tokens >= 1000 else self.tokens
            amount = f"about {shown:,}"
            how = f"estimate; {self.reason}" if self.reason else "estimate"
        if self.overhead:
            how += f"; including {self.overhead:,} for the agent's own instructions"
        pct = self.fraction * 100
        share = "<1%" if 0 < pct < 1 else f"{pct:.0f}%"
        out = f"{subject} {amount} tokens ({how}), {share} of the {self.window:,}-token window"
        if self.level == "over":
            out += ": more than the window holds"
        elif self.level == "warn":
            out += f": above the {self.warn_at:.0%} warning mark"
        return out


def render(prompt: str, files: Sequence[tuple[str, str]]) -> str:
    """The text that is counted: the prompt, then each file under a header line with its path."""
    parts = [prompt]
    for path, content in files:
        parts.append(f"--- {path} ---\n{content}")
    return "\n\n".join(parts)


def level_of(fraction: float, warn_at: float) -> Level:
    if fraction >= 1.0:
        return "over"
    return "warn" if fraction >= warn_at else "ok"


def fit(prompt: str, files: Sequence[tuple[str, str]], *, window: int = DEFAULT_WINDOW,
        warn_at: float = 0.6, client: anthropic.Anthropic | None = None,
        api_key: str | None = None, base_url: str | None = None, model: str = DEFAULT_MODEL,
        timeout: float = 10.0, system: str = "", overhead: int = 0) -> Fit:
    """How much of a ``window``-token context ``prompt`` and ``files`` (path, content; read and
    bounded by the caller, see :func:`pick_files`) take. ``overhead`` adds the tokens the agent
    brings itself (its system prompt and tool definitions: tens of thousands for Claude Code).

    Counted through ``client`` (or one built from ``api_key`` and ``base_url``) when there is
    one; estimated otherwise, or when the count fails or takes over ``timeout`` seconds (one
    attempt, no retries: the estimate is good enough not to wait for). Never raises.
    """
    text = render(prompt, files)
    counted, reason, tokens = False, "", 0
    if client is None and not api_key:
        reason = "no API key configured"  # and the client (seconds to import) is not loaded
    else:
        counted, reason, tokens = _count(text, client, api_key, base_url, model, timeout,
                                         system)
    if not counted:
        tokens = estimate_tokens(system) + estimate_tokens(text)
    tokens += max(0, overhead)
    window = max(1, window)
    fraction = tokens / window
    return Fit(tokens=tokens, window=window, fraction=fraction, counted=counted, reason=reason,
               level=level_of(fraction, warn_at), files=len(files), overhead=max(0, overhead),
               warn_at=warn_at)


def _count(text: str, client: anthropic.Anthropic | None, api_key: str | None,
           base_url: str | None, model: str, timeout: float, system: str
           ) -> tuple[bool, str, int]:
    """(counted, why not, tokens) through the API."""
    import anthropic

    try:
        if client is None:
            client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout,
                                         max_retries=0)
        tokens = count_tokens(client.with_options(max_retries=0), model, system, text, timeout)
    except anthropic.APITimeoutError:
        return False, f"token count timed out after {timeout:g} s", 0
    except anthropic.APIConnectionError as e:
        return False, f"cannot reach the API to count tokens: {safe_excerpt(str(e))}", 0
    except anthropic.APIStatusError as e:
        return False, (f"token count failed: API error {e.status_code}: "
                       f"{safe_excerpt(e.message)}"), 0
    except Exception as e:  # noqa: BLE001 - the contract: an estimate, never an exception
        return False, f"token count failed: {type(e).__name__}: {safe_excerpt(str(e))}", 0
    return True, "", tokens


# -- picking the declared files ----------------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str  # "binary", "symlink", "not a regular file", "missing", "budget spent", ...
    size: int = 0  # bytes on disk that were not read


@dataclass(frozen=True)
class Picked:
    """The declared files read for a fit. ``truncated`` names files of which only the head was
    read; ``unread_bytes`` is what the budget left out (about a quarter of it in tokens), so a
    caller can tell how far the figure falls short. ``error`` is set when git could not list."""

    files: tuple[tuple[str, str], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    truncated: tuple[str, ...] = ()
    bytes_read: int = 0
    unread_bytes: int = 0
    error: str = ""


def matches(path: str, globs: Sequence[str]) -> bool:
    """The scope lock's reading of a task's ``files`` globs."""
    return any(fnmatchcase(path, normalise(g)) for g in globs)


def _is_binary(head: bytes) -> bool:
    """Git's own test: a NUL byte in the first 8,000 bytes."""
    return b"\0" in head[:8000]


def pick_files(repo: str | os.PathLike[str], globs: Sequence[str], *,
               max_total_bytes: int = 400_000, max_file_bytes: int = 100_000,
               timeout: float = 10.0) -> Picked:
    """The tracked files of ``repo`` that ``globs`` match, read in git's order up to
    ``max_file_bytes`` each and ``max_total_bytes`` in all. Binaries, symlinks (which could
    point outside the work tree) and tracked paths missing from it are skipped and reported.
    Never raises."""
    try:
        paths = [p for p in tracked_files(repo, timeout) if matches(p, globs)] if globs else []
    except (OSError, GitError, ValueError) as e:
        return Picked(error=safe_excerpt(str(e), 200))
    root = Path(repo)
    files: list[tuple[str, str]] = []
    skipped: list[Skipped] = []
    truncated: list[str] = []
    read_total = unread = 0
    for rel in paths:
        full = root / rel
        try:
            st = os.lstat(full)
        except OSError:
            skipped.append(Skipped(rel, "missing from the work tree"))
            continue
        if stat.S_ISLNK(st.st_mode):
            skipped.append(Skipped(rel, "symlink"))
            continue
        if not stat.S_ISREG(st.st_mode):
            skipped.append(Skipped(rel, "not a regular file"))
            continue
        want = min(max_file_bytes, max_total_bytes - read_total)
        if want <= 0:
            skipped.append(Skipped(rel, "budget spent", st.st_size))
            unread += st.st_size
            continue
        try:
            with open(full, "rb") as f:
                data = f.read(want)
        except OSError as e:
            skipped.append(Skipped(rel, f"unreadable: {safe_excerpt(e.strerror or str(e))}",
                                   st.st_size))
            continue
        if _is_binary(data):
            skipped.append(Skipped(rel, "binary", st.st_size))
            continue
        read_total += len(data)
        if st.st_size > len(data):
            truncated.append(rel)
            unread += st.st_size - len(data)
        files.append((rel, data.decode("utf-8", "replace")))
    return Picked(files=tuple(files), skipped=tuple(skipped), truncated=tuple(truncated),
                  bytes_read=read_total, unread_bytes=unread)
