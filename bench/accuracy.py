"""Accuracy benchmark: tutorial baseline vs quick vs full training on the UIUC dataset.

Run from the repository root:  python bench/accuracy.py [--dataset PATH] [--folds 5]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sklearn.svm import LinearSVC  # noqa: E402

from training.artifacts import save_version  # noqa: E402
from training.evaluate import evaluate, merge_fold_metrics  # noqa: E402
from training.features import build_features  # noqa: E402
from training.io import load_dataset  # noqa: E402
from training.select import stratified_splits  # noqa: E402
from training.train import train_model  # noqa: E402

LATENCY_QUESTION = "How far is it from Denver to Aspen?"


def tutorial_cv(frame, folds: int, seed: int) -> dict:
    """The original tutorial: lower-case word TF-IDF + LinearSVC, coarse and fine separately."""
    scores = {"coarse": [], "fine": []}
    for train_index, test_index in stratified_splits(frame["fine"].to_numpy(), folds, seed):
        features = build_features("tutorial")
        train_matrix = features.fit_transform(frame["text"].iloc[train_index])
        test_matrix = features.transform(frame["text"].iloc[test_index])
        for task in scores:
            labels = frame[task].to_numpy()
            model = LinearSVC().fit(train_matrix, labels[train_index])
            scores[task].append(np.mean(model.predict(test_matrix) == labels[test_index]))
    return {
        "coarse_accuracy": float(np.mean(scores["coarse"])),
        "fine_accuracy": float(np.mean(scores["fine"])),
    }


def product_cv(frame, quick: bool, folds: int, seed: int, features: str = "default") -> dict:
    """CV of train_model in the given mode (model selection repeated inside every fold)."""
    results = []
    for train_index, test_index in stratified_splits(frame["fine"].to_numpy(), folds, seed):
        trained = train_model(
            frame.iloc[train_index],
            quick=quick,
            features=features,
            seed=seed,
            with_metrics=False,
        )
        results.append(evaluate(trained.classifier, frame.iloc[test_index]))
        print(
            f"  fold {len(results)}: coarse {results[-1]['coarse_accuracy']:.4f} "
            f"fine {results[-1]['fine_accuracy']:.4f}",
            flush=True,
        )
    return merge_fold_metrics(results)


def full_fit_profile(frame, quick: bool, seed: int) -> dict:
    """Training time of a fit on all rows, latency percentiles and size on disk."""
    started = time.perf_counter()
    result = train_model(frame, quick=quick, seed=seed)
    train_seconds = time.perf_counter() - started
    classifier = result.classifier
    for _ in range(20):
        classifier.predict(LATENCY_QUESTION)
    durations = []
    questions = list(frame["text"].sample(500, random_state=seed))
    for question in questions:
        begun = time.perf_counter()
        classifier.predict(question)
        durations.append(time.perf_counter() - begun)
    batch_started = time.perf_counter()
    classifier.predict_many(list(frame["text"]))
    batch_seconds = time.perf_counter() - batch_started
    with tempfile.TemporaryDirectory() as directory:
        info = save_version(result, Path(directory), "bench")
        size = sum(path.stat().st_size for path in info.path.iterdir())
    return {
        "train_seconds": train_seconds,
        "p50_ms": 1000 * float(np.percentile(durations, 50)),
        "p99_ms": 1000 * float(np.percentile(durations, 99)),
        "batch_per_question_ms": 1000 * batch_seconds / len(frame),
        "size_mb": size / 1e6,
        "result": result,
    }


def main() -> None:
    """Run every configuration and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", type=Path, default=REPO_ROOT / ".." / "shared" / "data" / "dataset.csv"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-full-cv",
        action="store_true",
        help="skip the slow CV of full training (selection in every fold)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    loaded = load_dataset(args.dataset)
    frame = loaded.frame
    print(
        f"dataset: {args.dataset.resolve()} rows={len(frame)} "
        f"duplicates_dropped={loaded.duplicates_dropped}"
    )
    print(f"python {platform.python_version()}, folds={args.folds}, seed={args.seed}\n")

    rows = []
    print("tutorial baseline ...", flush=True)
    started = time.perf_counter()
    baseline = tutorial_cv(frame, args.folds, args.seed)
    rows.append(
        ("tutorial: word TF-IDF + LinearSVC", baseline, None, time.perf_counter() - started)
    )
    for label, quick in (("default, quick", True), ("default, full (model selection)", False)):
        print(f"{label} ...", flush=True)
        profile = full_fit_profile(frame, quick, args.seed)
        if quick or not args.skip_full_cv:
            started = time.perf_counter()
            metrics = product_cv(frame, quick, args.folds, args.seed)
            elapsed = time.perf_counter() - started
        else:
            metrics, elapsed = profile["result"].metrics, None
        rows.append((label, metrics, profile, elapsed))
        if not quick:
            print(
                f"  chosen: coarse {profile['result'].params['coarse_model']}\n"
                f"          fine   {profile['result'].params['fine_model']}"
            )

    print()
    print(
        "| configuration | CV coarse acc | CV fine acc | coarse ECE | fine ECE "
        "| full fit (s) | p50 (ms) | p99 (ms) | batch (ms/q) | size (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, metrics, profile, _ in rows:

        def cell(key: str, metrics=metrics) -> str:
            value = metrics.get(key)
            return "" if value is None else f"{value:.4f}"

        prof = profile or {}
        extra = [
            f"{prof[k]:.2f}" if k in prof else ""
            for k in ("train_seconds", "p50_ms", "p99_ms", "batch_per_question_ms", "size_mb")
        ]
        print(
            f"| {label} | {cell('coarse_accuracy')} | {cell('fine_accuracy')} | "
            f"{cell('coarse_ece')} | {cell('fine_ece')} | " + " | ".join(extra) + " |"
        )

    starter = REPO_ROOT / "training" / "data" / "starter.csv"
    if starter.is_file():
        starter_frame = load_dataset(starter).frame
        trained = train_model(starter_frame, quick=True, with_metrics=False)
        metrics = evaluate(trained.classifier, frame)
        print(
            f"\nstarter.csv only ({len(starter_frame)} rows, quick) evaluated on the full "
            f"dataset: coarse {metrics['coarse_accuracy']:.4f}, "
            f"fine {metrics['fine_accuracy']:.4f}"
        )
    else:
        print("\nstarter.csv not present: starter-only evaluation skipped")


if __name__ == "__main__":
    main()
