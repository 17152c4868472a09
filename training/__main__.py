"""Command line: python -m training train DATASET --out MODELS_DIR [--version V] [--quick]."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from training.data.datasets import DatasetError, load_dataset
from training.quality.evaluate import format_metrics_table
from training.runtime.artifacts import save_version
from training.tiers.progress import PrintSink, Steps
from training.tiers.train import default_step_seconds, train_model


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, save a version directory and print its metrics."""
    parser = argparse.ArgumentParser(prog="python -m training")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model version from a dataset file")
    train.add_argument("dataset", type=Path)
    train.add_argument("--out", type=Path, required=True, help="models directory")
    train.add_argument("--version", default=None, help="version name (default: timestamp)")
    train.add_argument("--quick", action="store_true", help="skip model selection")
    train.add_argument("--features", default="default")
    train.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        loaded = load_dataset(args.dataset)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(loaded.frame)} questions ({loaded.format}), "
          f"{loaded.duplicates_dropped} duplicates dropped")
    result = train_model(
        loaded.frame, quick=args.quick, features=args.features, seed=args.seed,
        progress=Steps(default_step_seconds(args.quick), PrintSink()),
    )
    version = args.version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    info = save_version(result, args.out, version)
    print(format_metrics_table(result.metrics))
    print(f"saved {info.path} (manifest sha256 {info.sha256[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
