"""A run's record: one row per retrain or label scan, at most one queued or running at a time."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..database import read_only_connection
from ..extensions import db
from ..models import Runner, RunStatus, RunTask, TrainingRun
from ..services.accounts.accounts import record_event
from ..services.insight.label_issues import ScanSettings
from ..services.learning.settings import RunSettings
from .health import mark_abandoned_runs

log = logging.getLogger(__name__)


class RunNotStarted(RuntimeError):
    """A training run could not be started; the message says why."""


class RunInProgress(RunNotStarted):
    """Another run (a retrain or a label scan) is queued or running."""

    def __init__(self, run: TrainingRun | None):
        super().__init__(
            f"{run_name(run)} is already {run.status}." if run else "A run is in progress."
        )
        self.run = run


def run_name(run: TrainingRun) -> str:
    """How messages name a run: "Training run 7", "Label scan 8"."""
    return f"{'Label scan' if run.task == RunTask.LABEL_SCAN else 'Training run'} {run.id}"


def current_run() -> TrainingRun | None:
    """The queued or running training run, if any."""
    return db.session.scalar(select(TrainingRun).where(TrainingRun.in_progress.is_(True)))


def latest_run(task: RunTask) -> TrainingRun | None:
    """The newest run of ``task``, whatever its state."""
    return db.session.scalar(
        select(TrainingRun).where(TrainingRun.task == task).order_by(TrainingRun.id.desc()).limit(1)
    )


def record_run(settings: RunSettings | ScanSettings, *, actor: str | None) -> TrainingRun:
    """The queued row of a new run, committed; RunInProgress when one is under way."""
    mark_abandoned_runs()
    existing = current_run()
    if existing is not None:
        raise RunInProgress(existing)
    run = TrainingRun(
        task=settings.task,
        status=RunStatus.QUEUED,
        in_progress=True,
        started_by=actor,
        params=settings.to_json(),
        message="queued",
        log="",
    )
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RunInProgress(current_run()) from None
    if isinstance(settings, RunSettings):
        record_event(
            actor, "retrain_started", "training_run", run.id,
            {"quick": settings.quick, "select": settings.select},
        )
    else:
        record_event(actor, "label_scan_started", "training_run", run.id, settings.to_json())
    db.session.commit()
    return run


def run_left_for(pid: int) -> int | None:
    """The queued run a worker left for the standby ``pid`` while it was starting, if any.

    The standby asks while it waits; a database it cannot read right now only means no run.
    """
    try:
        with read_only_connection() as connection:
            return connection.scalar(
                select(TrainingRun.id).where(
                    TrainingRun.in_progress.is_(True),
                    TrainingRun.status == RunStatus.QUEUED,
                    TrainingRun.runner == Runner.PROCESS,
                    TrainingRun.pid == pid,
                )
            )
    except SQLAlchemyError:
        log.exception("looking for a run left for this standby failed")
        return None
