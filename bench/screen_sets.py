"""Precision and recall of the injection screen on every labelled set, side by side.

The training part (``train.jsonl``) is scored in-sample (the model has seen it: an upper bound)
and its cross-validated figures are read from the shipped model; the held-out parts were never
used to train or tune anything: ``heldout.jsonl`` (the first split), ``heldout2.jsonl`` (written
apart, before the rules and model it measures), ``last.jsonl`` (written after the second round's
tuning) and ``heldout4.jsonl`` (written before the fourth round changed anything, measured
before and after it, never tuned on; its errors were read after, so it is seen now) and
``heldout5.jsonl`` (written before the fifth round changed anything, committed on its own,
measured before and once after it, never tuned on) and ``heldout6.jsonl`` (written after the
fifth round's tuning ended, committed, then measured once; never tuned on). Flagged counts as
positive; the uncertain band does not.

Run: python bench/screen_sets.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmtui.engine.guard.screen import screen  # noqa: E402
from swarmtui.engine.guard.screening import classifier  # noqa: E402

DATA = ROOT / "tests" / "data" / "screen"
SETS = (("train (in-sample)", "train.jsonl"), ("held out 1", "heldout.jsonl"),
        ("held out 2", "heldout2.jsonl"), ("last held out", "last.jsonl"),
        ("held out 4", "heldout4.jsonl"), ("held out 5", "heldout5.jsonl"),
        ("held out 6", "heldout6.jsonl"))


def score(path: Path) -> tuple[int, int, float, float]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    tp = fp = fn = 0
    for r in rows:
        flagged = screen(r["text"]).flagged
        mal = r["label"] == "malicious"
        tp += mal and flagged
        fp += (not mal) and flagged
        fn += mal and not flagged
    return (len(rows), tp + fn, tp / (tp + fp) if tp + fp else 1.0,
            tp / (tp + fn) if tp + fn else 1.0)


def main() -> None:
    model = classifier.load_model()
    print(f"{'set':<20} {'texts':>6} {'malicious':>10} {'precision':>10} {'recall':>8}")
    for name, file in SETS:
        path = DATA / file
        if not path.exists():
            print(f"{name:<20} (no {file})")
            continue
        n, pos, p, r = score(path)
        print(f"{name:<20} {n:>6} {pos:>10} {p:>10.3f} {r:>8.3f}")
    if model is not None:
        cv = model.meta.get("cv", {})
        print(f"{'train (5-fold CV)':<20} {model.meta.get('texts', '?'):>6} {'':>10} "
              f"{cv.get('flag_precision', 0):>10.3f} {cv.get('flag_recall', 0):>8.3f}")


if __name__ == "__main__":
    main()
