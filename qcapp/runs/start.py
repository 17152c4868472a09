"""Starting a run: record it and give it a process (a ``Launcher``), wait for it, or train in
this process through the same run, gate and records (``train_version``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app

from ..extensions import db
from ..models import ModelVersion, Runner, RunStatus, TrainingRun
from ..services.data.datasets import active_dataset, get_dataset
from ..services.insight.label_issues import ScanSettings
from ..services.learning.settings import RunSettings
from .execute import execute_run
from .health import fail_run, mark_stale_runs
from .launchers import launcher_for
from .processes import process_alive
from .records import record_run


def start_run(
    settings: RunSettings | ScanSettings | None = None,
    *,
    actor: str | None,
    spawn: bool = True,
) -> TrainingRun:
    """Queue a run (a retrain by default) and give it a process; RunInProgress when one is
    under way, RunNotStarted when it cannot start. Without ``spawn`` it is only queued, for
    ``execute_run`` in this process."""
    run = record_run(settings or RunSettings(), actor=actor)
    if spawn:
        launcher_for(current_app._get_current_object()).launch(run)
    return run


def wait_for_run(
    run_id: int,
    timeout: float = 3600.0,
    poll: float = 0.5,
    on_poll: Callable[[TrainingRun], None] | None = None,
) -> TrainingRun:
    """Block until the run has finished (or its process died); returns it refreshed."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        run = db.session.get(TrainingRun, run_id)
        if on_poll:
            on_poll(run)
        db.session.commit()  # never wait inside a transaction (it would hold SQLite's lock)
        if run.in_progress is None:
            return run
        if run.runner == Runner.QUEUE:
            mark_stale_runs()
        elif run.pid and not process_alive(run.pid):
            time.sleep(poll)  # let a just-finished process commit its last write
            db.session.expire_all()
            run = db.session.get(TrainingRun, run_id)
            if run.in_progress:
                fail_run(run, "The training process stopped before it finished.")
                db.session.commit()
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"training run {run_id} did not finish in {timeout:.0f} s")
        time.sleep(poll)


class TrainingError(RuntimeError):
    """Training cannot start or did not finish; the message says why."""


def train_version(
    dataset_name: str | None = None,
    *,
    quick: bool = False,
    features: str = "default",
    actor: str | None = None,
    progress: Callable[[str, float], None] | None = None,
    activate: bool = True,
) -> ModelVersion:
    """Train in this process through the same run, gate and records as a retrain."""
    if dataset_name and get_dataset(dataset_name) is None:
        raise TrainingError(f"There is no dataset named {dataset_name!r}.")
    if not dataset_name and active_dataset() is None:
        raise TrainingError("There is no active dataset. Import one with `qc dataset import`.")
    # An explicit training selects the model again unless quick (retrains default to refits),
    # and trains even when nothing is new: it was asked for by name.
    settings = RunSettings(
        quick=quick, select=not quick, features=features, dataset=dataset_name or None,
        activate=activate, force=True,
    )
    run = execute_run(start_run(settings, actor=actor, spawn=False).id, echo=progress)
    if run.status != RunStatus.SUCCEEDED:
        raise TrainingError(f"Training failed: {(run.error or '').splitlines()[0]}")
    return run.model_version
