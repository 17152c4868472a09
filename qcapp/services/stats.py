"""Counts for the dashboard and ``qc stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..database import read_only_connection
from ..models import Correction, Example, ModelVersion, Prediction, Query


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
            "predictions": scalar(select(count).select_from(Prediction)),
            "corrections_pending": corrections.get("pending", 0),
            "corrections_approved": corrections.get("approved", 0),
            "corrections_rejected": corrections.get("rejected", 0),
            "examples": scalar(select(count).select_from(Example)),
            "model_versions": scalar(select(count).select_from(ModelVersion)),
            "active_model_version": active.version if active else None,
            "active_model_metrics": active.metrics if active else None,
        }
