"""Scope check benchmark: out-of-scope recall and real questions refused, 5-fold.

The bundled out-of-scope set against the tutorial dataset's questions, split together into
stratified folds; in each fold the model is fitted (its threshold chosen by its own inner
folds) on four parts and judged on the fifth. Then the shipped model (starter questions and
the whole out-of-scope set) is judged on every tutorial question, none of which it saw, and
the in-process cost of checking one question is timed.

Run from the repository root:  python bench/scope.py [--dataset PATH] [--folds 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from training.data.datasets import load_dataset  # noqa: E402
from training.runtime.scope import fit_scope_model, load_out_of_scope  # noqa: E402

DEFAULT_DATASET = REPO_ROOT.parent / "shared" / "data" / "dataset.csv"
STARTER = REPO_ROOT / "training" / "data" / "starter.csv"


def cross_validate(questions: list[str], outside: list[tuple[str, str]], folds: int) -> dict:
    """Recall of out-of-scope and share of questions refused, over outer folds."""
    texts = questions + [text for _, text in outside]
    kinds = ["question"] * len(questions) + [kind.split(":")[0] for kind, _ in outside]
    labels = np.array([0] * len(questions) + [1] * len(outside))
    refused = caught = 0
    missed: Counter = Counter()
    by_kind: Counter = Counter(kind for kind in kinds if kind != "question")
    refused_examples: list[str] = []
    missed_examples: list[str] = []
    thresholds = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fold, (train_index, test_index) in enumerate(splitter.split(texts, labels)):
        started = time.perf_counter()
        model = fit_scope_model(
            [texts[i] for i in train_index if labels[i] == 0],
            [texts[i] for i in train_index if labels[i] == 1],
        )
        thresholds.append(model.threshold)
        verdicts = model.check_many([texts[i] for i in test_index])
        for i, verdict in zip(test_index, verdicts, strict=True):
            if labels[i] == 0 and not verdict.in_scope:
                refused += 1
                refused_examples.append(texts[i])
            elif labels[i] == 1 and verdict.in_scope:
                missed[kinds[i]] += 1
                missed_examples.append(texts[i])
            elif labels[i] == 1:
                caught += 1
        print(f"  fold {fold + 1}: fitted in {time.perf_counter() - started:.1f} s", flush=True)
    return {
        "recall": caught / len(outside),
        "refused": refused / len(questions),
        "refused_count": refused,
        "precision": caught / max(caught + refused, 1),
        "thresholds": thresholds,
        "missed_by_kind": {kind: (missed[kind], by_kind[kind]) for kind in sorted(by_kind)},
        "refused_examples": refused_examples,
        "missed_examples": missed_examples,
    }


def shipped_model_report(questions: list[str], outside: list[tuple[str, str]]) -> dict:
    """The model qcapp ships (starter questions + out-of-scope set) on unseen real questions."""
    starter = list(load_dataset(STARTER).frame["text"])
    started = time.perf_counter()
    model = fit_scope_model(starter, [text for _, text in outside])
    fit_seconds = time.perf_counter() - started
    verdicts = model.check_many(questions)
    refused = [q for q, v in zip(questions, verdicts, strict=True) if not v.in_scope]
    timings = []
    for _ in range(3):
        for question in questions[:2000]:
            begin = time.perf_counter()
            model.check(question)
            timings.append(time.perf_counter() - begin)
    return {
        "fit_seconds": fit_seconds,
        "metrics": model.metrics,
        "refused": len(refused) / len(questions),
        "refused_examples": refused[:15],
        "check_p50_us": statistics.median(timings) * 1e6,
        "check_p99_us": float(np.percentile(timings, 99)) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if not args.dataset.exists():
        sys.exit(f"no dataset at {args.dataset}; pass --dataset PATH")
    questions = list(load_dataset(args.dataset).frame["text"])
    outside = load_out_of_scope()
    print(f"{platform.node()} {platform.processor() or platform.machine()}, "
          f"{len(questions)} questions, {len(outside)} out-of-scope inputs")
    result = cross_validate(questions, outside, args.folds)
    print(f"{args.folds}-fold: out-of-scope recall {result['recall']:.4f}, "
          f"questions refused {result['refused']:.4f} ({result['refused_count']}), "
          f"precision of 'out of scope' {result['precision']:.4f}")
    print("  thresholds:", ", ".join(f"{t:.3f}" for t in result["thresholds"]))
    print("  missed by kind:", result["missed_by_kind"])
    print("  refused questions:", result["refused_examples"][:20])
    print("  missed inputs:", result["missed_examples"][:30])
    shipped = shipped_model_report(questions, outside)
    print(f"shipped model: fitted in {shipped['fit_seconds']:.1f} s, {shipped['metrics']}")
    print(f"  refuses {shipped['refused']:.4f} of the {len(questions)} unseen questions;"
          f" e.g. {shipped['refused_examples']}")
    print(f"  one check: p50 {shipped['check_p50_us']:.0f} µs, p99 {shipped['check_p99_us']:.0f} µs")


if __name__ == "__main__":
    main()
