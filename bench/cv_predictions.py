"""Out-of-fold predictions of one configuration, and McNemar's test between two of them.

    python bench/cv_predictions.py run --features default --quick --out light.json
    python bench/cv_predictions.py compare old.json new.json
    python bench/cv_predictions.py compare old.json new-1.json,new-2.json  (folds run apart)

`run` trains the configuration inside every fold of a stratified 5-fold split (seed 0, folds by
the fine label, as bench/accuracy.py) and writes every question's predicted labels with the
fold metrics and the time each fold took. `compare` pairs two such files question by question
(they must come from the same folds) and gives McNemar's exact test for coarse and fine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from training.data.datasets import load_dataset  # noqa: E402
from training.quality.evaluate import evaluate, merge_fold_metrics  # noqa: E402
from training.quality.flips import mcnemar  # noqa: E402
from training.tiers.selection import stratified_splits  # noqa: E402
from training.tiers.train import train_model  # noqa: E402

DEFAULT_DATASET = REPO_ROOT / ".." / "shared" / "data" / "dataset.csv"


def run(args: argparse.Namespace) -> None:
    """Cross-validate one configuration and write its out-of-fold predictions."""
    warnings.filterwarnings("ignore")
    frame = load_dataset(args.dataset).frame.reset_index(drop=True)
    predicted: list[dict | None] = [None] * len(frame)
    folds, seconds = [], []
    splits = stratified_splits(frame["fine"].to_numpy(), args.folds, args.seed)
    for number, (train_index, test_index) in enumerate(splits, start=1):
        if args.only and number not in args.only:
            continue
        started = time.perf_counter()
        trained = train_model(frame.iloc[train_index], quick=args.quick, features=args.features,
                              seed=args.seed, with_metrics=False)
        seconds.append(time.perf_counter() - started)
        test = frame.iloc[test_index]
        labels = trained.classifier.predict_labels(list(test["text"]))
        for position, row in enumerate(test_index):
            predicted[row] = {"coarse": labels.coarse[position], "fine": labels.fine[position]}
        folds.append(evaluate(trained.classifier, test))
        network = trained.params.get("network") or {}
        epochs = (f", {len(network['epochs'])} epochs, kept {network['best_epoch']}, "
                  f"{network.get('precision')} graph" if network.get("epochs") else "")
        print(f"fold {number}: coarse {folds[-1]['coarse_accuracy']:.4f} "
              f"fine {folds[-1]['fine_accuracy']:.4f} ({seconds[-1]:.0f} s training{epochs})",
              flush=True)
    merged = merge_fold_metrics(folds)
    print(f"mean: coarse {merged['coarse_accuracy']:.4f} fine {merged['fine_accuracy']:.4f} "
          f"ECE {merged['coarse_ece']:.4f} / {merged['fine_ece']:.4f}; "
          f"training {sum(seconds):.0f} s in all")
    payload = {
        "features": args.features, "quick": args.quick, "folds": args.folds, "seed": args.seed,
        "dataset": str(Path(args.dataset).resolve()), "python": platform.python_version(),
        "metrics": merged, "fold_seconds": seconds,
        "rows": [
            {"text": text, "coarse": coarse, "fine": fine, "predicted": guess}
            for text, coarse, fine, guess in zip(
                frame["text"], frame["coarse"], frame["fine"], predicted, strict=True)
        ],
    }
    Path(args.out).write_text(json.dumps(payload), encoding="utf-8")


def _read(paths: str) -> dict:
    """One predictions file, or several of the same folds' split (``a.json,b.json``) merged."""
    merged = None
    for path in paths.split(","):
        part = json.loads(Path(path).read_text(encoding="utf-8"))
        if merged is None:
            merged = part
            continue
        for row, other in zip(merged["rows"], part["rows"], strict=True):
            row["predicted"] = row["predicted"] or other["predicted"]
    return merged


def compare(args: argparse.Namespace) -> None:
    """McNemar's exact test of the second file's predictions against the first's."""
    old, new = _read(args.old), _read(args.new)
    if [r["text"] for r in old["rows"]] != [r["text"] for r in new["rows"]]:
        raise SystemExit("the two files hold different questions")
    pairs = [
        (a, b) for a, b in zip(old["rows"], new["rows"], strict=True)
        if a["predicted"] is not None and b["predicted"] is not None
    ]
    for task in ("coarse", "fine"):
        old_right = sum(a["predicted"][task] == a[task] and b["predicted"][task] != b[task]
                        for a, b in pairs)
        new_right = sum(a["predicted"][task] != a[task] and b["predicted"][task] == b[task]
                        for a, b in pairs)
        old_acc = sum(a["predicted"][task] == a[task] for a, _ in pairs) / len(pairs)
        new_acc = sum(b["predicted"][task] == b[task] for _, b in pairs) / len(pairs)
        test = mcnemar(old_right, new_right)
        print(f"{task}: {old_acc:.4f} -> {new_acc:.4f} on {len(pairs)} questions; "
              f"only old right {old_right}, only new right {new_right}, "
              f"McNemar exact p = {test['p_value']:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run")
    runner.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    runner.add_argument("--features", default="default")
    runner.add_argument("--quick", action="store_true")
    runner.add_argument("--folds", type=int, default=5)
    runner.add_argument("--seed", type=int, default=0)
    runner.add_argument("--only", type=int, nargs="*", help="fold numbers to run (1-based)")
    runner.add_argument("--out", type=Path, required=True)
    comparer = commands.add_parser("compare")
    comparer.add_argument("old", help="predictions file(s), comma-separated")
    comparer.add_argument("new", help="predictions file(s), comma-separated")
    args = parser.parse_args()
    run(args) if args.command == "run" else compare(args)


if __name__ == "__main__":
    main()
