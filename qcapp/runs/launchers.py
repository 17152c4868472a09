"""How a queued run gets a process: one interface, three ways, chosen once from the settings.

* ``JobQueue``: with ``QC_REDIS_URL`` the run is a job on the Redis queue, which any host's
  ``qc worker`` takes (several hosts);
* ``WaitingStandby``: the standby training process that waits beside the server, already
  imported, takes it (``TRAINING_STANDBY``, the default on one machine); without one, or when
  its code is out of date, a process of its own;
* ``LocalProcess``: a ``flask qc run-training`` process of its own, started detached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from ..extensions import db
from ..models import Runner, TrainingRun
from .health import fail_run
from .queue import TRAINING_JOB_TIMEOUT, enqueue
from .records import RunNotStarted
from .spawn import spawn_training_process
from .standby import StandbyOutdated, hand_over, waiting_standby

# The function a queued job runs, by its dotted path (``queue.enqueue``).
TRAINING_JOB = "qcapp.runs.jobs.run_training_job"


class Launcher(Protocol):
    """A way for a queued run to get a process."""

    def launch(self, run: TrainingRun) -> None:
        """Hand ``run`` over, record where it went (``runner``, ``pid``) and commit;
        RunNotStarted when it cannot be started."""


@dataclass(frozen=True)
class LocalProcess:
    """A training process of its own on this machine."""

    app: Flask

    def launch(self, run: TrainingRun) -> None:
        run.runner = Runner.PROCESS
        run.pid = spawn_training_process(self.app, run.id)
        db.session.commit()


@dataclass(frozen=True)
class WaitingStandby:
    """The instance's standby: the waiting one takes the run at once; one that is still
    starting takes it from the database once it is ready (``records.run_left_for``); without
    either, or when the standby's code is out of date, ``otherwise`` starts a process."""

    app: Flask
    otherwise: Launcher

    def launch(self, run: TrainingRun) -> None:
        try:
            pid = hand_over(self.app.instance_path, run.id) or waiting_standby(
                self.app.instance_path
            )
        except StandbyOutdated:
            pid = None
        if pid is None:
            self.otherwise.launch(run)
            return
        run.runner, run.pid = Runner.PROCESS, pid
        db.session.commit()


@dataclass(frozen=True)
class JobQueue:
    """A job on the Redis queue; a queue that cannot be reached fails the run at once."""

    def launch(self, run: TrainingRun) -> None:
        run.runner = Runner.QUEUE
        db.session.commit()
        try:
            enqueue(
                TRAINING_JOB, run.id,
                job_id=f"qc-training-run-{run.id}", timeout=TRAINING_JOB_TIMEOUT,
            )
        except Exception as error:  # noqa: BLE001  (Redis down, refused, misconfigured)
            reason = f"The job queue cannot be reached: {type(error).__name__}: {error}"
            fail_run(run, reason)
            db.session.commit()
            raise RunNotStarted(reason) from None


def launcher_for(app: Flask) -> Launcher:
    """The way this app's runs get a process, from its settings."""
    if app.config.get("REDIS_URL"):
        return JobQueue()
    if app.config["TRAINING_STANDBY"]:
        return WaitingStandby(app, otherwise=LocalProcess(app))
    return LocalProcess(app)
