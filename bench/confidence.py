"""How often the top fine label is right at each fine confidence: where "not sure" starts.

Quick models are trained on 4/5 of the tutorial dataset and judged on the held-out fifth.

Run from the repository root:  python bench/confidence.py [--dataset PATH] [--folds 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from training.data.datasets import load_dataset  # noqa: E402
from training.tiers.selection import stratified_splits  # noqa: E402
from training.tiers.train import train_model  # noqa: E402

DEFAULT_DATASET = REPO_ROOT.parent / "shared" / "data" / "dataset.csv"
BINS = [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9, 1.01]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--folds", type=int, default=2, help="how many of the 5 folds to judge")
    args = parser.parse_args()
    if not args.dataset.exists():
        sys.exit(f"no dataset at {args.dataset}; pass --dataset PATH")
    frame = load_dataset(args.dataset).frame.reset_index(drop=True)
    confidence, right = [], []
    splits = list(stratified_splits(frame["fine"].to_numpy(), 5, 0))[: args.folds]
    for train_index, test_index in splits:
        result = train_model(frame.iloc[train_index], quick=True, with_metrics=False)
        labels = result.classifier.predict_labels(list(frame["text"].iloc[test_index]))
        confidence += list(labels.fine_confidence)
        right += list(np.array(labels.fine) == frame["fine"].iloc[test_index].to_numpy())
    confidence, right = np.array(confidence), np.array(right)
    print(f"{len(confidence)} held-out questions")
    for low, high in zip(BINS[:-1], BINS[1:], strict=True):
        inside = (confidence >= low) & (confidence < high)
        share = right[inside].mean() if inside.any() else float("nan")
        print(f"  {low:.1f}-{min(high, 1):.1f}: {inside.sum():5d} questions, right {share:.0%}")
    for threshold in (0.3, 0.4, 0.5):
        below = confidence < threshold
        print(
            f"  below {threshold}: {below.mean():.1%} of questions, right {right[below].mean():.0%}"
        )


if __name__ == "__main__":
    main()
