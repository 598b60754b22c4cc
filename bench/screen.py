"""How well the injection screen does on the held-out corpus, and how fast it is.

Prints precision, recall and F1 (flagged counts as positive) overall and per malicious kind,
how many texts land in the uncertain band (where the optional judge would be asked), the
false alarms per benign kind, and the time per text. The held-out part was never used for
training the classifier or tuning the rules (see tests/data/screen/README.md).

Run: python bench/screen.py [--data tests/data/screen/heldout.jsonl] [--errors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmtui.engine.guard.screen import screen  # noqa: E402
from swarmtui.engine.guard.screening import classifier  # noqa: E402

DATA = ROOT / "tests" / "data" / "screen" / "heldout.jsonl"


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def timing(texts: list[str]) -> tuple[float, float]:
    """Median microseconds per call over all texts, and for one typical 500-character text."""
    for t in texts[:20]:
        screen(t)
    per: list[float] = []
    for t in texts:
        t0 = time.perf_counter()
        screen(t)
        per.append((time.perf_counter() - t0) * 1e6)
    typical = ("Implemented the retry backoff in scheduler.py and added tests for the reserve "
               "slot; all 48 tests pass, mypy and ruff are clean. ") * 5
    typical = typical[:500]
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(200):
            screen(typical)
        runs.append((time.perf_counter() - t0) / 200 * 1e6)
    return statistics.median(per), min(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--errors", action="store_true", help="print the misclassified texts")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    model = classifier.load_model()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tp = fp = fn = 0
    errors: list[str] = []
    for r in rows:
        v = screen(r["text"])
        mal = r["label"] == "malicious"
        c = counts[r["kind"]]
        c["n"] += 1
        c["flagged"] += v.flagged
        c["uncertain"] += v.uncertain
        tp += mal and v.flagged
        fp += (not mal) and v.flagged
        fn += mal and not v.flagged
        if mal != v.flagged:
            errors.append(f"  {'missed' if mal else 'false alarm'} [{r['kind']}] score "
                          f"{v.score:.3f} {list(v.flags)}: {r['text'][:100]!r}")
    p, rc, f = prf(tp, fp, fn)
    mal_rows = sum(1 for r in rows if r["label"] == "malicious")
    where = args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data
    print(f"screen on {where}: {len(rows)} texts ({mal_rows} malicious, "
          f"{len(rows) - mal_rows} benign)")
    if model is not None:
        print(f"thresholds: flagged >= {model.flag}, uncertain >= {model.uncertain} "
              f"(model trained on {model.meta.get('texts')} texts)")
    print(f"\noverall (flagged = positive): precision {p:.3f}  recall {rc:.3f}  F1 {f:.3f}  "
          f"(tp {tp}, fp {fp}, fn {fn})")
    unsure_mal = sum(c["uncertain"] for k, c in counts.items()
                     if any(r["kind"] == k and r["label"] == "malicious" for r in rows))
    unsure_all = sum(c["uncertain"] for c in counts.values())
    print(f"uncertain band: {unsure_all} texts ({unsure_mal} malicious among them)")
    kinds = {r["kind"]: r["label"] for r in rows}
    print("\nmalicious kinds        caught  (uncertain)  recall  precision*  F1*")
    for kind in sorted(k for k, lab in kinds.items() if lab == "malicious"):
        c = counts[kind]
        kp, kr, kf = prf(c["flagged"], fp, c["n"] - c["flagged"])
        print(f"  {kind:<20} {c['flagged']:>3}/{c['n']:<3} ({c['uncertain']})"
              f"{'':>9}{kr:.3f}   {kp:.3f}     {kf:.3f}")
    print("  * against all false alarms: a kind's precision is not defined on its own")
    print("\nbenign kinds           false alarms  (uncertain)")
    for kind in sorted(k for k, lab in kinds.items() if lab == "benign"):
        c = counts[kind]
        print(f"  {kind:<20} {c['flagged']:>3}/{c['n']:<3}      ({c['uncertain']})")
    med, typical = timing([r["text"] for r in rows])
    print(f"\ntime per text: median {med:.0f} us over the corpus; {typical:.0f} us for a "
          f"typical 500-character summary (pure Python, one core)")
    if args.errors and errors:
        print("\nmisclassified:")
        print("\n".join(errors))
    print("\nreproduce: python bench/train_screen.py && python bench/screen.py")


if __name__ == "__main__":
    main()
