"""Accuracy benchmark: tutorial baseline, feature ablation, quick, full and embeddings training.

Run from the repository root:  python bench/accuracy.py [--dataset PATH] [--folds 5]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sklearn.pipeline import FeatureUnion  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from training.data.datasets import load_dataset  # noqa: E402
from training.quality.evaluate import evaluate, merge_fold_metrics  # noqa: E402
from training.question_features.extractors import (  # noqa: E402
    build_features,
    char_tfidf,
    register_feature_set,
    word_tfidf,
)
from training.runtime.artifacts import save_version  # noqa: E402
from training.runtime.extras import available as embeddings_available  # noqa: E402
from training.runtime.sentence_encoder import clear_cache as clear_embedding_cache  # noqa: E402
from training.tiers.selection import stratified_splits  # noqa: E402
from training.tiers.train import train_model  # noqa: E402

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


def rss_delta_mb(version_dir: Path) -> float:
    """Resident memory added by loading a version and classifying one question (fresh process)."""
    script = (
        "import sys, gc\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "from training.runtime.artifacts import load_version\n"
        "before = rss()\n"
        f"model = load_version({str(version_dir)!r})\n"
        f"model.predict({LATENCY_QUESTION!r})\n"
        "gc.collect()\n"
        "print(rss() - before)\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout
    return float(output.strip().splitlines()[-1])


def full_fit_profile(frame, quick: bool, seed: int, features: str = "default") -> dict:
    """Training time of a fit on all rows, latency percentiles, size on disk and memory."""
    started = time.perf_counter()
    result = train_model(frame, quick=quick, features=features, seed=seed)
    train_seconds = time.perf_counter() - started
    classifier = result.classifier
    # Training memoised the dataset's embeddings; time real encoding instead of memo hits.
    clear_embedding_cache()
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
        memory = rss_delta_mb(info.path)
    return {
        "train_seconds": train_seconds,
        "p50_ms": 1000 * float(np.percentile(durations, 50)),
        "p99_ms": 1000 * float(np.percentile(durations, 99)),
        "batch_per_question_ms": 1000 * batch_seconds / len(frame),
        "size_mb": size / 1e6,
        "rss_mb": memory,
        "result": result,
    }


def _no_cues() -> FeatureUnion:
    """The default features without the question cues, to show what the cues add."""
    return FeatureUnion([("word", word_tfidf()), ("char", char_tfidf())])


def starter_row(frame) -> str:
    """Accuracy of a quick model trained on starter.csv alone, evaluated on the dataset."""
    starter = REPO_ROOT / "training" / "data" / "starter.csv"
    if not starter.is_file() or not (starter.parent / "README.md").is_file():
        return "starter.csv not present: starter-only evaluation skipped"
    starter_frame = load_dataset(starter).frame
    shared = len(set(starter_frame["text"]) & set(frame["text"]))
    if shared > len(starter_frame) // 2:
        # A placeholder sampled from the dataset would make this row meaningless.
        return (f"starter.csv shares {shared} of {len(starter_frame)} questions with the "
                "dataset (a sample of it, not the real starter set): evaluation skipped")
    trained = train_model(starter_frame, quick=True, with_metrics=False)
    metrics = evaluate(trained.classifier, frame)
    return (f"starter.csv only ({len(starter_frame)} rows, quick) evaluated on the full "
            f"dataset: coarse {metrics['coarse_accuracy']:.4f}, "
            f"fine {metrics['fine_accuracy']:.4f}")


COLUMNS = ("train_seconds", "p50_ms", "p99_ms", "batch_per_question_ms", "size_mb", "rss_mb")


def print_table(rows: list) -> None:
    """Markdown table of every configuration."""
    print("| configuration | CV coarse acc | CV fine acc | coarse ECE | fine ECE "
          "| full fit (s) | p50 (ms) | p99 (ms) | batch (ms/q) | size (MB) | RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, metrics, profile in rows:
        def cell(key: str, metrics=metrics) -> str:
            value = metrics.get(key)
            return "" if value is None else f"{value:.4f}"
        prof = profile or {}
        extra = [f"{prof[k]:.2f}" if k in prof else "" for k in COLUMNS]
        print(f"| {label} | {cell('coarse_accuracy')} | {cell('fine_accuracy')} | "
              f"{cell('coarse_ece')} | {cell('fine_ece')} | " + " | ".join(extra) + " |")


def main() -> None:
    """Run every configuration and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path,
                        default=REPO_ROOT / ".." / "shared" / "data" / "dataset.csv")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-full-cv", action="store_true",
                        help="skip the slow CV of full training (selection in every fold)")
    parser.add_argument("--skip-embeddings", action="store_true",
                        help="skip the configuration that needs the 'embeddings' extra")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    register_feature_set("bench-no-cues", _no_cues)
    loaded = load_dataset(args.dataset)
    frame = loaded.frame
    print(f"dataset: {args.dataset.resolve()} rows={len(frame)} "
          f"duplicates_dropped={loaded.duplicates_dropped}")
    print(f"python {platform.python_version()}, folds={args.folds}, seed={args.seed}\n")

    print("tutorial baseline ...", flush=True)
    rows = [("tutorial: word TF-IDF + LinearSVC", tutorial_cv(frame, args.folds, args.seed),
             None)]
    configs = [
        ("word + char n-grams, quick (no question cues)", True, "bench-no-cues", True),
        ("default, quick", True, "default", True),
        ("default, full (model selection)", False, "default", not args.skip_full_cv),
    ]
    if args.skip_embeddings:
        pass
    elif embeddings_available():
        configs.append(("embeddings, quick", True, "embeddings", True))
    else:
        print("the 'embeddings' extra is not installed: embeddings row skipped")
    for label, quick, features, with_cv in configs:
        print(f"{label} ...", flush=True)
        profile = full_fit_profile(frame, quick, args.seed, features)
        metrics = (product_cv(frame, quick, args.folds, args.seed, features) if with_cv
                   else profile["result"].metrics)
        rows.append((label, metrics, profile))
        if not quick:
            print(f"  chosen: coarse {profile['result'].params['coarse_model']}\n"
                  f"          fine   {profile['result'].params['fine_model']}")
    print()
    print_table(rows)
    print("\n" + starter_row(frame))


if __name__ == "__main__":
    main()
