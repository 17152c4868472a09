"""Train a candidate on the merged set, compare it with the active version, promote or keep it.

A run is one of three kinds. A *refit* fits the feature set and hyperparameters the active
version's model selection chose on the merged set: seconds, so it is the default after
corrections. A lexical refit also keeps the active version's fitted features (vocabularies,
idf weights) while the rows grow by at most a tenth, so each question's features are found once
per process (a waiting standby finds most of them before the run, ``prepare``), and it runs on
one CPU (``TRAINING_REFIT_ONE_CPU``). A *full* run selects the model again (minutes): asked
for, or whenever a refit would reuse a stale choice (no active version, one without a selection,
another base dataset or feature set). A *quick* run uses fixed settings (first install, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
from flask import current_app
from sqlalchemy import select

from training import FINETUNE_FEATURE_SET as FINETUNE
from training import (
    KEPT_FEATURE_SETS,
    REFIT_STEP_SECONDS,
    ProgressSink,
    Steps,
    default_step_seconds,
    metrics_from_labels,
    refit_model,
    save_version,
    train_model,
)

from ...database import read_only_connection
from ...extensions import db
from ...models import Dataset, ModelVersion, TrainingRun, utcnow
from ..data.artifacts import publish_version
from ..data.datasets import active_dataset, get_dataset
from ..data.merge import MergedSet, merged_training_set
from ..serving.classifier import apply_overrides
from .flips import record_flip_report, report_for_run, served_labeller, version_model
from .label_cache import ModelLabels, cache_path
from .processes import on_one_cpu
from .provenance import link_corrections
from .run_history import previous_step_seconds
from .versions import activate_model_version, active_version, new_version_name

LABEL_COLUMNS = ["text", "coarse", "fine"]
# Seconds each step took on the tutorial dataset (2 cores, idle): the progress bar's shares
# until a run of the same kind has measured its own.
RUN_STEP_SECONDS = {
    "training set": 0.5, "train": 4.0, "evaluate": 0.5, "flip report": 1.0, "save": 0.5,
    "activate": 0.2,
}
FULL_TRAIN_SECONDS = 85.0


@dataclass(frozen=True)
class RunPlan:
    """What kind of run this is, why, and the earlier choices a refit reuses."""

    kind: str
    reason: str
    features: str
    reuse: dict | None = None

    def train_weights(self, previous: dict[str, float]) -> dict[str, float]:
        """Expected seconds of the training steps: the last run of this kind's, else defaults."""
        measured = {
            key.removeprefix("train/"): value
            for key, value in previous.items()
            if key.startswith("train/")
        }
        if measured:
            return measured
        if self.kind == "refit" and self.features != FINETUNE:
            return dict(REFIT_STEP_SECONDS)
        return default_step_seconds(self.kind == "quick", self.features)

    def run_weights(self, previous: dict[str, float]) -> dict[str, float]:
        """Expected seconds of the run's own steps."""
        # Runs before the cross-validation became a follow-up also timed a "corrections" step.
        measured = {key: value for key, value in previous.items() if key in RUN_STEP_SECONDS}
        if measured:
            return {**RUN_STEP_SECONDS, **measured}
        if self.features == FINETUNE:  # minutes of fine-tuning, a refit too
            train = sum(self.train_weights({}).values())
        elif self.kind == "full":
            train = FULL_TRAIN_SECONDS
        else:
            train = RUN_STEP_SECONDS["train"]
        return {**RUN_STEP_SECONDS, "train": train}


def _selection(version: ModelVersion) -> dict | None:
    """The model selection a version's params record, when it has one to reuse."""
    params = version.params or {}
    if params.get("quick") or not all(
        isinstance(params.get(f"{task}_model"), dict) and "family" in params[f"{task}_model"]
        for task in ("coarse", "fine")
    ):
        return None
    return params


def plan_run(settings: dict, active: ModelVersion | None, dataset: Dataset) -> RunPlan:
    """Decide between a refit and a full run (or a quick one, when asked) and say why."""
    features = settings.get("features") or (active.feature_set if active else "default")
    if settings.get("quick"):
        return RunPlan("quick", "a quick run was asked for (fixed settings)", features)
    if settings.get("select"):
        return RunPlan("full", "model selection was asked for", features)
    if active is None:
        return RunPlan("full", "there is no active version whose selection could be reused",
                       features)
    selection = _selection(active)
    if selection is None:
        return RunPlan(
            "full", f"the active version {active.version} has no model selection to reuse",
            features,
        )
    if features != active.feature_set:
        return RunPlan(
            "full", f"the feature set changes from {active.feature_set} to {features}", features
        )
    if (active.dataset_name, active.dataset_fingerprint) != (dataset.name, dataset.fingerprint):
        return RunPlan(
            "full",
            f"the base dataset changed since version {active.version} "
            f"({active.dataset_name} then, {dataset.name} now)",
            features,
        )
    origin = selection.get("selection_version") or active.version
    return RunPlan(
        "refit",
        f"reusing the model selection of version {origin} "
        f"({_describe_choice(selection['coarse_model'])} coarse, "
        f"{_describe_choice(selection['fine_model'])} fine)",
        features,
        reuse={**selection, "selection_version": origin, "refit_of": active.version},
    )


def _describe_choice(choice: dict) -> str:
    settings = ", ".join(f"{key}={value}" for key, value in (choice.get("params") or {}).items())
    return f"{choice['family']} {settings}".strip()


def describe_training_set(counts: dict) -> str:
    """One readable line for the merged set's counts."""
    parts = [
        f"{counts.get('base', 0):,} base questions of {counts.get('dataset')} "
        f"({counts.get('held_out', 0):,} held out, never trained on)",
        f"{counts.get('corrections', 0):,} corrections",
        f"{counts.get('confirmations', 0):,} confirmations",
    ]
    if counts.get("base_overridden"):
        parts.append(f"{counts['base_overridden']:,} base labels replaced by corrections")
    if counts.get("duplicates_removed"):
        parts.append(f"{counts['duplicates_removed']:,} duplicates removed")
    return "training set: " + ", ".join(parts)


def _headline(metrics: dict) -> dict:
    keys = ("n", "coarse_accuracy", "fine_accuracy", "coarse_macro_f1", "fine_macro_f1")
    return {key: metrics[key] for key in keys if key in metrics}


def reference_scores(
    active: ModelVersion | None, labels: ModelLabels | None, merged: MergedSet
) -> dict | None:
    """The active version's scores on the same held-out rows (its labels remembered by
    artifact, so only the first run after it became active labels them)."""
    if active is None or labels is None or merged.held_out.empty:
        return None
    held_out = merged.held_out[LABEL_COLUMNS]
    scores = _headline(metrics_from_labels(held_out, labels.labels(list(held_out["text"]))))
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


MIN_CORRECTIONS_FOR_CV = 10


def can_cross_validate(user_rows: int, params: dict) -> bool:
    """Whether the user-labelled rows are cross-validated for a version with these params.

    A fine-tuned tier would fine-tune the encoder again in every fold: not measured.
    """
    return user_rows >= MIN_CORRECTIONS_FOR_CV and params.get("feature_set") != FINETUNE


def corrections_accuracy(
    merged: MergedSet, params: dict, folds: int = 3, give_way: Callable[[], bool] = lambda: False,
    warm_start: Callable[[], object] | None = None,
) -> dict | None:
    """Cross-validated accuracy on the user-labelled rows: each fold predicted by a model
    trained without it, so the corrections count as held-out data too. None when there are too
    few of them, for a fine-tuned tier, or when ``give_way()`` says to stop before a fold.
    ``warm_start()`` is the version's model, whose fitted features the folds keep as its refit
    did (``refit_model``)."""
    user_rows = merged.user_rows.reset_index(drop=True)
    if not can_cross_validate(len(user_rows), params):
        return None
    base_rows = merged.train[merged.train["source"] == "base"]
    folds = min(folds, len(user_rows))
    correct = {"coarse": 0, "fine": 0}
    for fold in range(folds):
        if give_way():
            return None
        test = user_rows[user_rows.index % folds == fold]
        train = pd.concat([base_rows, user_rows[user_rows.index % folds != fold]])
        model = refit_model(train[LABEL_COLUMNS], params, warm_start=warm_start).classifier
        for predicted, (_text, coarse, fine) in zip(
            model.predict_many(list(test["text"]), explain=False),
            test[LABEL_COLUMNS].itertuples(index=False),
            strict=True,
        ):
            correct["coarse"] += predicted.coarse == coarse
            correct["fine"] += predicted.fine == fine
    n = len(user_rows)
    return {"n": n, "coarse_accuracy": correct["coarse"] / n, "fine_accuracy": correct["fine"] / n}


def train_and_gate(
    settings: dict, reporter: ProgressSink
) -> tuple[ModelVersion, Callable[[Callable[[str], None]], None] | None]:
    """Everything a training run does between queued and finished: the new version, and what
    is left to measure once the run has ended (``cross_validate_corrections``), if anything.

    The fixed held-out split of the base data is never trained on, so the candidate and the
    active version are compared on questions neither has seen. Each model labels each question
    once: the labels serve the scores, the flip report and the decision alike.
    """
    dataset = get_dataset(settings["dataset"]) if settings.get("dataset") else active_dataset()
    if dataset is None:
        raise RuntimeError(
            f"There is no dataset {settings.get('dataset') or '(active)'} to train on."
        )
    active = active_version()
    plan = plan_run(settings, active, dataset)
    one_cpu = (
        plan.kind == "refit"
        and plan.features in KEPT_FEATURE_SETS
        and bool(current_app.config["TRAINING_REFIT_ONE_CPU"])
    )
    with on_one_cpu(one_cpu):
        return _carry_out(plan, settings, dataset, active, reporter)


def _carry_out(
    plan: RunPlan, settings: dict, dataset: Dataset, active: ModelVersion | None,
    reporter: ProgressSink,
) -> tuple[ModelVersion, Callable[[Callable[[str], None]], None] | None]:
    """The steps of ``train_and_gate`` once the run's kind is decided."""
    previous = previous_step_seconds(plan.kind, plan.features)
    steps = Steps(plan.run_weights(previous), reporter)
    record_plan = getattr(reporter, "plan", None)
    if record_plan:
        record_plan(plan.kind, plan.reason)
    steps.note(f"{plan.kind} run: {plan.reason}")

    steps.start("training set", "reading the training set")
    dataset_name, dataset_fingerprint = dataset.name, dataset.fingerprint
    quick, actor = settings["quick"], settings["actor"]
    merged = merged_training_set(dataset)
    reference_name = active.version if active else None
    # End the read transaction before the long fits: on SQLite it holds the write lock.
    db.session.commit()
    steps.note(describe_training_set(merged.counts))
    if len(merged.train) < 20:
        raise RuntimeError(f"Only {len(merged.train)} training rows; 20 are needed.")

    frame = merged.train[LABEL_COLUMNS]
    steps.start("train", "training")
    train_steps = steps.child(plan.train_weights(previous))
    if plan.kind == "refit":
        # A fine-tuned version continues from the active version's network weights.
        result = refit_model(
            frame, plan.reuse, progress=train_steps, warm_start=lambda: version_model(active)
        )
    else:
        result = train_model(frame, quick=quick, features=plan.features, progress=train_steps)
    train_seconds = train_steps.finish()
    result.params["run"] = {"kind": plan.kind, "reason": plan.reason}

    held_out = merged.held_out[LABEL_COLUMNS]
    held_texts = list(held_out["text"])
    steps.start("evaluate", f"scoring both versions on {len(held_out):,} held-out questions")
    candidate_labels = ModelLabels(lambda: result.classifier)
    active_labels, old_served = None, None
    if active is not None:
        old_served, active_labels = served_labeller(active)
    holdout_metrics = (
        metrics_from_labels(held_out, candidate_labels.labels(held_texts)) if held_texts else {}
    )
    candidate = _headline(holdout_metrics) if holdout_metrics else None
    reference = reference_scores(active, active_labels, merged)
    if candidate:
        steps.note(
            f"held-out accuracy: coarse {candidate['coarse_accuracy']:.1%}, "
            f"fine {candidate['fine_accuracy']:.1%}"
            + (f" (active version: {reference['coarse_accuracy']:.1%}, "
               f"{reference['fine_accuracy']:.1%})" if reference else "")
        )

    steps.start("flip report", "comparing with the active version")
    overrides = merged.overrides

    def new_served(texts: list[str]):
        return apply_overrides(candidate_labels.labels(texts), texts, overrides)

    flips = report_for_run(active, old_served, new_served, merged.held_out, steps.note)
    if active_labels is not None:
        active_labels.save()
    margin = float(current_app.config["PROMOTION_MARGIN"])
    promote, reason = decide(candidate, reference, margin)
    if settings.get("activate") == "never":
        promote, reason = False, "Registered without activation, as asked."
    steps.note(reason)
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
    steps.start("save", "saving the artifact")
    info = save_version(result, Path(current_app.config["MODELS_DIR"]), name)
    # Into the shared store, in the transaction that registers the version, so no host ever
    # sees a version whose artifact it cannot fetch.
    publish_version(info.path, info.sha256)
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
            "corrections_cv": None,
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
        steps.start("activate", f"activating version {name}")
        activate_model_version(version, actor=actor, reason=f"promoted by the gate: {reason}")
    db.session.commit()
    if promote:
        steps.note(f"version {name} is active; every worker switches within seconds")
        # The next run compares with this version: its labels are already known. Written after
        # the commit, so no disk write happens while the database's write lock is held.
        candidate_labels.path = cache_path(version)
        candidate_labels.save()

    seconds = steps.finish()
    seconds.update({f"train/{key}": value for key, value in train_seconds.items()})
    record_timings = getattr(reporter, "timings", None)
    if record_timings:
        record_timings(seconds)
    follow_up = None
    if can_cross_validate(len(merged.user_rows), result.params):
        follow_up = partial(
            cross_validate_corrections, version.id, merged, result.params, result.classifier
        )
    return version, follow_up


def cross_validate_corrections(
    version_id: int, merged: MergedSet, params: dict, model: object,
    note: Callable[[str], None],
) -> None:
    """After its run has ended: the version's cross-validated accuracy on the user-labelled rows
    (three more fits), recorded on the version for its details page.

    Outside the run, so a retrain asked for meanwhile is not refused; it gives way to that run,
    stopping before the next fold, since a newer version makes the measure moot.
    """
    note(f"cross-validating the {len(merged.user_rows):,} user-labelled rows")
    scores = corrections_accuracy(
        merged, params, give_way=run_in_progress, warm_start=lambda: model
    )
    if scores is None:
        note("cross-validation of the user-labelled rows stopped: a newer run started")
        return
    version = db.session.get(ModelVersion, version_id)
    version.evaluation = {**(version.evaluation or {}), "corrections_cv": scores}
    db.session.commit()
    note(
        f"user-labelled rows, cross-validated: coarse {scores['coarse_accuracy']:.1%}, "
        f"fine {scores['fine_accuracy']:.1%}"
    )


def run_in_progress() -> bool:
    """Whether a training run is queued or running now (read afresh, in no transaction)."""
    with read_only_connection() as connection:
        found = connection.scalar(
            select(TrainingRun.id).where(TrainingRun.in_progress.is_(True)).limit(1)
        )
    return found is not None
