"""Does a refit lose accuracy against a full retrain? Measured on the tutorial dataset.

    python bench/refit_accuracy.py ../shared/data/dataset.csv [--fractions 0.8]

The base rows are split as the application splits them (a fixed fifth held out by a hash of
the normalised question). A full run (model selection) on all training rows is the reference.
For each fraction, a full run on that share of the training rows stands for the version whose
selection a refit reuses; the refit then fits those choices (and, within a tenth more rows,
its temperatures) on all training rows, as after a stream of corrections. Both are scored on
the held-out rows, with McNemar's exact test on the questions where they differ. When the
version's features may be kept (at most a tenth more rows, e.g. ``--fractions 0.91``), the
refit that keeps them, as the application's refits do, is scored too.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qcapp.services.data.merge import is_held_out
from training.data.datasets import load_dataset, normalise_question
from training.quality.evaluate import evaluate
from training.quality.flips import mcnemar
from training.tiers.refit import refit_model, reusable_features
from training.tiers.train import train_model


def score(result, held_out) -> tuple[dict, list[bool]]:
    metrics = evaluate(result.classifier, held_out)
    predicted = [p.fine for p in result.classifier.predict_many(list(held_out["text"]))]
    right = [p == gold for p, gold in zip(predicted, held_out["fine"], strict=True)]
    return metrics, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--fractions", default="0.8")
    parser.add_argument("--features", default="default")
    args = parser.parse_args()
    frame = load_dataset(args.dataset).frame
    held = frame["text"].map(lambda text: is_held_out(normalise_question(text)))
    train, held_out = frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)
    print(f"{len(train):,} training rows, {len(held_out):,} held out; features {args.features}")

    started = time.perf_counter()
    full = train_model(train, features=args.features)
    full_seconds = time.perf_counter() - started
    full_metrics, full_right = score(full, held_out)
    rows = [("full run on all training rows", full_seconds, full_metrics, None)]

    started = time.perf_counter()
    same = refit_model(train, full.params)
    rows.append(("refit of that selection, same rows", time.perf_counter() - started,
                 score(same, held_out)[0], None))

    def against_full(name: str, run) -> None:
        started = time.perf_counter()
        refit = run()
        seconds = time.perf_counter() - started
        metrics, right = score(refit, held_out)
        old_right = sum(f and not r for f, r in zip(full_right, right, strict=True))
        new_right = sum(r and not f for f, r in zip(full_right, right, strict=True))
        test = mcnemar(old_right, new_right)
        rows.append((
            f"{name}; {refit.params['calibration']})", seconds, metrics,
            f"full right {old_right}, refit right {new_right}, p = {test['p_value']:.3g}",
        ))

    for fraction in (float(value) for value in args.fractions.split(",")):
        subset = train.sample(frac=fraction, random_state=0).reset_index(drop=True)
        selected = train_model(subset, features=args.features)
        choice = ", ".join(
            f"{task} {selected.params[f'{task}_model']['family']} "
            f"{selected.params[f'{task}_model']['params']}"
            for task in ("coarse", "fine")
        )
        against_full(
            f"refit on all rows of a selection made on {fraction:.0%} ({choice}",
            lambda selected=selected: refit_model(train, selected.params),
        )
        def active(selected=selected):
            return selected.classifier

        if reusable_features(selected.params, len(train), active) is not None:
            against_full(
                f"the same, keeping the features fitted on those {len(subset):,} rows ({choice}",
                lambda selected=selected, active=active: refit_model(
                    train, selected.params, warm_start=active
                ),
            )

    print("\n| run | seconds | coarse | fine | vs full (held-out questions where they differ) |")
    print("|---|---|---|---|---|")
    for name, seconds, metrics, versus in rows:
        print(
            f"| {name} | {seconds:.1f} | {metrics['coarse_accuracy']:.4f} | "
            f"{metrics['fine_accuracy']:.4f} | {versus or ''} |"
        )
    print(f"\nfull selection chose: coarse {full.params['coarse_model']['params']}, "
          f"fine {full.params['fine_model']['params']}")


if __name__ == "__main__":
    main()
