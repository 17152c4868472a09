"""Blocking work that must not stall the other requests of a gevent worker.

Under gunicorn's gevent worker (``qcapp.server.worker``) every "thread" of the app is a
greenlet of one OS thread: a greenlet that computes, or waits in a C library, holds up every
request of that worker until it is done. ``in_native_thread`` runs such work (a model load, a
SQLite checkpoint) on a real thread of gevent's pool, where it shares the CPU as a thread always
did, while only the greenlet that asked waits for it; ``let_others_run`` lets a long loop share
the worker between its batches. Elsewhere (commands, tests, the training process) they simply
call the function, or do nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def gevent_serving() -> bool:
    """Whether this process's threads are greenlets (gevent patched ``threading``)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def let_others_run() -> None:
    """Under gevent, let the worker's other requests take their turn before going on: wait
    until the event loop has looked at every connection and run what was ready (``sleep(0)``
    would only run greenlets already scheduled, not those waiting for their socket). The
    worker calls this after each request, a long loop (a streamed export) between its batches.
    Elsewhere it does nothing."""
    if gevent_serving():
        import gevent

        gevent.idle()


def in_native_thread(function: Callable[..., T], *args) -> T:
    """``function(*args)``, on a native thread when this process serves under gevent.

    The function must not use the worker's greenlet-bound objects (a pooled database
    connection, a request context): it gets plain arguments and returns a plain result.
    """
    if not gevent_serving():
        return function(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args)
