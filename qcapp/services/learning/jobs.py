"""The jobs a `qc worker` runs: training runs and label-issue scans, each in the database's terms.

RQ's default worker forks a work horse per job: the job runs in a copy of the worker process,
whose app is reused, so pooled database connections inherited from the parent are dropped
first (two processes must never share one connection).
"""

from __future__ import annotations

from flask import Flask

from ...extensions import db
from ...models import Dataset

_worker_app: Flask | None = None


def bind_worker_app(app: Flask) -> None:
    """Remember the app the worker was started with, for the jobs it runs."""
    global _worker_app
    _worker_app = app


def _app() -> Flask:
    if _worker_app is None:
        raise RuntimeError("qcapp jobs run in `flask --app qcapp qc worker`, which binds the app")
    return _worker_app


def run_training_job(run_id: int) -> str:
    """Run the queued training run ``run_id``; returns its final status."""
    from .retraining import execute_run
    from .run_health import mark_stale_runs

    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)
        # A run whose worker was killed before this one started is failed first, so the
        # runs page never shows two runs going at once.
        mark_stale_runs()
        return execute_run(run_id).status


def run_label_issue_scan(dataset_id: int, actor: str | None) -> dict:
    """Scan a dataset for doubtful labels (one too large for a web request)."""
    from ..insight.label_issues import scan_label_issues

    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)
        dataset = db.session.get(Dataset, dataset_id)
        if dataset is None:
            raise LookupError(f"no dataset {dataset_id}")
        return scan_label_issues(dataset, actor=actor)


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Run jobs from the queue until stopped (or, with ``burst``, until it is empty)."""
    from rq import Worker

    from .queue import job_queue

    bind_worker_app(app)
    with app.app_context():
        queue = job_queue()
        # The parent holds no connection while it waits: each job's horse opens its own.
        db.engine.dispose()
    worker = Worker([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=False)
