"""The job queue on Redis (RQ): web hosts enqueue, a `qc worker` on any host runs the jobs."""

from __future__ import annotations

from flask import current_app

QUEUE_NAME = "qcapp"
# A training job may run this long before RQ stops it; a run normally takes minutes.
TRAINING_JOB_TIMEOUT = 6 * 3600


def queue_enabled() -> bool:
    """Whether jobs go to Redis (QC_REDIS_URL is set) rather than to a child process."""
    return bool(current_app.config.get("REDIS_URL"))


def redis_connection():
    """A client for QC_REDIS_URL."""
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"])


def job_queue():
    """The queue every host enqueues on and every worker listens to."""
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection())


def enqueue(function_path: str, *args, job_id: str, timeout: int) -> str:
    """Put one job on the queue by the dotted path of its function; returns its id.

    The path, not the function, so that this module needs nothing of what the job runs.
    """
    job = job_queue().enqueue_call(
        function_path, args=args, job_id=job_id, timeout=timeout, result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600, description=f"{function_path}{args}",
    )
    return job.id
