"""The standby training process (``python -m qcapp.server.training_standby``): with the web
server's worker and its start check, one of the processes qcapp runs as, so it lives here, above
the app it builds, rather than in ``qcapp.runs``, which the app itself imports.

It takes the instance's lock before anything else, so a second one gives up before it pays for
the app's imports; then it imports them, finds ahead what a refit reads (``prepare``), waits for
one run, executes it and starts its successor (see ``standby``).
"""

from __future__ import annotations

import os
import sys

from ..runs.processes import run_log_name, training_log, write_output_to
from ..runs.standby import (
    SERVER_PID_VARIABLE,
    CodeWatch,
    connection_waiting,
    listen,
    next_run,
    socket_path,
    take_lock,
)


def main() -> int:
    """Wait for one run as the instance's standby, execute it, then start the next standby."""
    instance_path = os.environ["QC_INSTANCE_PATH"]
    server_pid = int(os.environ[SERVER_PID_VARIABLE])
    lock = take_lock(instance_path)
    if lock is None:
        return 0  # another standby already waits for this instance
    code = CodeWatch()  # before the imports: files changed during them count as changed

    from .. import create_app
    from ..extensions import db
    from ..models import RunStatus
    from ..runs.execute import execute_run
    from ..runs.placement import lower_training_priority
    from ..runs.records import run_left_for
    from ..runs.spawn import start_next_standby

    app = create_app()
    lower_training_priority(app.config)
    with app.app_context():
        from ..runs.prepare import Preparation

        # Before listening: what a refit reads is found while nobody waits for it, and a run
        # asked for meanwhile is left for this process (``run_left_for``). While listening,
        # again for a newly active version, giving way to a hand-over.
        preparation = Preparation()
        preparation.refresh()
        listener = listen(instance_path)
        try:
            run_id = next_run(
                listener, server_pid, lambda: run_left_for(os.getpid()), code,
                idle=lambda: preparation.refresh(stop=lambda: connection_waiting(listener)),
            )
        finally:
            listener.close()
            socket_path(instance_path).unlink(missing_ok=True)
            os.close(lock)  # the successor may start while this run goes on
        if run_id is None:
            if code.changed:  # a deploy: the successor imports the new code
                start_next_standby(app, server_pid)
            return 0
        db.engine.dispose()  # connections opened before a long wait may have been dropped
        write_output_to(training_log(app.instance_path, run_log_name(run_id)))
        # The successor starts as soon as the run has ended, before what is measured after it.
        run = execute_run(run_id, after_finish=lambda: start_next_standby(app, server_pid))
    return 0 if run.status == RunStatus.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
