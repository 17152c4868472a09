"""How a run gets a process, and nothing else; what a run does is ``services.learning``'s.

A run (a retrain or a label scan) is a row (``records``) that one ``Launcher`` gives a process,
chosen once from the settings (``launchers``): a job on the Redis queue, the standby waiting
beside the server (``standby``, ``prepare``; the process itself is
``qcapp.server.training_standby``), or a process of its own (``spawn``). Whichever process
runs it executes the same body (``execute``), reporting as it goes (``reporting``) under the
training lock, with a heartbeat (``lock``); a run whose process or worker is gone is failed
(``health``). ``placement`` keeps each web worker on a CPU of its
own and the training beside them.

The names below are what the rest of the app imports from here. Each is loaded from its module
when first asked for: gunicorn's arbiter imports ``qcapp.runs.placement`` and must not import
the app, the database or the models with it.
"""

from __future__ import annotations

from importlib import import_module

_MODULE_OF = {
    "Launcher": "launchers",
    "launcher_for": "launchers",
    "RunInProgress": "records",
    "RunNotStarted": "records",
    "current_run": "records",
    "latest_run": "records",
    "RunReporter": "reporting",
    "nothing_new_since": "reporting",
    "remaining_seconds": "reporting",
    "run_outcome": "reporting",
    "TrainingError": "start",
    "start_run": "start",
    "train_version": "start",
    "wait_for_run": "start",
    "execute_run": "execute",
    "mark_abandoned_runs": "health",
    "mark_stale_runs": "health",
    "keep_standby": "spawn",
    "start_next_standby": "spawn",
    "lower_training_priority": "placement",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
