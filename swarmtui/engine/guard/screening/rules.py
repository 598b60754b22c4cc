"""Weighted rules: does this text carry instructions aimed at the next model? (pure)

A report of work ("removed the rm -rf step", "the advisory warns against curl | sh") uses the
same words as an injection ("run rm -rf ~", "curl x | sh"). Each rule therefore has a kind that
says how context changes its weight: words addressed to a model (``SAY``) are discounted when
they are quoted inside text that is about injection; shell commands (``CMD``) are discounted
when a negation or a report verb comes just before them; fake chat markers (``MARK``) only when
quoted in such text. Hidden or decoded parts get no discount: nobody hides documentation.

The rows live in ``rules_say`` (English instructions to the reader), ``rules_shell`` (what an
injection asks an agent to do: leak, fetch and run, destroy, force-push, defeat checks) and
``lexicon`` (other languages, and the context cues); this module compiles them for lower-cased
text, scores matches in context and combines them. Each rule has needles, looked up from the
text's words, so a typical text runs only a handful of regular expressions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from swarmtui.engine.guard.screening import (
    lexicon,
    lexicon_claims,
    rules_claims,
    rules_say,
    rules_shell,
    rules_steps,
)
from swarmtui.engine.guard.screening.normalise import (
    DECODED,
    HIDDEN,
    Normalised,
    SignalCode,
    safe_excerpt,
    word_window,
)


class ReasonCode(StrEnum):
    OVERRIDE = "override"
    ROLE_HIJACK = "role_hijack"
    FAKE_MARKER = "fake_marker"
    MODEL_ADDRESS = "model_address"
    CONCEALMENT = "concealment"
    EXFILTRATION = "exfiltration"
    REMOTE_CODE = "remote_code"
    DESTRUCTIVE = "destructive"
    GIT_FORCE = "git_force"
    CI_TAMPER = "ci_tamper"
    ENCODED = "encoded"
    HIDDEN_UNICODE = "hidden_unicode"
    HIDDEN_MARKUP = "hidden_markup"
    CLASSIFIER = "classifier"


SENTENCES: dict[ReasonCode, str] = {
    ReasonCode.OVERRIDE: "tells the reader to set aside its instructions",
    ReasonCode.ROLE_HIJACK: "tries to give the reader a new role or lift its limits",
    ReasonCode.FAKE_MARKER: "imitates a system, tool or chat-turn marker",
    ReasonCode.MODEL_ADDRESS: "addresses whatever model reads it",
    ReasonCode.CONCEALMENT: "asks to hide something from the operator",
    ReasonCode.EXFILTRATION: "asks to reveal or send secrets, keys or the environment",
    ReasonCode.REMOTE_CODE: "runs code fetched from the network",
    ReasonCode.DESTRUCTIVE: "asks for a destructive command",
    ReasonCode.GIT_FORCE: "asks to rewrite or force-push shared git history",
    ReasonCode.CI_TAMPER: "asks to disable checks or tamper with CI or verify",
    ReasonCode.ENCODED: "hides instructions in an encoded blob",
    ReasonCode.HIDDEN_UNICODE: "uses invisible or look-alike characters",
    ReasonCode.HIDDEN_MARKUP: "hides instructions in comments or hidden markup",
    ReasonCode.CLASSIFIER: "reads like an injection to the statistical model",
}

SAY, CMD, MARK = lexicon.SAY, lexicon.CMD, lexicon.MARK
R = ReasonCode


@dataclass(frozen=True)
class Rule:
    code: ReasonCode
    weight: float
    kind: str
    needles: frozenset[str]
    rx: re.Pattern[str]
    lang: str = "en"
    word_start: bool = False  # the pattern began with \\b (checked after the match)


@dataclass(frozen=True)
class Hit:
    code: ReasonCode
    weight: float
    excerpt: str
    origin: SignalCode | None
    lang: str = "en"


def _prep(pattern: str) -> tuple[re.Pattern[str], bool]:
    """Compile ``pattern`` for matching lower-cased text (IGNORECASE costs several times more)
    and drop a leading ``\\b`` in favour of a check after the match, which keeps the regex
    engine's fast scan for the first character."""
    low = re.sub(r"\\.|[A-Z]", lambda m: m.group() if m.group()[0] == "\\" else m.group().lower(),
                 pattern)
    # "[^.\n]" keeps a match inside one sentence; a dot inside a path or URL does not end one
    low = low.replace("[^.\\n]", "(?:[^.\\n]|\\.(?=\\S))")
    word_start = bool(re.match(r"\\b(?:\(\?:)?[a-z]", low))
    return re.compile(low[2:] if word_start else low), word_start


def _rule(code: ReasonCode, weight: float, kind: str, needles: str, pattern: str,
          lang: str = "en") -> Rule:
    rx, word_start = _prep(pattern)
    return Rule(code, weight, kind, frozenset(n for n in needles.lower().split("|") if n), rx,
                lang, word_start)


def _find(rule: Rule, low: str) -> re.Match[str] | None:
    pos = 0
    while True:
        m = rule.rx.search(low, pos)
        if m is None or not rule.word_start:
            return m
        s = m.start()
        if s == 0 or not (low[s - 1].isalnum() or low[s - 1] == "_"):
            return m
        pos = s + 1


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, compiled once: English instructions, shell and exfiltration, other languages."""
    rows = [(*row, "en") for row in rules_say.ROWS] + [*rules_shell.ROWS, *rules_claims.ROWS,
                                                           *lexicon.ROWS, *lexicon_claims.ROWS,
                                                           *rules_steps.ROWS]
    return tuple(_rule(ReasonCode(code), weight, kind, needles, pattern, lang)
                 for code, weight, kind, needles, pattern, lang in rows)


# -- context --------------------------------------------------------------------------------

_QUOTE = re.compile(r"`[^`\n]{1,400}`|\"[^\"\n]{1,400}\"|“[^”\n]{1,400}”|«[^»\n]{1,400}»|"
                    r"::\w+\[[^\]\n]{1,400}\]|\([^()\n]{1,300}\)|（[^（）\n]{1,300}）|"
                    r"「[^」\n]{1,400}」|„[^“”\n]{1,400}[“”]|(?<!\w)'[^'\n]{3,300}'(?!\w)|"
                    r"```.{0,4000}?```|(?:^|\n)>[^\n]*", re.DOTALL)
_NEGATION = re.compile(
    r"\b(?:do not|don't|dont|never|avoid(?:s|ed|ing)?|no longer|instead of|rather than|without|"
    r"refuses?|refused|prevents?|prevented|blocks?|blocked|rejects?|rejected|forbids?|forbidden|"
    r"disallows?|not|warns? (?:against|about)|warning against|removed|replaced|deleted|dropped|"
    r"remove|removes|removing|drop|drops|replace|replaces|ban|bans|forbid|used|ran|"
    r"that called|delete the (?:old|unused|legacy)|"
    r"fixed|reverted|guarded|detects?|detected|catches|caught|flags?|flagged|used to|was|were|"
    r"had been|previously|vulnerable|exploit\w*|instead|unsafe|dangerous|stop using|"
    r"stopped|such as|like|e\.g\.|append(?:ing|ed)|planted|injected|no|none|nothing)\b"
    r"[^.\n]{0,50}$",
    re.IGNORECASE)


_COMMIT = re.compile(r"(?:(?:fix|feat|docs|chore|test|tests|refactor|ci|build|perf|style|"
                     r"revert|security)(?:\([\w./-]{1,30}\))?!?:|revert \"|merge (?:branch|pull))")
_URL = re.compile(r"\b(?:https?|ftp)://\S+|`[^`\n]*`")


def _meta(low: str) -> float:
    """How much the text is about injection: 2 when it names the topic, 1 when it only
    suggests an example or a discussion, 0 otherwise. URLs and code spans do not count (an
    attacker's host name is not a topic); identifiers count word by word."""
    prose = _URL.sub(" ", low).replace("_", " ")
    if lexicon.META_STRONG.search(prose):
        return 2
    return 1 if lexicon.META_WEAK.search(prose) else 0


def _about(norm: Normalised) -> bool:
    return _meta(norm.segments[0].text.lower() if norm.segments else "") == 2


def _inside(spans: Sequence[tuple[int, int]], pos: int) -> bool:
    return any(a <= pos < b for a, b in spans)


# Weight kept by a match: (quoted and about injection, names the topic, suggests it, quoted).
_DISCOUNTS = {MARK: (0.3, 0.6, 0.85, 1.0), CMD: (0.3, 0.5, 0.8, 1.0), SAY: (0.3, 0.45, 0.75, 0.85)}


def _factor(rule: Rule, low: str, start: int, quoted: bool, meta: float,
            address: bool) -> float:
    """How much of a rule's weight a match keeps in its context."""
    both, strong, weak, quote = _DISCOUNTS[rule.kind]
    f = (both if quoted and meta else strong if meta == 2 else weak if meta == 1
         else quote if quoted else 1.0)
    before = low[max(0, start - 60): start]
    if rule.kind == CMD or (rule.code in _ACTS and rule.kind == SAY):
        if _NEGATION.search(before[-40:]) or lexicon.NEGATION.search(before[-40:]):
            f *= 0.4
        elif _COMMIT.match(low):
            f *= 0.6  # a commit message names the command it fixes, guards or removes
    if rule.kind == SAY and rules_claims.REPORTED.search(before):
        f *= 0.5  # words reported ("its description claims..."), not said
    if address and f >= 0.55:
        f *= 1.15
    return f


_ACTS = frozenset({ReasonCode.CI_TAMPER, ReasonCode.DESTRUCTIVE})
_LETTERS = re.compile(r"[^\W\d_]+")
_KEY = 5  # a needle that starts with letters is looked up by its first five of them


@dataclass(frozen=True)
class _Index:
    """Which rules could match, found from the words of a text without running any regex: a
    prefilter (false positives only cost a regex search)."""
    by_key: dict[str, tuple[int, ...]]  # word prefix -> rules
    by_sub: tuple[tuple[str, tuple[int, ...]], ...]  # other ASCII needles, tested with ``in``
    by_uni: tuple[tuple[str, tuple[int, ...]], ...]  # non-ASCII needles, on non-ASCII text

    @classmethod
    def build(cls, rules: Sequence[Rule]) -> _Index:
        keys: dict[str, list[int]] = {}
        sub: dict[str, list[int]] = {}
        uni: dict[str, list[int]] = {}
        for i, r in enumerate(rules):
            for n in r.needles:
                lead = _LETTERS.match(n)
                if not n.isascii():
                    uni.setdefault(n, []).append(i)
                elif lead:
                    keys.setdefault(lead.group()[:_KEY], []).append(i)
                else:
                    sub.setdefault(n, []).append(i)
        return cls({k: tuple(v) for k, v in keys.items()},
                   tuple((k, tuple(v)) for k, v in sub.items()),
                   tuple((k, tuple(v)) for k, v in uni.items()))

    def candidates(self, low: str) -> list[int]:
        found: set[int] = set()
        for w in set(_LETTERS.findall(low)):
            for k in {w[:3], w[:4], w[:5]}:
                found.update(self.by_key.get(k, ()))
        for n, idx in self.by_sub:
            if n in low:
                found.update(idx)
        if not low.isascii():
            for n, idx in self.by_uni:
                if n in low:
                    found.update(idx)
        return sorted(found)


@functools.cache
def _index() -> _Index:
    return _Index.build(all_rules())


def match(norm: Normalised, rules: Sequence[Rule] | None = None) -> list[Hit]:
    """Every rule match in every segment, weighted by its context."""
    hits: list[Hit] = []
    active = all_rules() if rules is None else tuple(rules)
    index = _index() if rules is None else _Index.build(active)
    for seg in norm.segments:
        low = seg.text.lower()
        shown = seg.text if len(low) == len(seg.text) else low
        hidden = seg.origin is not None and (seg.origin in HIDDEN or seg.origin in DECODED)
        context: tuple[list[tuple[int, int]], float, bool] | None = None
        for i in index.candidates(low):
            rule = active[i]
            m = _find(rule, low)
            if m is None:
                continue
            if hidden:  # a role block quoted in text about injection is an example, not a turn
                f = 0.6 if seg.origin in _ROLES and _about(norm) else 1.15
            else:
                if context is None:  # computed only for segments that match something
                    context = ([mm.span() for mm in _QUOTE.finditer(low)], _meta(low),
                               lexicon.ADDRESS.search(low) is not None)
                spans, meta, address = context
                f = _factor(rule, low, m.start(), _inside(spans, m.start()), meta, address)
            ex = word_window(shown, m.start(), m.end())
            hits.append(Hit(rule.code, min(0.97, rule.weight * f), safe_excerpt(ex),
                            seg.origin, rule.lang))
        if rules is None and seg.origin is None and _GUIDANCE.search(low):
            spread = _spread_override(low)
            if spread is not None:
                if context is None:
                    context = ([mm.span() for mm in _QUOTE.finditer(low)], _meta(low),
                               lexicon.ADDRESS.search(low) is not None)
                f = _factor(_SPREAD, low, spread.start(), False, context[1], context[2])
                hits.append(Hit(ReasonCode.OVERRIDE, _SPREAD.weight * f,
                                safe_excerpt(shown[spread.start(): spread.end()]), None))
    return hits


# A paraphrased override spreads over sentences: guidance is declared void, the reader is
# addressed and told what to do instead. All four within two sentences make a weak hit.
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;\n]*")
_GUIDANCE = re.compile(
    r"\b(?:instructions?|guidance|directions|brief(?:ing)?|prompt|task (?:text|spec|description|"
    r"file)|spec(?:ification)?|plan|orders|rules|constraints|restrictions|guardrails|"
    r"polic(?:y|ies)|protocol|configuration|setup|objective|assignment|mission|intent)\b")
_VOID = re.compile(
    r"\b(?:supersed\w*|outdated|out of date|obsolete|stale|void|invalid|cancel+ed|revoked|"
    r"withdrawn|lifted|no longer|not binding|optional|irrelevant|mistaken|a mistake|wrong|old "
    r"plan|decoy|draft|outrank\w*|overrid\w*|corrected|don'?t|do not|ignore|disregard|forget|"
    r"set aside|instead)\b")
_YOU = re.compile(r"\b(?:you|your|yourself)\b|\b(?:next|continuing|following) (?:agent|model|"
                  r"worker)\b|\bwhoever\b")
_DO = re.compile(r"\b(?:must|should|need to|have to|only thing|act on|is to|are to|run|merge|"
                 r"push|delete|open|send|upload|write|edit|commit|approve)\b")


def _spread_override(low: str) -> re.Match[str] | None:
    sentences = list(_SENTENCE.finditer(low[:8000]))[:200]
    for i, first in enumerate(sentences):
        window = low[first.start(): sentences[min(i + 1, len(sentences) - 1)].end()]
        if all(rx.search(window) for rx in (_GUIDANCE, _VOID, _YOU, _DO)):
            return first
    return None


_SPREAD = Rule(ReasonCode.OVERRIDE, 0.4, SAY, frozenset(), re.compile("$^"))


# Signals of hidden Unicode, in the order their examples are preferred.
_UNICODE_SIGNALS = (SignalCode.TAG_CHARS, SignalCode.VARIATION_SELECTORS, SignalCode.ZERO_WIDTH,
                    SignalCode.BIDI_CONTROL, SignalCode.HOMOGLYPHS, SignalCode.LEETSPEAK,
                    SignalCode.COMPATIBILITY_FORMS)
# Where an instruction found inside counts once more: origins of the segment, and the reason.
_MARKUP = frozenset({SignalCode.HTML_COMMENT, SignalCode.HIDDEN_HTML})
_ROLES = frozenset({SignalCode.ROLE_FENCE, SignalCode.ROLE_OBJECT})
_CARRIERS = ((DECODED, R.ENCODED), (_MARKUP, R.HIDDEN_MARKUP), (_ROLES, R.FAKE_MARKER))
# Inside hidden markup or a role block, words addressed to a reader and an order are enough:
# nobody hides a note to a model for a person to read.
_HIDDEN_TO = re.compile(
    r"\b(?:agents?|assistants?|models?|ai|llm|bot|next \w+|whoever|you|your|dear|note to|"
    r"instructions? for|directive|priority|system)\b")
_HIDDEN_DO = re.compile(
    r"\b(?:must|should|need to|is to|are to|do it|now|please|ignore|disregard|forget|delete|"
    r"remove|push|merge|upload|send|copy|write|add|print|run|set|disable|skip|report|say|"
    r"approve|replace|export|commit|install|change|turn|lower|mark|e-?mail|include|read|put|"
    r"may|can|allowed)\b")
_HIDDEN_ORDER = re.compile(
    r"(?:^|[.!?:;]\s)\s*(?:please\s+)?(?:ignore|disregard|forget|delete|remove|push|merge|"
    r"upload|send|copy|disable|skip|approve|export|install|e-?mail|print|run|change|replace|"
    r"write|commit|release|grant|lift|turn off)\b")


def _unicode_weight(norm: Normalised) -> float:
    """How suspicious the hidden or look-alike characters are on their own (0: none)."""
    zw = norm.count(SignalCode.ZERO_WIDTH)
    return max(
        0.75 if norm.has(SignalCode.TAG_CHARS) else 0.0,
        0.7 if norm.has(SignalCode.VARIATION_SELECTORS) else 0.0,
        0.2 if zw >= 3 else 0.15 if zw else 0.0,
        0.2 if norm.has(SignalCode.BIDI_CONTROL) else 0.0,
        0.25 if norm.count(SignalCode.HOMOGLYPHS) >= 2 else 0.2 if norm.has(
            SignalCode.HOMOGLYPHS) else 0.0,
        0.2 if norm.has(SignalCode.LEETSPEAK) else 0.0,
        0.1 if norm.count(SignalCode.COMPATIBILITY_FORMS) >= 4 else 0.0,
    )


def signal_hits(norm: Normalised, instruction_hits: Sequence[Hit]) -> list[Hit]:
    """Hits for the tricks normalisation undid. Alone, invisible or look-alike characters only
    make text uncertain (code and other scripts have them too); smuggled payloads, or an
    instruction found once the disguise is removed, make it flagged."""
    out: list[Hit] = []
    backed = any(h.weight >= 0.3 for h in instruction_hits)
    unicode_w = _unicode_weight(norm)
    if unicode_w:
        ex = next((s.example for s in norm.signals if s.code in _UNICODE_SIGNALS and s.example),
                  "")
        out.append(Hit(R.HIDDEN_UNICODE, max(unicode_w, 0.7) if backed else unicode_w, ex, None))
    for origin, code in _CARRIERS:
        inside = [h for h in instruction_hits if h.origin in origin and h.weight >= 0.3]
        if inside:
            quoted = code is R.FAKE_MARKER and _about(norm)
            out.append(Hit(code, 0.4 if quoted else 0.7, inside[0].excerpt, inside[0].origin))
    roles = [s for s in norm.signals if s.code in _ROLES]
    if roles:  # imitates a system or instruction message, whatever it says
        out.append(Hit(R.FAKE_MARKER, 0.25, roles[0].example, roles[0].code))
    for seg in norm.segments:
        if seg.origin in _MARKUP or seg.origin in _ROLES:
            low = seg.text.lower()
            if (_HIDDEN_TO.search(low) and _HIDDEN_DO.search(low)) or _HIDDEN_ORDER.search(low):
                code = R.HIDDEN_MARKUP if seg.origin in _MARKUP else R.FAKE_MARKER
                w = 0.35 if code is R.FAKE_MARKER and _about(norm) else 0.6
                out.append(Hit(code, w, safe_excerpt(seg.text), seg.origin))
                break
    return out


def strength(hits: Iterable[Hit]) -> float:
    """Noisy-or of the strongest hit of each code: independent reasons add up, repeats of one
    reason do not."""
    best: dict[ReasonCode, float] = {}
    for h in hits:
        best[h.code] = max(best.get(h.code, 0.0), h.weight)
    miss = 1.0
    for w in best.values():
        miss *= 1.0 - w
    return 1.0 - miss
