"""gunicorn settings for `make run`, sized for a small machine; every value can be overridden
with GUNICORN_CMD_ARGS or the environment variables read below."""

import gc
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Classification is CPU-bound and the GIL serialises threads, so processes do the work: one per
# core. Each is gunicorn's gevent worker reading every request whole, within deadlines, before
# the app sees it (qcapp/server/worker.py): slow or stalled clients wait as greenlets and never
# hold a worker. With 200 slow connections open beside 32 clients classifying it kept 561
# requests/s and a p99 of 86 ms (0.87 of the same load alone), where two such connections left
# sync workers answering nothing; without them, with connections kept alive, it served 843
# requests/s against sync workers' 784, p99 46.5 against 47.7 ms (bench/RESULTS.md, "Open
# internet: slow clients and the front").
workers = int(os.environ.get("QC_WORKERS", multiprocessing.cpu_count()))
worker_class = "qcapp.server.worker.BufferingGeventWorker"
# A client may keep its connection for the next request, for up to 5 s between requests
# (gunicorn bounds the wait for each next request's headers by it). Each worker serves its kept
# connections in turn (qcapp/server/worker.py), so none waits behind busier ones.
keepalive = 5
worker_connections = 1000  # open connections per worker, slow ones included
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
    latency during a refit by half (bench/RESULTS.md, "From approval to every worker").
    ``QC_PIN_WORKERS=false`` (read with the app's settings in ``when_ready``) leaves them free.
    """
    from qcapp.runs.placement import worker_cpu

    worker.qc_cpu = None
    if server.qc_pin_workers and hasattr(os, "sched_setaffinity"):
        taken = [getattr(other, "qc_cpu", None) for other in server.WORKERS.values()]
        worker.qc_cpu = worker_cpu(os.sched_getaffinity(0), taken, server.num_workers)


def post_fork(server, worker):
    """In the new worker, before it starts a thread: keep to its CPU."""
    from qcapp.runs.placement import keep_worker_on

    if worker.qc_cpu is not None:
        keep_worker_on(worker.qc_cpu)
        server.log.info("worker %s runs on CPU %s", worker.pid, worker.qc_cpu)


def when_ready(server):
    """Once, before workers start: whether they keep to a CPU each (``PIN_WORKERS``), and fail
    training runs whose process died with the last server. Asked of the app in a process of its
    own (``qcapp.server.start``), so that the arbiter, which every worker is forked from, never
    imports the app before the gevent worker patches the standard library."""
    import json
    import subprocess
    import sys

    answer = subprocess.run(
        [sys.executable, "-m", "qcapp.server.start"], capture_output=True, text=True
    )
    if answer.returncode != 0:
        lines = answer.stderr.strip().splitlines() or ["the app could not be started"]
        raise SystemExit(lines[-1])
    checked = json.loads(answer.stdout.strip().splitlines()[-1])
    defer_accept(getattr(server, "LISTENERS", []))
    server.qc_pin_workers = checked["pin_workers"]
    if checked["abandoned_runs"]:
        server.log.warning(
            "marked abandoned training runs as failed: %s", checked["abandoned_runs"]
        )


def defer_accept(listeners) -> None:
    """Linux: a TCP connection reaches a worker's accept only once its first bytes have come,
    as nginx's ``deferred`` listeners do. The worker then finds the request waiting instead of
    yielding to the event loop for it, and a client that connects and sends nothing never
    reaches a worker at all."""
    import socket

    if not hasattr(socket, "TCP_DEFER_ACCEPT"):
        return
    for listener in listeners:
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6):
            listener.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)


def post_worker_init(worker):
    """Load the active model before the worker takes its first request."""
    from qcapp.database import checkpoint_in_background
    from qcapp.runs.spawn import keep_standby

    app = worker.wsgi
    # What the worker has imported and built so far lives as long as it does. Frozen, it is
    # left out of the cyclic collector's full collections, which otherwise walk its ~225,000
    # objects for 150-200 ms while a request waits (bench/RESULTS.md, "From approval to every
    # worker"). Frozen before the model loads, so that a model replaced by a newer version is
    # still collected.
    gc.collect()
    gc.freeze()
    checkpoint_in_background(app)
    with app.app_context():
        app.extensions["qc_models"].warm()
    app.extensions["qc_models"].start_watching()
    # The arbiter is the server: the standby training process exits when it has gone.
    keep_standby(app, os.getppid())


def worker_exit(server, worker):
    """Close the log handlers while the worker's modules are still whole. Left to the
    interpreter's teardown, each handler's weak reference wakes the logging lock after gevent's
    thread module has been emptied, and every worker ended with a TypeError on its log."""
    import logging

    logging.shutdown()
    logging._handlerList.clear()  # noqa: SLF001  (the weak references whose callbacks fail)
