"""What earlier training runs measured: the step durations and total time that weigh the next
run's progress bar and its estimate of the time left."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import ModelVersion, RunStatus, TrainingRun, as_utc
from .versions import active_version


def last_run_of(kind: str | None, features: str | None) -> TrainingRun | None:
    """The last successful run of ``kind`` that trained ``features``: a fine-tuning run and a
    run of the light model share step names but not their durations."""
    if not kind:
        return None
    return db.session.scalar(
        select(TrainingRun)
        .join(ModelVersion, TrainingRun.model_version_id == ModelVersion.id)
        .where(
            TrainingRun.kind == kind,
            TrainingRun.status == RunStatus.SUCCEEDED,
            ModelVersion.feature_set == (features or "default"),
        )
        .order_by(TrainingRun.id.desc())
        .limit(1)
    )


def previous_step_seconds(kind: str, features: str) -> dict[str, float]:
    """The step durations of the last successful run of ``kind`` on ``features`` (empty when
    there is none)."""
    run = last_run_of(kind, features)
    return dict(run.step_seconds or {}) if run is not None else {}


def last_duration(kind: str | None, features: str | None) -> float | None:
    """Seconds the last successful run of ``kind`` on ``features`` took, start to finish."""
    run = last_run_of(kind, features)
    if run is None or run.started_at is None or run.finished_at is None:
        return None
    return max(0.0, (as_utc(run.finished_at) - as_utc(run.started_at)).total_seconds())


def run_features(run: TrainingRun) -> str:
    """The feature set a run trains: as asked, else the active version's (as its plan does)."""
    asked = (run.params or {}).get("features")
    if asked:
        return asked
    active = active_version()
    return active.feature_set if active else "default"
