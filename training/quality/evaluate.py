"""Accuracy, macro-F1, per-class scores, confusion matrices and calibration error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from training.runtime.predictor import LabelBatch

ECE_BINS = 10


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    confidences = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidences.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = bin_of == b
        if members.any():
            gap = abs(confidences[members].mean() - correct[members].mean())
            error += members.mean() * gap
    return float(error)


def _task_metrics(truth: list[str], predicted: list[str], confidences: list[float]) -> dict:
    """Metrics of one task (coarse or fine)."""
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(
            f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        ),
        "ece": expected_calibration_error(confidences, correct),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }


def metrics_from_predictions(frame: pd.DataFrame, predictions: Sequence) -> dict:
    """Metric dict comparing predictions with the frame's coarse and fine labels."""
    return metrics_from_labels(
        frame,
        LabelBatch(
            coarse=[p.coarse for p in predictions],
            coarse_confidence=[p.coarse_confidence for p in predictions],
            fine=[p.fine for p in predictions],
            fine_confidence=[p.fine_confidence for p in predictions],
        ),
    )


def metrics_from_labels(frame: pd.DataFrame, labels: LabelBatch) -> dict:
    """Metric dict comparing a batch of labels with the frame's coarse and fine labels."""
    coarse = _task_metrics(list(frame["coarse"]), labels.coarse, labels.coarse_confidence)
    fine = _task_metrics(list(frame["fine"]), labels.fine, labels.fine_confidence)
    return {
        "n": len(frame),
        "coarse_accuracy": coarse["accuracy"],
        "fine_accuracy": fine["accuracy"],
        "coarse_macro_f1": coarse["macro_f1"],
        "fine_macro_f1": fine["macro_f1"],
        "coarse_ece": coarse["ece"],
        "fine_ece": fine["ece"],
        "coarse_per_class": coarse["per_class"],
        "fine_per_class": fine["per_class"],
        "coarse_confusion": coarse["confusion"],
        "fine_confusion": fine["confusion"],
    }


def evaluate(classifier: object, frame: pd.DataFrame) -> dict:
    """Evaluate a QuestionClassifier on a labelled (text, coarse, fine) frame."""
    predictions = classifier.predict_many(list(frame["text"]), explain=False)
    return metrics_from_predictions(frame, predictions)


def merge_fold_metrics(fold_metrics: list[dict]) -> dict:
    """Mean and standard deviation of the headline numbers over folds."""
    keys = ["coarse_accuracy", "fine_accuracy", "coarse_macro_f1", "fine_macro_f1",
            "coarse_ece", "fine_ece"]
    merged: dict = {"folds": len(fold_metrics), "n": int(sum(m["n"] for m in fold_metrics))}
    for key in keys:
        values = [m[key] for m in fold_metrics]
        merged[key] = float(np.mean(values))
        merged[f"{key}_std"] = float(np.std(values))
    return merged


def format_metrics_table(metrics: dict) -> str:
    """A short plain-text table of the headline metrics."""
    rows = [("", "coarse", "fine")]
    for name in ("accuracy", "macro_f1", "ece"):
        coarse, fine = metrics.get(f"coarse_{name}"), metrics.get(f"fine_{name}")
        if coarse is None or fine is None:
            continue
        rows.append((name, f"{coarse:.4f}", f"{fine:.4f}"))
    if "n" in metrics:
        rows.append(("n", str(metrics["n"]), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
