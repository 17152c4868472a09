"""The job a `qc worker` runs: a run (a retrain or a label-issue scan), by its id in the database.

RQ's default worker forks a work horse per job: the job runs in a copy of the worker process,
whose app is reused, so pooled database connections inherited from the parent are dropped
first (two processes must never share one connection).
"""

from __future__ import annotations

import sys

from flask import Flask

from ..extensions import db

# Where this module lived when jobs were first enqueued: a job still waiting in Redis from
# before names its function by that path, and a worker started from this code runs it too.
FORMER_PATH = "qcapp.services.learning.jobs"

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
    """Execute the queued run ``run_id`` (a retrain or a label scan); returns its final status."""
    from .execute import execute_run
    from .health import mark_stale_runs

    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)
        # A run whose worker was killed before this one started is failed first, so the
        # runs page never shows two runs going at once.
        mark_stale_runs()
        return execute_run(run_id).status


def answer_to_former_path() -> None:
    """Let a job that names this module by its former path (``FORMER_PATH``) find it."""
    sys.modules.setdefault(FORMER_PATH, sys.modules[__name__])


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Run jobs from the queue until stopped (or, with ``burst``, until it is empty)."""
    from rq import Worker

    from .queue import job_queue

    bind_worker_app(app)
    answer_to_former_path()
    with app.app_context():
        queue = job_queue()
        # The parent holds no connection while it waits: each job's horse opens its own.
        db.engine.dispose()
    worker = Worker([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=False)
