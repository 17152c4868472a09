"""Starting training processes on this machine: a run's own, and the standby that waits for the
server's next run. Both start lowered (``placement``) and outlive the process that started them."""

from __future__ import annotations

import os
import sys

from flask import Flask, has_request_context

from .placement import lower_training_priority
from .processes import process_alive, run_log_name, start_detached, training_log
from .queue import queue_enabled
from .standby import SERVER_PID_VARIABLE

# Where a server's worker keeps its server's pid (the gunicorn arbiter), see ``keep_standby``.
SERVER_PID_EXTENSION = "qc_server_pid"


def training_environment(app: Flask) -> dict[str, str]:
    """The environment of a training process: this app's database, models and instance."""
    return {
        **os.environ,
        "QC_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "QC_MODELS_DIR": app.config["MODELS_DIR"],
        "QC_SECRET_KEY": app.config["SECRET_KEY"],
        "QC_INSTANCE_PATH": app.instance_path,
        "QC_PROMOTION_MARGIN": str(app.config["PROMOTION_MARGIN"]),
    }


def keep_standby(app: Flask, server_pid: int) -> None:
    """Have a training process waiting for this server's next run (``standby``), unless the
    settings say otherwise or runs go to the job queue; the server's workers call this."""
    app.extensions[SERVER_PID_EXTENSION] = server_pid
    with app.app_context():
        if not app.config["TRAINING_STANDBY"] or queue_enabled():
            return
    start_standby(app, server_pid)


def start_next_standby(app: Flask, server_pid: int | None) -> None:
    """After a run: a standby for the server that started it, if that server still runs."""
    if app.config["TRAINING_STANDBY"] and process_alive(server_pid):
        start_standby(app, server_pid)


def start_standby(app: Flask, server_pid: int) -> int:
    """Start a standby for the server ``server_pid``; it exits at once when one already waits.
    Returns its pid. It stays in the caller's session (the server's), in a process group of
    its own, like a training process started from a request."""
    return _start_lowered(
        app,
        [sys.executable, "-m", "qcapp.server.training_standby"],
        {**training_environment(app), SERVER_PID_VARIABLE: str(server_pid)},
        "standby.log",
        process_group=0,
    )


def spawn_training_process(app: Flask, run_id: int) -> int:
    """Start ``flask qc run-training RUN_ID`` detached from its parent; returns its pid.

    From a web worker (a request) the process stays in the server's session, in a process group
    of its own: in the workers' autogroup SCHED_IDLE yields the core to them at once, whereas in
    a group of its own it only gets a small share and waits for the end of its time slice
    (bench/RESULTS.md, "From approval to every worker"). From the command line it leads a
    session of its own, which ``lower_priority`` lowers as a whole. Either way it survives the
    process that started it and no terminal's Ctrl-C reaches it.
    """
    environment = training_environment(app)
    server_pid = app.extensions.get(SERVER_PID_EXTENSION)
    if server_pid is not None:  # a server's worker: the process starts a standby when done
        environment[SERVER_PID_VARIABLE] = str(server_pid)
    session = {"process_group": 0} if has_request_context() else {"start_new_session": True}
    return _start_lowered(
        app,
        [sys.executable, "-m", "flask", "--app", "qcapp", "qc", "run-training", str(run_id)],
        environment,
        run_log_name(run_id),
        **session,
    )


def _start_lowered(
    app: Flask, command: list[str], environment: dict[str, str], log_name: str, **session
) -> int:
    """Start a training process (a run's or a standby) and lower its priority; its pid."""
    log_file = training_log(app.instance_path, log_name)
    process = start_detached(command, environment, log_file, f"reap-{log_name}", **session)
    # Lowered at once from here: the process would otherwise spend its start (the interpreter,
    # the imports, the app) at full priority.
    try:
        lower_training_priority(app.config, process.pid)
    except OSError:  # already finished, or not ours to change: it lowers itself as well
        pass
    return process.pid
