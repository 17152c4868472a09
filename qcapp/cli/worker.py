"""``qc worker``: run queued jobs (training runs, label-issue scans) on this host."""

from __future__ import annotations

import click
from flask import current_app

from ..runs.jobs import run_worker
from ..runs.queue import queue_enabled
from . import qc


@qc.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting.")
def worker_command(burst: bool) -> None:
    """Run jobs from the Redis queue (QC_REDIS_URL) until stopped; any host may run one."""
    if not queue_enabled():
        raise click.ClickException(
            "There is no job queue: set QC_REDIS_URL (e.g. redis://localhost:6379/0)."
        )
    try:
        run_worker(current_app._get_current_object(), burst=burst)
    except Exception as error:  # noqa: BLE001  (Redis unreachable: a message, not a trace)
        if type(error).__module__.startswith("redis"):
            raise click.ClickException(f"The job queue cannot be reached: {error}") from None
        raise
