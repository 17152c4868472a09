"""Counts and aggregates for the dashboard and ``qc stats``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from training import taxonomy

from ...database import read_only_connection
from ...models import (
    Correction,
    CorrectionKind,
    CorrectionStatus,
    Example,
    ModelVersion,
    Prediction,
    Query,
)


def collect_stats() -> dict[str, Any]:
    """Totals of every kind of stored row, and the active model version."""
    count = func.count()
    with read_only_connection() as connection:
        scalar = connection.scalar
        corrections = dict(
            connection.execute(select(Correction.status, count).group_by(Correction.status)).all()
        )
        active = connection.execute(
            select(ModelVersion.version, ModelVersion.metrics).where(
                ModelVersion.is_active.is_(True)
            )
        ).first()
        return {
            "queries": scalar(select(count).select_from(Query)),
            "queries_out_of_scope": scalar(
                select(count).select_from(Query).where(Query.in_scope.is_(False))
            ),
            "predictions": scalar(select(count).select_from(Prediction)),
            "corrections_pending": corrections.get(CorrectionStatus.PENDING, 0),
            "corrections_approved": corrections.get(CorrectionStatus.APPROVED, 0),
            "corrections_rejected": corrections.get(CorrectionStatus.REJECTED, 0),
            "examples": scalar(select(count).select_from(Example)),
            "model_versions": scalar(select(count).select_from(ModelVersion)),
            "active_model_version": active.version if active else None,
            "active_model_metrics": active.metrics if active else None,
        }


CHART_DAYS = 30
# The ranges the dashboard offers, in days.
CHART_RANGES = (7, 30, 90, 365)
TOP_FINE_CONFUSIONS = 10
# Rejected corrections are the admin saying the user was wrong, so they are no evidence of errors.
COUNTED_CORRECTION = (Correction.kind == CorrectionKind.CORRECTION) & (
    Correction.status != CorrectionStatus.REJECTED
)


@dataclass
class DashboardData:
    """Everything the dashboard shows, gathered in one pass of aggregate queries."""

    totals: dict[str, Any]
    today: dict[str, int]
    days: list[str]
    queries_per_day: list[int]
    coarse_per_day: dict[str, list[int]]
    correction_rates: list[tuple[str, int, int]]
    version_accuracy: list[tuple[str, float | None, float | None]]
    confusion: dict[tuple[str, str], int]
    top_fine_confusions: list[tuple[str, str, int]]
    active_accuracy: dict[str, float] = field(default_factory=dict)


def find_metric(metrics: Any, key: str) -> float | None:
    """The value of ``key`` in a metrics dict, looking into nested dicts breadth-first."""
    pending = [metrics]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, dict):
            continue
        value = current.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        pending.extend(current.values())
    return None


def day_bucket(column, dialect: str):
    """A SQL expression for the UTC calendar day of a timestamp column."""
    if dialect == "postgresql":
        return func.date_trunc("day", func.timezone("UTC", column))
    return func.date(column)


def day_key(value: Any) -> str:
    """A ``day_bucket`` value as 'YYYY-MM-DD'."""
    # SQLite answers 'YYYY-MM-DD' strings, PostgreSQL datetimes.
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)[:10]


def collect_dashboard(days: int = CHART_DAYS) -> DashboardData:
    """Totals, today's numbers and the aggregates behind every dashboard chart."""
    totals = collect_stats()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=days - 1)
    day_labels = [(since + timedelta(days=n)).strftime("%Y-%m-%d") for n in range(days)]
    index = {day: n for n, day in enumerate(day_labels)}
    count = func.count()
    with read_only_connection() as connection:
        query_day = day_bucket(Query.created_at, connection.dialect.name)
        per_day = [0] * days
        for day, n in connection.execute(
            select(query_day, count).where(Query.created_at >= since).group_by(query_day)
        ):
            if day_key(day) in index:
                per_day[index[day_key(day)]] = n
        coarse_per_day = {label: [0] * days for label in taxonomy.COARSE_LABELS}
        for day, coarse, n in connection.execute(
            select(query_day, Prediction.coarse, count)
            .join(Prediction, Prediction.query_id == Query.id)
            .where(Query.created_at >= since)
            .group_by(query_day, Prediction.coarse)
        ):
            if day_key(day) in index:
                coarse_per_day.setdefault(coarse, [0] * days)[index[day_key(day)]] = n
        predicted = dict(
            connection.execute(select(Prediction.coarse, count).group_by(Prediction.coarse)).all()
        )
        corrected = dict(
            connection.execute(
                select(Prediction.coarse, count)
                .join(Correction, Correction.query_id == Prediction.query_id)
                .where(COUNTED_CORRECTION)
                .group_by(Prediction.coarse)
            ).all()
        )
        confusion = {
            (row.predicted, row.corrected): row.n
            for row in connection.execute(
                select(
                    Prediction.coarse.label("predicted"),
                    Correction.coarse.label("corrected"),
                    count.label("n"),
                )
                .join(Correction, Correction.query_id == Prediction.query_id)
                .where(COUNTED_CORRECTION)
                .group_by(Prediction.coarse, Correction.coarse)
            )
        }
        n_label = count.label("n")
        top_fine = connection.execute(
            select(Prediction.fine, Correction.fine, n_label)
            .join(Correction, Correction.query_id == Prediction.query_id)
            .where(COUNTED_CORRECTION, Prediction.fine != Correction.fine)
            .group_by(Prediction.fine, Correction.fine)
            .order_by(n_label.desc(), Prediction.fine, Correction.fine)
            .limit(TOP_FINE_CONFUSIONS)
        ).all()
        versions = connection.execute(
            select(ModelVersion.version, ModelVersion.metrics).order_by(
                ModelVersion.created_at, ModelVersion.id
            )
        ).all()
        today_counts = {
            "queries": connection.scalar(
                select(count).select_from(Query).where(Query.created_at >= today)
            ),
            "corrections": connection.scalar(
                select(count).select_from(Correction).where(Correction.created_at >= today)
            ),
        }
    labels = [label for label in taxonomy.COARSE_LABELS] + sorted(
        set(predicted) - set(taxonomy.COARSE_LABELS)
    )
    active_metrics = totals.get("active_model_metrics") or {}
    return DashboardData(
        totals=totals,
        today=today_counts,
        days=day_labels,
        queries_per_day=per_day,
        coarse_per_day=coarse_per_day,
        correction_rates=[
            (label, predicted.get(label, 0), corrected.get(label, 0)) for label in labels
        ],
        version_accuracy=[
            (
                version,
                find_metric(metrics, "coarse_accuracy"),
                find_metric(metrics, "fine_accuracy"),
            )
            for version, metrics in versions
        ],
        confusion=confusion,
        top_fine_confusions=[tuple(row) for row in top_fine],
        active_accuracy={
            key: value
            for key in ("coarse_accuracy", "fine_accuracy")
            if (value := find_metric(active_metrics, key)) is not None
        },
    )
