"""What a retrain does, one function per step: read the merged set (and stop when nothing is
new since the last version, ``novelty``), train the candidate, evaluate both versions, report
the flips, decide, save the artifact, register the version and activate it when the gate
promotes it.

The fixed held-out split of the base data is never trained on, so the candidate and the active
version are compared on questions neither has seen. Each model labels each question once: the
labels serve the scores, the flip report and the decision alike. Which process runs these
steps, and on which CPU, is ``qcapp.runs``'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from flask import current_app

from training import (
    ProgressSink,
    Steps,
    metrics_from_labels,
    refit_model,
    save_version,
    train_model,
)

from ...extensions import db
from ...models import Dataset, ModelVersion, RunKind, VersionStatus
from ..data.artifacts import publish_version
from ..data.datasets import active_dataset, get_dataset
from ..data.merge import MergedSet, merged_training_set
from ..review.discards import discarded_texts, discards_fingerprint
from ..serving.classifier import apply_overrides
from ..serving.scope import scope_with_discards
from .cross_validation import can_cross_validate, cross_validate_corrections
from .flips import record_flip_report, report_for_run, served_labeller, version_model
from .gate import LABEL_COLUMNS, Decision, headline, promotion_decision, reference_scores
from .label_cache import ModelLabels, cache_path
from .novelty import check_something_new
from .plan import RunPlan, plan_run
from .provenance import link_corrections
from .run_history import previous_step_seconds
from .settings import RunSettings
from .versions import activate_model_version, active_version, new_version_name

FollowUp = Callable[[Callable[[str], None]], None]


@dataclass(frozen=True)
class PlannedRun:
    """A retrain once its kind is decided: what it was asked, on what, against which version."""

    settings: RunSettings
    dataset: Dataset
    active: ModelVersion | None
    plan: RunPlan


@dataclass(frozen=True)
class TrainingSet:
    """The merged set as the read step found it, with what the later steps name of it."""

    merged: MergedSet
    dataset_name: str
    dataset_fingerprint: str | None
    reference_name: str | None  # the active version compared with


@dataclass
class Scores:
    """Both versions' labels of the held-out questions and the scores the gate compares."""

    candidate_labels: ModelLabels
    active_labels: ModelLabels | None
    old_served: Callable | None
    holdout_metrics: dict
    candidate: dict | None
    reference: dict | None


def plan_retrain(settings: RunSettings) -> PlannedRun:
    """The dataset, the active version and the kind of run (``plan.plan_run``)."""
    dataset = get_dataset(settings.dataset) if settings.dataset else active_dataset()
    if dataset is None:
        raise RuntimeError(f"There is no dataset {settings.dataset or '(active)'} to train on.")
    active = active_version()
    return PlannedRun(settings, dataset, active, plan_run(settings, active, dataset))


def train_and_gate(
    planned: PlannedRun, reporter: ProgressSink, *, actor: str | None
) -> tuple[ModelVersion, FollowUp | None]:
    """Everything a training run does between queued and finished: the new version, and what
    is left to measure once the run has ended (``cross_validate_corrections``), if anything."""
    plan, active, settings = planned.plan, planned.active, planned.settings
    previous = previous_step_seconds(plan.kind, plan.features)
    steps = Steps(plan.run_weights(previous), reporter)
    record_plan = getattr(reporter, "plan", None)
    if record_plan:
        record_plan(plan.kind, plan.reason)
    steps.note(f"{plan.kind} run: {plan.reason}")

    training_set = read_training_set(planned.dataset, active, steps)
    merged = training_set.merged
    if not settings.force:
        check_something_new(active, plan, planned.dataset, merged)
    result, train_seconds = train_candidate(plan, settings, merged, active, steps, previous)
    scores = evaluate_on_held_out(result, merged, active, steps)
    flips = report_flips(active, scores, merged, steps)
    decision = decide_promotion(scores, settings, steps)
    name = new_version_name()
    info = save_artifact(result, scores, merged, name, steps)
    version = register_version(
        version_record(name, info, result, training_set, scores, decision, actor),
        active, flips, decision, merged, actor,
    )
    activate_if_promoted(version, decision, scores, actor, steps)

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


def read_training_set(dataset: Dataset, active: ModelVersion | None, steps: Steps) -> TrainingSet:
    """Read: the base dataset merged with the approved corrections and confirmations."""
    steps.start("training set", "reading the training set")
    training_set = TrainingSet(
        merged=merged_training_set(dataset),
        dataset_name=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        reference_name=active.version if active else None,
    )
    # End the read transaction before the long fits: on SQLite it holds the write lock.
    db.session.commit()
    merged = training_set.merged
    steps.note(describe_training_set(merged.counts))
    if len(merged.train) < 20:
        raise RuntimeError(f"Only {len(merged.train)} training rows; 20 are needed.")
    return training_set


def train_candidate(
    plan: RunPlan, settings: RunSettings, merged: MergedSet, active: ModelVersion | None,
    steps: Steps, previous: dict[str, float],
):
    """Train: the candidate (a refit of the active choice, or a full or quick training) and the
    seconds each of its own steps took."""
    frame = merged.train[LABEL_COLUMNS]
    steps.start("train", "training")
    train_steps = steps.child(plan.train_weights(previous))
    if plan.kind == RunKind.REFIT:
        # A fine-tuned version continues from the active version's network weights.
        result = refit_model(
            frame, plan.reuse, progress=train_steps, warm_start=lambda: version_model(active)
        )
    else:
        result = train_model(
            frame, quick=settings.quick, features=plan.features, progress=train_steps
        )
    train_seconds = train_steps.finish()
    result.params["run"] = {"kind": plan.kind, "reason": plan.reason}
    return result, train_seconds


def evaluate_on_held_out(
    result, merged: MergedSet, active: ModelVersion | None, steps: Steps
) -> Scores:
    """Evaluate: the candidate and the active version label the held-out questions."""
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
    candidate = headline(holdout_metrics) if holdout_metrics else None
    reference = reference_scores(active, active_labels, merged)
    if candidate:
        steps.note(
            f"held-out accuracy: coarse {candidate['coarse_accuracy']:.1%}, "
            f"fine {candidate['fine_accuracy']:.1%}"
            + (f" (active version: {reference['coarse_accuracy']:.1%}, "
               f"{reference['fine_accuracy']:.1%})" if reference else "")
        )
    return Scores(
        candidate_labels, active_labels, old_served, holdout_metrics, candidate, reference
    )


def report_flips(active: ModelVersion | None, scores: Scores, merged: MergedSet, steps: Steps):
    """Flips: every held-out and stored question the candidate answers otherwise."""
    steps.start("flip report", "comparing with the active version")
    overrides = merged.overrides

    def new_served(texts: list[str]):
        return apply_overrides(scores.candidate_labels.labels(texts), texts, overrides)

    flips = report_for_run(active, scores.old_served, new_served, merged.held_out, steps.note)
    if scores.active_labels is not None:
        scores.active_labels.save()
    return flips


def decide_promotion(scores: Scores, settings: RunSettings, steps: Steps) -> Decision:
    """Decide: the gate's verdict (``gate.decide``) with the configured margin."""
    margin = float(current_app.config["PROMOTION_MARGIN"])
    decision = promotion_decision(scores.candidate, scores.reference, margin, settings)
    steps.note(decision.reason)
    return decision


def save_artifact(result, scores: Scores, merged: MergedSet, name: str, steps: Steps):
    """Save: the artifact, with its held-out metrics (and, once texts were discarded, the scope
    check refitted with them), on disk and in the shared store."""
    if scores.holdout_metrics:
        result.metrics = {
            **scores.holdout_metrics,
            "holdout_size": len(merged.held_out),
            "training_estimate": result.metrics,
        }
    else:
        result.metrics = dict(result.metrics)
    steps.start("save", "saving the artifact")
    scope = scope_with_discards(discarded_texts())
    info = save_version(result, Path(current_app.config["MODELS_DIR"]), name, scope=scope)
    # Into the shared store, in the transaction that registers the version, so no host ever
    # sees a version whose artifact it cannot fetch.
    publish_version(info.path, info.sha256)
    return info


def version_record(
    name: str, info, result, training_set: TrainingSet, scores: Scores, decision: Decision,
    actor: str | None,
) -> ModelVersion:
    """The new version's row: its artifact, what trained it and how the gate judged it."""
    merged = training_set.merged
    return ModelVersion(
        version=name,
        artifact_path=name,
        artifact_sha256=info.sha256,
        feature_set=result.params.get("feature_set", "default"),
        params=result.params,
        metrics=result.metrics,
        dataset_name=training_set.dataset_name,
        dataset_fingerprint=training_set.dataset_fingerprint,
        train_size=len(merged.train),
        test_size=len(merged.held_out),
        training_seconds=round(result.timings.get("total", 0.0), 2),
        data_sources={**merged.describe(), "discarded": discards_fingerprint()},
        evaluation={
            "candidate": scores.candidate,
            "reference": scores.reference,
            "reference_version": training_set.reference_name,
            "corrections_cv": None,
            "margin": decision.margin,
            "promoted": decision.promote,
            "reason": decision.reason,
        },
        status=VersionStatus.CANDIDATE,
        status_reason=None if decision.promote else decision.reason,
        created_by=actor,
    )


def register_version(
    version: ModelVersion, active: ModelVersion | None, flips, decision: Decision,
    merged: MergedSet, actor: str | None,
) -> ModelVersion:
    """Register: the version's row, its flip report and the corrections that trained it."""
    db.session.add(version)
    db.session.flush()
    record_flip_report(version, active, flips, decision.record(actor))
    link_corrections(version, merged.correction_ids)
    return version


def activate_if_promoted(
    version: ModelVersion, decision: Decision, scores: Scores, actor: str | None, steps: Steps
) -> None:
    """Activate: the promoted version becomes the active one, in the registering transaction."""
    if decision.promote:
        steps.start("activate", f"activating version {version.version}")
        activate_model_version(
            version, actor=actor, reason=f"promoted by the gate: {decision.reason}"
        )
    db.session.commit()
    if decision.promote:
        steps.note(f"version {version.version} is active; every worker switches within seconds")
        # The next run compares with this version: its labels are already known. Written after
        # the commit, so no disk write happens while the database's write lock is held.
        scores.candidate_labels.path = cache_path(version)
        scores.candidate_labels.save()
