"""Flip reports: the questions a candidate version would label differently from a baseline."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask import current_app
from sqlalchemy import func, insert, select

from training import (
    FlipComparison,
    FlipRow,
    LabelBatch,
    flips_between,
    label_in_batches,
    load_version,
)
from training import flip_class_counts as class_counts
from training import held_out_flip_test as held_out_test

from ...database import read_only_connection
from ...extensions import db
from ...models import ModelVersion, Query, VersionFlip, utcnow
from ..data.artifacts import local_version
from ..data.datasets import active_dataset, get_dataset
from ..data.merge import merged_training_set
from ..serving.classifier import apply_overrides, with_overrides
from .label_cache import ModelLabels, cache_path

QUERY_ROWS_NOTE = "the most recent query of each distinct normalised question"


class FlipReportError(RuntimeError):
    """A flip report cannot be computed; the message says why."""


@dataclass
class FlipReport:
    """Both comparisons and their summary (counts, McNemar's test)."""

    held_out: FlipComparison
    queries: FlipComparison
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> list[FlipRow]:
        return self.held_out.flips + self.queries.flips


# A training process's copy of one version's model, by artifact sha256 (``keep_version_model``).
_kept_model: tuple[str, Any] | None = None


def version_model(version: ModelVersion) -> Any:
    """A version's own model, loaded from its artifact (or the copy this process keeps)."""
    kept = _kept_model
    if kept is not None and version.artifact_sha256 and kept[0] == version.artifact_sha256:
        return kept[1]
    return load_version(local_version(version))


def keep_version_model(version: ModelVersion) -> Any:
    """Load a version's model once for this process: later ``version_model`` calls for the same
    artifact return this very object (a training process; a worker's models are its own)."""
    global _kept_model
    model = version_model(version)
    _kept_model = (version.artifact_sha256, model)
    return model


def served_model(version: ModelVersion) -> Any:
    """A version's model as the workers serve it: with the reviewed labels it was trained on."""
    return with_overrides(version_model(version), (version.data_sources or {}).get("overrides"))


def stored_questions(limit: int) -> tuple[list[int], list[str]]:
    """Ids and texts of the latest query of each distinct normalised question, newest first."""
    latest = func.max(Query.id).label("id")
    newest = (
        select(latest).group_by(Query.normalized).order_by(latest.desc()).limit(limit).subquery()
    )
    with read_only_connection() as connection:
        rows = connection.execute(
            select(Query.id, Query.text)
            .join(newest, Query.id == newest.c.id)
            .order_by(Query.id.desc())
        ).all()
    return [row.id for row in rows], [row.text for row in rows]


def held_out_frame(dataset_name: str | None) -> pd.DataFrame:
    """The fixed held-out split of a base dataset (the active one when it is gone)."""
    dataset = (get_dataset(dataset_name) if dataset_name else None) or active_dataset()
    if dataset is None:
        return pd.DataFrame(columns=["text", "coarse", "fine"])
    return merged_training_set(dataset).held_out


Labeller = Callable[[list[str]], LabelBatch]


def model_labeller(model: Any) -> Labeller:
    """Labels from a model, in fixed-size batches."""
    return lambda texts: label_in_batches(model, texts)


def compare_labels(
    old: Labeller,
    new: Labeller,
    held_out: pd.DataFrame,
    questions: tuple[list[int], list[str]],
) -> FlipReport:
    """Label the held-out rows and the stored questions on both sides; summarise the flips."""
    started = time.monotonic()
    query_ids, texts = questions
    held_texts = list(held_out["text"])
    held = flips_between(
        old(held_texts), new(held_texts), held_texts,
        source="held_out", gold_fine=list(held_out["fine"]),
    )
    asked = flips_between(old(texts), new(texts), texts, source="query", query_ids=query_ids)
    report = FlipReport(held_out=held, queries=asked)
    report.summary = summarise(report, seconds=time.monotonic() - started)
    return report


def summarise(report: FlipReport, seconds: float | None = None) -> dict[str, Any]:
    """Counts per source and class, and McNemar's test on the held-out set (JSON-ready)."""
    verdicts = [flip.verdict for flip in report.held_out.flips]
    summary = {
        "held_out": {
            "compared": report.held_out.compared,
            "flips": len(report.held_out.flips),
            "old_right": verdicts.count("old right"),
            "new_right": verdicts.count("new right"),
            "neither": verdicts.count("neither"),
        },
        "queries": {
            "compared": report.queries.compared,
            "flips": len(report.queries.flips),
            "rows": QUERY_ROWS_NOTE,
        },
        "per_class": {
            "held_out": class_counts(report.held_out.flips),
            "query": class_counts(report.queries.flips),
        },
        "mcnemar": held_out_test(report.held_out.flips),
    }
    if seconds is not None:
        summary["seconds"] = round(seconds, 2)
    return summary


def diff_versions(baseline: ModelVersion, candidate: ModelVersion) -> FlipReport:
    """The flip report between any two versions, computed now (not stored).

    Held-out rows come from the candidate's dataset as it is now; stored questions are capped
    at FLIP_QUERY_LIMIT.
    """
    try:
        old, new = version_model(baseline), version_model(candidate)
    except Exception as error:  # noqa: BLE001  (any unreadable artifact is the caller's error)
        raise FlipReportError(f"Cannot load a model: {error}") from None
    held_out = held_out_frame(candidate.dataset_name)
    questions = stored_questions(int(current_app.config["FLIP_QUERY_LIMIT"]))
    db.session.commit()  # no transaction stays open while the models work
    old_labels, old_raw = served_labeller(baseline, old)
    new_labels, new_raw = served_labeller(candidate, new)
    report = compare_labels(old_labels, new_labels, held_out, questions)
    old_raw.save()
    new_raw.save()
    report.summary.update(baseline=baseline.version, candidate=candidate.version)
    return report


def served_labeller(version: ModelVersion, model: Any = None) -> tuple[Labeller, ModelLabels]:
    """Labels as ``version`` serves them (its reviewed labels on top), its model's own labels
    remembered on disk by artifact; the model is loaded only for questions not seen before."""

    raw = ModelLabels(
        (lambda: model) if model is not None else (lambda: version_model(version)),
        cache_path(version),
    )
    overrides = (version.data_sources or {}).get("overrides")
    return (lambda texts: apply_overrides(raw.labels(texts), texts, overrides)), raw


def report_for_run(
    baseline: ModelVersion | None, old: Labeller | None, new: Labeller, held_out: pd.DataFrame,
    note: Callable[[str], None],
) -> FlipReport | str | None:
    """The run's flip report against the active version: the report, None without a baseline,
    or the error text when it failed (the run goes on; the failure is logged and stored)."""
    if baseline is None or old is None:
        note("flip report: no active version to compare with")
        return None
    try:
        questions = stored_questions(int(current_app.config["FLIP_QUERY_LIMIT"]))
        db.session.commit()
        result = compare_labels(old, new, held_out, questions)
    except Exception as error:  # noqa: BLE001  (a report must never fail the run)
        db.session.rollback()
        text = f"{type(error).__name__}: {error}"
        note(f"flip report failed: {text}")
        current_app.logger.warning("flip report failed\n%s", traceback.format_exc(limit=5))
        return text
    summary = result.summary
    note(
        f"flip report: {summary['held_out']['flips']} of {summary['held_out']['compared']:,} "
        f"held-out and {summary['queries']['flips']} of {summary['queries']['compared']:,} "
        f"stored questions change label; McNemar p = {summary['mcnemar']['p_value']:.3g}"
    )
    return result


def record_flip_report(
    version: ModelVersion,
    baseline: ModelVersion | None,
    outcome: FlipReport | str | None,
    decision: dict[str, Any],
) -> None:
    """Store the run's flip rows and summary with the promotion decision (the caller commits)."""
    summary: dict[str, Any] = {
        "baseline": baseline.version if baseline else None,
        "candidate": version.version,
        "computed_at": utcnow().isoformat(),
    }
    if isinstance(outcome, FlipReport):
        summary.update(outcome.summary)
        store_rows(version.id, baseline.id if baseline else None, outcome.rows)
    elif isinstance(outcome, str):
        summary["error"] = outcome
    else:
        summary["note"] = "There was no active version to compare with."
    version.flip_summary = {**summary, "decision": decision}


def store_rows(candidate_id: int, baseline_id: int | None, rows: list[FlipRow]) -> None:
    """Insert flip rows in one executemany (a report may hold tens of thousands)."""
    if not rows:
        return
    db.session.execute(
        insert(VersionFlip),
        [
            {
                "candidate_id": candidate_id,
                "baseline_id": baseline_id,
                "source": row.source,
                "query_id": row.query_id,
                "text": row.text,
                "gold_coarse": row.gold_coarse,
                "gold_fine": row.gold_fine,
                "old_coarse": row.old_coarse,
                "old_fine": row.old_fine,
                "old_confidence": row.old_confidence,
                "new_coarse": row.new_coarse,
                "new_fine": row.new_fine,
                "new_confidence": row.new_confidence,
            }
            for row in rows
        ],
    )


def stored_flips(
    version: ModelVersion, source: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[VersionFlip], int]:
    """One page of a version's stored flip rows (held-out first) and how many match in all."""
    where = [VersionFlip.candidate_id == version.id]
    if source:
        where.append(VersionFlip.source == source)
    total = db.session.scalar(select(func.count()).select_from(VersionFlip).where(*where))
    rows = db.session.scalars(
        select(VersionFlip)
        .where(*where)
        .order_by(VersionFlip.source, VersionFlip.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total
