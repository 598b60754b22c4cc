"""The statistical layer: a linear model over word and word-pair features, evaluated in pure
Python from the JSON file ``bench/train_screen.py`` writes.

Rules catch the shapes someone thought of; paraphrases and other languages slip between them.
A model learnt from labelled agent-to-agent text generalises a little further, and one linear
model is cheap to ship and to evaluate: scikit-learn is used only to train it, and ``features``
here is the very analyzer it was trained with, so both sides see identical features.
The loader reads the shipped file once; a missing or damaged file disables this layer
(``load_model`` returns None) instead of breaking the screen.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

FORMAT = 1
MAX_CHARS = 20_000
_TOKEN = re.compile(r"[^\W\d_]+|\d+|<\||\|>|\$\(|<\(|\[/?[a-z]+\]|[|`<>#]")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def tokens(text: str) -> list[str]:
    """Lower-case words, numbers folded to one token, and runs of CJK split into characters so
    that their pairs become the features (those scripts put no spaces between words)."""
    low = text[:MAX_CHARS].lower()
    toks = _TOKEN.findall(low)
    if any(c.isdigit() for c in low):
        toks = ["0" if t.isdigit() else t for t in toks]
    if not low.isascii() and _CJK.search(low):
        toks = [c for t in toks for c in (t if _CJK.search(t) else (t,))]
    return toks


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


# Word groups that carry across phrasings: a few hundred examples cannot teach every synonym,
# but "second person + guidance noun + word of invalidation + imperative" is a shape.
_GROUPS: dict[str, frozenset[str]] = {
    "you": _words("you your yourself yours"),
    "guidance": _words("instruction instructions guidance directions brief briefing prompt task "
                       "spec plan orders rules constraints restrictions guardrails policy "
                       "protocol setup objective mission"),
    "void": _words("superseded supersede supersedes outdated obsolete stale void invalid "
                   "cancelled canceled revoked withdrawn lifted optional irrelevant mistake "
                   "wrong decoy draft outranks override overrides ignore disregard forget "
                   "instead formality"),
    "modal": _words("must should need have"),
    "secret": _words("key keys token tokens secret secrets password passwords credentials env "
                     "ssh id_rsa printenv cookies kubeconfig environ"),
    "main": _words("main master production prod"),
    "authority": _words("operator supervisor admin administrator maintainer maintainers owner "
                        "root system team"),
    # authority claimed in plain words, what it is claimed for, and where secrets are moved
    "approval": _words("approved okayed signed waived agreed confirmed authorised authorized "
                       "allowed decided lifted cleared preapproved greenlit permitted"),
    "checks": _words("tests test suite verify review ci lint linter checks coverage scan hooks "
                     "pipeline workflow"),
    "sink": _words("readme commit branch tag summary notes docs changelog fixture fixtures "
                   "description comment handoff"),
    "meta": _words("injection injections attack attacks attacker payload payloads malicious "
                   "advisory cve example examples detect detects detected detection flag "
                   "flags flagged screen screening corpus docs"),
}
_ORDER = _words("ignore disregard forget run delete remove send upload print reveal push merge "
                "disable skip edit change replace set make copy paste include treat follow "
                "obey act pretend switch enable stop drop add write tell report mark commit "
                "install download fetch execute wipe erase use turn bypass comment nuke clean "
                "rewrite")
_REPORT = _words("added fixed implemented removed updated refactored wrote replaced reworked "
                 "migrated renamed deleted changed improved moved merged resolved investigated "
                 "tests test summary done verified revert fix feat chore docs ci build style "
                 "perf")
_LEAD = re.compile(r"(?:^|[.!?:;\n])\s*(?:please\s+)?([a-z]+)")
_PIPE = re.compile(r"\|\s*(?:sudo\s+)?(?:ba|z)?sh\b")


_MEMBERS: dict[str, tuple[str, ...]] = {}
for _name, _ws in _GROUPS.items():
    for _w in _ws:
        _MEMBERS[_w] = (*_MEMBERS.get(_w, ()), _name)


def groups(text: str, toks: list[str]) -> list[str]:
    """One ``g:`` feature per occurrence (at most eight) of each word group and shape."""
    counts: dict[str, int] = {}
    for t in toks:
        for name in _MEMBERS.get(t, ()):
            counts[name] = counts.get(name, 0) + 1
    past = sum(1 for t in toks if t.endswith("ed") and len(t) > 4)
    if past:
        counts["past"] = past
    low = text[:MAX_CHARS].lower()
    for lead in _LEAD.findall(low):
        name = "order" if lead in _ORDER else "report" if lead in _REPORT else ""
        if name:
            counts[name] = counts.get(name, 0) + 1
    counts["url"] = low.count("http://") + low.count("https://")
    counts["pipe_shell"] = len(_PIPE.findall(low)) if "|" in low else 0
    counts["quote"] = sum(low.count(q) for q in "`\"“«「")
    return [f"g:{name}" for name, n in sorted(counts.items()) for _ in range(min(n, 8))]


def features(text: str) -> list[str]:
    """Unigrams and bigrams of ``tokens`` plus the ``groups`` features; the analyzer for
    training and for evaluation."""
    toks = tokens(text)
    return [*(f"w:{t}" for t in toks), *(f"b:{a} {b}" for a, b in itertools.pairwise(toks)),
            *groups(text, toks)]


@dataclass(frozen=True)
class Model:
    terms: dict[str, tuple[float, float]]  # feature -> (idf, coefficient)
    intercept: float
    combine: tuple[float, float, float]  # rule strength weight, classifier weight, bias
    flag: float  # combined score at or above which text is flagged
    uncertain: float  # ... and above which it is uncertain
    meta: dict[str, Any]


SHORT = 12  # texts with fewer tokens get a proportionally smaller say


def shrink(z: float, intercept: float, n_tokens: int) -> float:
    """Pull the decision of a short text towards the prior: with l2 normalisation one word of
    a two-word text weighs as much as a whole paragraph, which is noise, not evidence."""
    return intercept + (z - intercept) * min(1.0, n_tokens / SHORT)


def decision(model: Model, text: str) -> tuple[float, list[tuple[str, float]]]:
    """The decision value, shrunk for short texts, and the features that pushed it up most."""
    z, top, n = raw_decision(model, text)
    return shrink(z, model.intercept, n), top


def raw_decision(model: Model, text: str) -> tuple[float, list[tuple[str, float]], int]:
    """The linear decision value exactly as trained (sublinear tf-idf, l2-normalised), the
    strongest positive word features and the number of tokens."""
    terms = model.terms
    feats = features(text)
    n = sum(1 for f in feats if f.startswith("w:"))
    counts = {f: c for f, c in Counter(feats).items() if f in terms}
    if not counts:
        return model.intercept, [], n
    vals = {f: (1.0 + math.log(c)) * terms[f][0] for f, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vals.values())) or 1.0
    contrib = [(f, v / norm * terms[f][1]) for f, v in vals.items()]
    z = model.intercept + sum(c for _, c in contrib)
    # word groups are not words of the text: an excerpt shows only what is there
    top = sorted((c for c in contrib if c[1] > 0 and not c[0].startswith("g:")),
                 key=lambda c: -c[1])[:4]
    return z, top, n


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def combined(model: Model, rule_strength: float, z: float) -> float:
    a, b, c = model.combine
    return sigmoid(a * rule_strength + b * z + c)


def from_json(data: dict[str, Any]) -> Model:
    if data.get("format") != FORMAT:
        raise ValueError(f"screen model format {data.get('format')!r}, expected {FORMAT}")
    terms = {str(k): (float(v[0]), float(v[1])) for k, v in data["terms"].items()}
    comb = data["combine"]
    return Model(terms=terms, intercept=float(data["intercept"]),
                 combine=(float(comb["rule"]), float(comb["classifier"]), float(comb["bias"])),
                 flag=float(data["thresholds"]["flag"]),
                 uncertain=float(data["thresholds"]["uncertain"]),
                 meta=dict(data.get("meta", {})))


@functools.cache
def load_model() -> Model | None:
    """The shipped model, read once; None when it is missing or unreadable."""
    try:
        raw = resources.files("swarmtui").joinpath("data", "screen_model.json").read_text(
            encoding="utf-8")
        return from_json(json.loads(raw))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
