"""gunicorn settings for `make run`, sized for a small machine; every value can be overridden
with GUNICORN_CMD_ARGS or the environment variables read below."""

import gc
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Classification is CPU-bound and the GIL serialises threads, so processes do the work: one per
# core. Sync workers take connections straight from the shared listening socket, one request
# each, so whichever worker is free answers the next request: under 32 clients that gave the
# same throughput as keep-alive (gthread) workers with half the p99 latency, because keep-alive
# connections stay with the worker that accepted them and one worker often held far more of
# them (bench/RESULTS.md). QC_THREADS above 1 switches gunicorn to its gthread worker.
workers = int(os.environ.get("QC_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"
threads = int(os.environ.get("QC_THREADS", 1))
keepalive = 5  # for the gthread worker; sync workers close each connection
timeout = 60
graceful_timeout = 20
backlog = 2048
accesslog = os.environ.get("QC_ACCESS_LOG") or None
errorlog = "-"
loglevel = "info"
# No runtime control socket: it lives at one path per user, so two servers would share it.
control_socket_disable = True


def pre_fork(server, worker):
    """In the arbiter, before each fork: the CPU the new worker will keep to, if any.

    Linux: while there are no more workers than CPUs, each worker keeps to a CPU of its own.
    A training process then shares one worker's core at a small steady share, and no worker
    waits for a core it could have had on the other side, which under load raised the p99
    latency during a refit by half (bench/RESULTS.md). ``QC_PIN_WORKERS=false`` (read with the
    app's settings in ``when_ready``) leaves them free.
    """
    from qcapp.services.learning.processes import worker_cpu

    worker.qc_cpu = None
    if server.qc_pin_workers and hasattr(os, "sched_setaffinity"):
        taken = [getattr(other, "qc_cpu", None) for other in server.WORKERS.values()]
        worker.qc_cpu = worker_cpu(os.sched_getaffinity(0), taken, server.num_workers)


def post_fork(server, worker):
    """In the new worker, before it starts a thread: keep to its CPU."""
    from qcapp.services.learning.processes import keep_worker_on

    if worker.qc_cpu is not None:
        keep_worker_on(worker.qc_cpu)
        server.log.info("worker %s runs on CPU %s", worker.pid, worker.qc_cpu)


def when_ready(server):
    """Once, before workers start: whether they keep to a CPU each (``PIN_WORKERS``), and fail
    training runs whose process died with the last server."""
    from qcapp import create_app
    from qcapp.services.learning.run_health import mark_abandoned_runs

    app = create_app()
    server.qc_pin_workers = app.config["PIN_WORKERS"]
    with app.app_context():
        failed = mark_abandoned_runs(grace_seconds=0)
    if failed:
        server.log.warning("marked abandoned training runs as failed: %s", failed)


def post_worker_init(worker):
    """Load the active model before the worker takes its first request."""
    from qcapp.database import checkpoint_in_background
    from qcapp.services.learning.retraining import keep_standby

    app = worker.wsgi
    # What the worker has imported and built so far lives as long as it does. Frozen, it is
    # left out of the cyclic collector's full collections, which otherwise walk its ~225,000
    # objects for 150-200 ms while a request waits (bench/RESULTS.md). Frozen before the model
    # loads, so that a model replaced by a newer version is still collected.
    gc.collect()
    gc.freeze()
    checkpoint_in_background(app)
    with app.app_context():
        app.extensions["qc_models"].warm()
    app.extensions["qc_models"].start_watching()
    # The arbiter is the server: the standby training process exits when it has gone.
    keep_standby(app, os.getppid())
