"""Serving cost of trained versions side by side: latency, size on disk, resident memory.

    python bench/tiers.py light=instance/models/V1 embeddings=instance/models/V2 ...

For each version: the training time its params record, single-question latency in process
(p50/p99 over 500 dataset questions, explanation included, after 20 warm-up questions), the
version directory's size, and the resident memory a fresh process gains by loading it and
answering once (ONNX Runtime session included).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from accuracy import LATENCY_QUESTION as QUESTION  # noqa: E402
from accuracy import rss_delta_mb  # noqa: E402

from training.data.datasets import load_dataset  # noqa: E402
from training.runtime.artifacts import load_version  # noqa: E402


def profile(version_dir: Path, questions: list[str]) -> dict:
    """Training time, latency percentiles, size and memory of one version."""
    params = json.loads((version_dir / "params.json").read_text(encoding="utf-8"))
    model = load_version(version_dir)
    model.prepare()
    for _ in range(20):
        model.predict(QUESTION)
    durations = []
    for question in questions:
        started = time.perf_counter()
        model.predict(question)
        durations.append(time.perf_counter() - started)
    return {
        "train_s": (params.get("timings") or {}).get("total"),
        "rows": params.get("rows"),
        "p50_ms": 1000 * float(np.percentile(durations, 50)),
        "p99_ms": 1000 * float(np.percentile(durations, 99)),
        "size_mb": sum(p.stat().st_size for p in version_dir.iterdir()) / 1e6,
        "rss_mb": rss_delta_mb(version_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="+", help="label=path of a version directory")
    parser.add_argument("--dataset", type=Path,
                        default=REPO_ROOT / ".." / "shared" / "data" / "dataset.csv")
    args = parser.parse_args()
    questions = list(load_dataset(args.dataset).frame["text"].sample(500, random_state=0))
    print("| tier | rows | training (s) | p50 (ms) | p99 (ms) | size (MB) | RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for item in args.versions:
        label, _, path = item.partition("=")
        row = profile(Path(path), questions)
        train = "" if row["train_s"] is None else f"{row['train_s']:.0f}"
        print(f"| {label} | {row['rows']} | {train} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
              f"| {row['size_mb']:.1f} | {row['rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
