"""The body of whatever process runs a run: claim the queued row, do the task, record how it
ended, and keep the heartbeat and the training lock while it goes."""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from contextlib import nullcontext

from flask import current_app

from ..extensions import db
from ..models import Dataset, ModelVersion, Runner, RunStatus, RunTask, TrainingRun, utcnow
from ..services.accounts.accounts import record_event
from ..services.insight.label_issues import ScanSettings, scan_label_issues
from ..services.learning.novelty import NothingNew
from ..services.learning.settings import RunSettings
from .health import fail_run
from .lock import Heartbeat, training_lock
from .placement import on_one_cpu
from .reporting import NOTHING_NEW_SINCE, RunReporter

log = logging.getLogger(__name__)

FollowUp = Callable[[Callable[[str], None]], None]


def execute_run(
    run_id: int,
    echo: Callable[[str, float], None] | None = None,
    after_finish: Callable[[], None] | None = None,
) -> TrainingRun:
    """The body of a training process: train, evaluate, gate, save, register, maybe promote.

    Once the run has ended, ``after_finish()`` (a process starts the next standby there), then
    what the run left to measure, which a newer run interrupts.
    """
    from training import cues_remembered

    # Each question's cues are found once for the whole run and what is measured after it.
    with cues_remembered():
        reporter, follow_up = _train_and_record(run_id, echo)
        if after_finish is not None:
            after_finish()
        if follow_up is not None:
            try:
                follow_up(reporter.note)
            except Exception as error:  # noqa: BLE001  (the run stands; only the measure is lost)
                db.session.rollback()
                log.exception("measuring after training run %s failed", run_id)
                reporter.note(f"measuring after the run failed: {type(error).__name__}: {error}")
    return db.session.get(TrainingRun, run_id)


def _train_and_record(
    run_id: int, echo: Callable[[str, float], None] | None
) -> tuple[RunReporter, FollowUp | None]:
    """The run itself, recorded as succeeded or failed: its reporter, and what is left to
    measure after it."""
    run = db.session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"no training run {run_id}")
    if run.status != RunStatus.QUEUED:
        raise RuntimeError(f"training run {run_id} is {run.status}, not queued")
    run.status, run.started_at, run.pid = RunStatus.RUNNING, utcnow(), os.getpid()
    run.host, run.heartbeat_at = socket.gethostname()[:120], utcnow()
    task, actor = run.task, run.started_by
    scan = task == RunTask.LABEL_SCAN
    settings = (ScanSettings if scan else RunSettings).from_json(run.params)
    reporter = RunReporter(run.id, run.log or "", echo)
    db.session.commit()
    heartbeat = (
        Heartbeat(
            current_app._get_current_object(), run_id,
            float(current_app.config["RUN_HEARTBEAT_SECONDS"]),
        )
        if run.runner == Runner.QUEUE
        else nullcontext()
    )
    try:
        with heartbeat, training_lock():
            if scan:
                summary = _scan_labels(settings, reporter, actor)
            else:
                version, follow_up = _retrain(settings, reporter, actor)
    except NothingNew as nothing:
        db.session.rollback()
        _end_with_nothing_new(run_id, reporter, nothing)
        return reporter, None
    except Exception as error:  # noqa: BLE001  (any failure is recorded on the run)
        db.session.rollback()
        run = db.session.get(TrainingRun, run_id)
        fail_run(run, f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}")
        failed = "label_scan_failed" if scan else "retrain_failed"
        record_event(run.started_by, failed, "training_run", run.id, {"error": str(error)})
        db.session.commit()
        return reporter, None
    if scan:
        message = (
            f"found {summary['doubtful']} doubtful labels and {summary['near_duplicates']} "
            f"near-duplicates in {summary['rows']} rows"
        )
        _succeed(run_id, reporter, f"finished: {message}", message)
        db.session.commit()
        return reporter, None
    message = f"finished: version {version.version} is {version.status}"
    run = _succeed(run_id, reporter, message, message)
    run.model_version_id = version.id
    record_event(
        run.started_by,
        "retrain_succeeded",
        "training_run",
        run.id,
        {"version": version.version, "status": version.status},
    )
    db.session.commit()
    return reporter, follow_up


def _end_with_nothing_new(run_id: int, reporter: RunReporter, nothing: NothingNew) -> None:
    """A retrain that found nothing new: succeeded, without a version, and says why."""
    message = str(nothing)
    run = _succeed(run_id, reporter, f"finished: {message}", message)
    run.params = {**(run.params or {}), NOTHING_NEW_SINCE: nothing.version}
    record_event(
        run.started_by, "retrain_skipped", "training_run", run.id,
        {"nothing_new_since": nothing.version},
    )
    db.session.commit()


def _succeed(run_id: int, reporter: RunReporter, line: str, message: str) -> TrainingRun:
    """Record a run as succeeded: ``line`` ends its log, ``message`` is its status (the caller
    commits)."""
    reporter.progress(1.0, "finished")
    reporter.log(line)
    run = db.session.get(TrainingRun, run_id)
    run.status, run.in_progress, run.progress = RunStatus.SUCCEEDED, None, 1.0
    run.message, run.finished_at = message, utcnow()
    return run


def _retrain(
    settings: RunSettings, reporter: RunReporter, actor: str | None
) -> tuple[ModelVersion, FollowUp | None]:
    """A retrain's body: the learning steps, a single-threaded refit kept on one CPU."""
    from ..services.learning.pipeline import plan_retrain, train_and_gate

    planned = plan_retrain(settings)
    one_cpu = planned.plan.single_threaded and bool(current_app.config["TRAINING_REFIT_ONE_CPU"])
    with on_one_cpu(one_cpu):
        return train_and_gate(planned, reporter, actor=actor)


def _scan_labels(settings: ScanSettings, reporter: RunReporter, actor: str | None) -> dict:
    """A label scan's body: score the dataset's training labels and store the findings."""
    dataset = db.session.get(Dataset, settings.dataset_id)
    if dataset is None:
        raise LookupError(f"there is no dataset {settings.dataset_id!r} to scan")
    reporter.log(f"scanning dataset {dataset.name} for doubtful labels and near-duplicates")
    return scan_label_issues(dataset, actor=actor, progress=reporter.progress)
