"""Whether a training run still has something running it, and failing the runs that do not.

A run in a child process is alive while its process is; a queued run on another host is alive
while it writes its heartbeat.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Runner, RunStatus, TrainingRun, as_utc, utcnow
from ..services.accounts.accounts import record_event
from .processes import process_alive


def fail_run(run: TrainingRun, error: str) -> None:
    """Mark a run failed with its error (the caller commits)."""
    run.status = RunStatus.FAILED
    run.in_progress = None
    run.error = error[-4000:]
    run.finished_at = utcnow()
    run.message = "failed"


def mark_stale_runs() -> list[int]:
    """Fail queued-job runs whose worker stopped writing heartbeats; returns their ids.

    A worker killed mid-run (or its host lost) cannot say so; its run's heartbeat simply
    stops. Any host notices when it reads the runs or starts the next one.
    """
    stale_after = float(current_app.config["RUN_STALE_SECONDS"])
    failed = []
    runs = select(TrainingRun).where(
        TrainingRun.in_progress.is_(True),
        TrainingRun.runner == Runner.QUEUE,
        TrainingRun.status == RunStatus.RUNNING,
    )
    for run in db.session.scalars(runs):
        beat = as_utc(run.heartbeat_at or run.started_at or run.created_at)
        silent = (utcnow() - beat).total_seconds()
        if silent < stale_after:
            continue
        where = f" on {run.host}" if run.host else ""
        fail_run(
            run,
            f"The worker running it{where} stopped (killed or its host lost): no heartbeat "
            f"for {silent:.0f} s. The active version is unchanged.",
        )
        record_event(None, "retrain_failed", "training_run", run.id, {"error": "worker lost"})
        failed.append(run.id)
    if failed:
        db.session.commit()
    return failed


def mark_abandoned_runs(grace_seconds: float = 30.0) -> list[int]:
    """Fail runs whose process or worker is gone (killed, machine restarted); returns their ids."""
    failed = mark_stale_runs()
    for run in db.session.scalars(
        select(TrainingRun).where(
            TrainingRun.in_progress.is_(True),
            (TrainingRun.runner.is_(None)) | (TrainingRun.runner != Runner.QUEUE),
        )
    ):
        started = as_utc(run.started_at or run.created_at)
        young = (utcnow() - started).total_seconds() < grace_seconds
        if process_alive(run.pid) or (run.pid is None and young):
            continue
        fail_run(run, "The training process stopped before it finished (killed or crashed).")
        failed.append(run.id)
    if failed:
        db.session.commit()
    return failed
