"""Train a candidate on the merged set, compare it with the active version, promote or keep it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from flask import current_app

from training.artifacts import load_version, save_version
from training.evaluate import evaluate
from training.refit import refit_model
from training.train import train_model

from ..extensions import db
from ..models import ModelVersion, utcnow
from .classifier import resolve_artifact
from .datasets import active_dataset, get_dataset
from .flips import record_flip_report, report_for_run
from .merge import MergedSet, merged_training_set
from .provenance import link_corrections
from .versions import activate_model_version, active_version, new_version_name

LABEL_COLUMNS = ["text", "coarse", "fine"]


def _headline(metrics: dict) -> dict:
    keys = ("n", "coarse_accuracy", "fine_accuracy", "coarse_macro_f1", "fine_macro_f1")
    return {key: metrics[key] for key in keys if key in metrics}


def reference_scores(active: ModelVersion | None, merged: MergedSet) -> dict | None:
    """The active version's scores on the same held-out rows, measured now."""
    if active is None or merged.held_out.empty:
        return None
    path = resolve_artifact(current_app.config["MODELS_DIR"], active.artifact_path)
    scores = _headline(evaluate(load_version(path), merged.held_out[LABEL_COLUMNS]))
    same_split = (active.data_sources or {}).get("dataset") == merged.counts["dataset"]
    note = "same held-out split" if same_split else "trained on another dataset; may have seen rows"
    return {**scores, "note": note}


def decide(candidate: dict | None, reference: dict | None, margin: float) -> tuple[bool, str]:
    """Promote unless the candidate is worse than the reference by more than ``margin``."""
    if reference is None:
        return True, "There was no active version to compare with."
    if candidate is None:
        return True, "There are no held-out rows to compare on."
    worse = [
        f"{task} accuracy {candidate[key]:.2%} vs {reference[key]:.2%}"
        for task, key in (("coarse", "coarse_accuracy"), ("fine", "fine_accuracy"))
        if candidate[key] < reference[key] - margin
    ]
    if worse:
        return False, f"Worse than the active version by more than {margin:.1%}: " + "; ".join(
            worse
        )
    return True, (
        f"Held-out fine accuracy {candidate['fine_accuracy']:.2%} "
        f"vs {reference['fine_accuracy']:.2%}"
        f" (margin {margin:.1%})."
    )


def corrections_accuracy(merged: MergedSet, params: dict, folds: int = 3) -> dict | None:
    """Cross-validated accuracy on the user-labelled rows: each fold predicted by a model
    trained without it, so the corrections count as held-out data too."""
    user_rows = merged.train[merged.train["source"] != "base"].reset_index(drop=True)
    if len(user_rows) < 10:
        return None
    base_rows = merged.train[merged.train["source"] == "base"]
    folds = min(folds, len(user_rows))
    correct = {"coarse": 0, "fine": 0}
    for fold in range(folds):
        test = user_rows[user_rows.index % folds == fold]
        train = pd.concat([base_rows, user_rows[user_rows.index % folds != fold]])
        model = refit_model(train[LABEL_COLUMNS], params).classifier
        for predicted, (_text, coarse, fine) in zip(
            model.predict_many(list(test["text"]), explain=False),
            test[LABEL_COLUMNS].itertuples(index=False),
            strict=True,
        ):
            correct["coarse"] += predicted.coarse == coarse
            correct["fine"] += predicted.fine == fine
    n = len(user_rows)
    return {"n": n, "coarse_accuracy": correct["coarse"] / n, "fine_accuracy": correct["fine"] / n}


def train_and_gate(settings: dict, report) -> ModelVersion:
    """Everything a training run does between queued and finished; returns the new version.

    The fixed held-out split of the base data is never trained on, so the candidate and the
    active version are compared on questions neither has seen.
    """
    dataset = get_dataset(settings["dataset"]) if settings.get("dataset") else active_dataset()
    if dataset is None:
        raise RuntimeError(
            f"There is no dataset {settings.get('dataset') or '(active)'} to train on."
        )
    dataset_name, dataset_fingerprint = dataset.name, dataset.fingerprint
    quick, actor = settings["quick"], settings["actor"]
    merged = merged_training_set(dataset)
    active = active_version()
    reference_name = active.version if active else None
    # End the read transaction before the long fits: on SQLite it holds the write lock.
    db.session.commit()
    report.log(f"training set: {merged.counts}")
    if len(merged.train) < 20:
        raise RuntimeError(f"Only {len(merged.train)} training rows; 20 are needed.")

    result = train_model(
        merged.train[LABEL_COLUMNS],
        quick=quick,
        features=settings.get("features", "default"),
        progress=lambda message, fraction: report(message, fraction, span=(0.02, 0.7)),
    )
    report("evaluating on the held-out split", 0.0, span=(0.7, 0.75))
    held_out = merged.held_out[LABEL_COLUMNS]
    holdout_metrics = evaluate(result.classifier, held_out) if len(held_out) else {}
    candidate = _headline(holdout_metrics) if holdout_metrics else None
    reference = reference_scores(active, merged)
    report("cross-validating the corrections", 0.0, span=(0.75, 0.85))
    user_scores = corrections_accuracy(merged, result.params)
    # Which questions would change label, known before the decision is taken.
    flips = report_for_run(active, result.classifier, merged, report)
    margin = float(current_app.config["PROMOTION_MARGIN"])
    promote, reason = decide(candidate, reference, margin)
    if settings.get("activate") == "never":
        promote, reason = False, "Registered without activation, as asked."
    report.log(reason)
    decision = {
        "promoted": promote,
        "reason": reason,
        "margin": margin,
        "by": actor,
        "at": utcnow().isoformat(),
    }

    metrics = (
        {**holdout_metrics, "holdout_size": len(held_out), "training_estimate": result.metrics}
        if holdout_metrics
        else dict(result.metrics)
    )
    result.metrics = metrics
    name = new_version_name()
    report("saving the artifact", 0.0, span=(0.9, 0.95))
    info = save_version(result, Path(current_app.config["MODELS_DIR"]), name)
    version = ModelVersion(
        version=name,
        artifact_path=name,
        artifact_sha256=info.sha256,
        feature_set=result.params.get("feature_set", "default"),
        params=result.params,
        metrics=metrics,
        dataset_name=dataset_name,
        dataset_fingerprint=dataset_fingerprint,
        train_size=len(merged.train),
        test_size=len(held_out),
        training_seconds=round(result.timings.get("total", 0.0), 2),
        data_sources=merged.describe(),
        evaluation={
            "candidate": candidate,
            "reference": reference,
            "reference_version": reference_name,
            "corrections_cv": user_scores,
            "margin": margin,
            "promoted": promote,
            "reason": reason,
        },
        status="candidate",
        status_reason=None if promote else reason,
        created_by=actor,
    )
    db.session.add(version)
    db.session.flush()
    record_flip_report(version, active, flips, decision)
    link_corrections(version, merged.correction_ids)
    if promote:
        activate_model_version(version, actor=actor, reason=f"promoted by the gate: {reason}")
    db.session.commit()
    return version
