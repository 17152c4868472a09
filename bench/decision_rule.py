"""How often the fine answer is not the most likely fine class, and what choosing that one would do.

The model answers the best fine class inside the most likely coarse class; a class of another
coarse class can then get more on its own. Quick models are trained on 4/5 of a dataset and
judged on the held-out fifth, with the coarse-first decision and with the most likely fine class
(its coarse class following).

Run from the repository root:  python bench/decision_rule.py [--dataset PATH] [--folds 5]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to judge")
    args = parser.parse_args()
    if not args.dataset.exists():
        sys.exit(f"no dataset at {args.dataset}; pass --dataset PATH")
    frame = load_dataset(args.dataset).frame.reset_index(drop=True)
    right = {"coarse first": [0, 0], "most likely fine": [0, 0]}
    differ = judged = 0
    for train_index, test_index in list(stratified_splits(frame["fine"].to_numpy(), 5, 0))[
        : args.folds
    ]:
        model = train_model(frame.iloc[train_index], quick=True, with_metrics=False).classifier
        texts = list(frame["text"].iloc[test_index])
        coarse, fine = model._probabilities(model._transform(texts), texts)
        joint = model._joint_fine(coarse, fine)
        coarse_first, fine_first = model._decide(coarse, joint)
        fine_best = joint.argmax(axis=1)
        gold_coarse = frame["coarse"].iloc[test_index].to_numpy()
        gold_fine = frame["fine"].iloc[test_index].to_numpy()
        coarse_labels, fine_labels = np.array(model.coarse_labels), np.array(model.fine_labels)
        for name, (c, f) in {
            "coarse first": (coarse_first, fine_first),
            "most likely fine": (model._fine_to_coarse[fine_best], fine_best),
        }.items():
            right[name][0] += int((coarse_labels[c] == gold_coarse).sum())
            right[name][1] += int((fine_labels[f] == gold_fine).sum())
        differ += int((fine_first != fine_best).sum())
        judged += len(test_index)
    print(f"{judged} held-out questions; the answer is not the most likely fine class for "
          f"{differ} ({differ / judged:.1%})")
    for name, (coarse_right, fine_right) in right.items():
        print(f"  {name:17} coarse {coarse_right / judged:.4f}  fine {fine_right / judged:.4f}")


if __name__ == "__main__":
    main()
