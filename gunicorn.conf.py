"""gunicorn settings for `make run`, sized for a small machine; every value can be overridden
with GUNICORN_CMD_ARGS or the environment variables read below."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Classification is CPU-bound: one process per core plus one to cover time spent in I/O.
workers = int(os.environ.get("QC_WORKERS", multiprocessing.cpu_count() + 1))
# A few threads per worker keep connections alive and overlap database writes.
worker_class = "gthread"
threads = int(os.environ.get("QC_THREADS", 4))
keepalive = 5
timeout = 60
graceful_timeout = 20
accesslog = os.environ.get("QC_ACCESS_LOG") or None
errorlog = "-"
loglevel = "info"


def post_worker_init(worker):
    """Load the active model before the worker takes its first request."""
    app = worker.wsgi
    with app.app_context():
        app.extensions["qc_models"].warm()
