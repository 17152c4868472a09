"""Training runs: one at a time, in a separate process or a queued job, gated before promotion."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from pathlib import Path

from flask import Flask, current_app, has_request_context
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ...database import read_only_connection
from ...extensions import db
from ...models import Dataset, ModelVersion, Prediction, TrainingRun, VersionActivation, utcnow
from ..accounts.accounts import record_event
from ..data.datasets import active_dataset, get_dataset
from .processes import process_alive, run_on, server_cpus, start_detached
from .queue import TRAINING_JOB_TIMEOUT, enqueue, queue_enabled
from .run_health import as_utc, fail_run, mark_abandoned_runs, mark_stale_runs
from .run_history import last_duration, run_features
from .run_lock import Heartbeat, training_lock
from .standby import SERVER_PID_VARIABLE, StandbyOutdated, hand_over, waiting_standby

log = logging.getLogger(__name__)

# Where a server's worker keeps its server's pid (the gunicorn arbiter), see ``keep_standby``.
SERVER_PID_EXTENSION = "qc_server_pid"


class RunNotStarted(RuntimeError):
    """A training run could not be started; the message says why."""


class RunInProgress(RunNotStarted):
    """Another run (a retrain or a label scan) is queued or running."""

    def __init__(self, run: TrainingRun | None):
        super().__init__(
            f"{run_name(run)} is already {run.status}." if run else "A run is in progress."
        )
        self.run = run


def run_name(run: TrainingRun) -> str:
    """How messages name a run: "Training run 7", "Label scan 8"."""
    return f"{'Label scan' if run.task == LABEL_SCAN else 'Training run'} {run.id}"


# The tasks a run may have (TrainingRun.task).
RETRAIN, LABEL_SCAN = "retrain", "label_scan"


def current_run() -> TrainingRun | None:
    """The queued or running training run, if any."""
    return db.session.scalar(select(TrainingRun).where(TrainingRun.in_progress.is_(True)))


def start_run(
    *,
    actor: str | None,
    quick: bool = False,
    spawn: bool = True,
    task: str = RETRAIN,
    **settings,
) -> TrainingRun:
    """Queue a run and start its process; RunInProgress when one is under way.

    A retrain's ``settings`` may name a ``dataset``, a ``features`` set, ``select=True`` (a
    full run with model selection instead of a refit when one is possible) and
    ``activate="never"``; a label scan's name the ``dataset_id`` it scans.
    """
    mark_abandoned_runs()
    existing = current_run()
    if existing is not None:
        raise RunInProgress(existing)
    run = TrainingRun(
        task=task,
        status="queued",
        in_progress=True,
        started_by=actor,
        params={"quick": quick, **settings} if task == RETRAIN else dict(settings),
        message="queued",
        log="",
    )
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RunInProgress(current_run()) from None
    if task == RETRAIN:
        record_event(
            actor, "retrain_started", "training_run", run.id,
            {"quick": quick, "select": bool(settings.get("select"))},
        )
    else:
        record_event(actor, "label_scan_started", "training_run", run.id, dict(settings))
    db.session.commit()
    if spawn and queue_enabled():
        enqueue_run(run)
    elif spawn:
        app = current_app._get_current_object()
        run.runner = "process"
        # The waiting standby takes it at once; one that is still starting takes it from
        # here once it is ready (``run_left_for``); without either, or when the standby's code
        # is out of date, a process of its own.
        try:
            pid = hand_over(app.instance_path, run.id) or waiting_standby(app.instance_path)
        except StandbyOutdated:
            pid = None
        run.pid = pid or spawn_training_process(app, run.id)
        db.session.commit()
    return run


def latest_run(task: str) -> TrainingRun | None:
    """The newest run of ``task``, whatever its state."""
    return db.session.scalar(
        select(TrainingRun).where(TrainingRun.task == task).order_by(TrainingRun.id.desc()).limit(1)
    )


def run_left_for(pid: int) -> int | None:
    """The queued run a worker left for the standby ``pid`` while it was starting, if any.

    The standby asks while it waits; a database it cannot read right now only means no run.
    """
    try:
        with read_only_connection() as connection:
            return connection.scalar(
                select(TrainingRun.id).where(
                    TrainingRun.in_progress.is_(True),
                    TrainingRun.status == "queued",
                    TrainingRun.runner == "process",
                    TrainingRun.pid == pid,
                )
            )
    except SQLAlchemyError:
        log.exception("looking for a run left for this standby failed")
        return None


def enqueue_run(run: TrainingRun) -> None:
    """Hand the run to the job queue; a queue that cannot be reached fails it at once."""
    run.runner = "queue"
    db.session.commit()
    try:
        enqueue(
            "qcapp.services.learning.jobs.run_training_job", run.id,
            job_id=f"qc-training-run-{run.id}", timeout=TRAINING_JOB_TIMEOUT,
        )
    except Exception as error:  # noqa: BLE001  (Redis down, refused, misconfigured)
        reason = f"The job queue cannot be reached: {type(error).__name__}: {error}"
        fail_run(run, reason)
        db.session.commit()
        raise RunNotStarted(reason) from None


def lower_priority(nice: int, pid: int = 0, idle: bool = False) -> None:
    """Let a training process (this one by default) run only on CPU time the web workers leave.

    Linux first shares the CPU between sessions' autogroups, and only then by the nice values
    and policies of the processes inside each group. A process started by a web worker stays in
    the server's session (see ``spawn_training_process``): there SCHED_IDLE (``idle``) means a
    worker that wakes up takes the core at once, and nice 19 the smallest share. A process that
    leads a session of its own (started by ``qc retrain``) competes with the server's group as a
    whole, so that group's nice value is set too; a process in someone else's session never
    touches it, since that would slow every process of the session, web workers included.
    ``nice`` is the value to reach, never a step down from a lower priority already set, so the
    parent and the process itself may both apply it.
    """
    if nice > 0:
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        if os.getsid(pid) == (pid or os.getpid()):
            try:
                Path(f"/proc/{pid or 'self'}/autogroup").write_text(str(min(nice, 19)))
            except OSError:  # not Linux, or autogroups disabled: the nice value still applies
                pass
    if idle and hasattr(os, "SCHED_IDLE"):
        # Threads started afterwards (BLAS, ONNX Runtime) inherit the policy.
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))


def lower_training_priority(config: Mapping, pid: int = 0) -> None:
    """Place a training process (this one by default) beside the server's web workers.

    Workers free to move (no ``QC_SERVER_CPUS``): nice ``TRAINING_NICE`` and SCHED_IDLE
    (``TRAINING_IDLE``), so it runs on what they leave. Workers kept each on a CPU of its own
    (gunicorn.conf.py): it may run on all the server's CPUs again, at the plain policy and nice
    ``TRAINING_NICE_BESIDE_PINNED_WORKERS``. There a worker never waits for a core while the
    training runs on another, and the training takes a small, steady share of the core it
    shares with one worker, where SCHED_IDLE would leave it almost none under load
    (bench/RESULTS.md, "From approval to every worker").
    """
    cpus = server_cpus()
    if cpus is None:
        lower_priority(config["TRAINING_NICE"], pid, config["TRAINING_IDLE"])
        return
    try:
        run_on(cpus, pid)
    except OSError:  # CPUs taken away from this process since the server started
        pass
    lower_priority(config["TRAINING_NICE_BESIDE_PINNED_WORKERS"], pid)


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
        [sys.executable, "-m", "qcapp.standby_process"],
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
    session of its own, which
    ``lower_priority`` lowers as a whole. Either way it survives the process that started it
    and no terminal's Ctrl-C reaches it.
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


def run_log_name(run_id: int) -> str:
    """The file in ``training-logs`` that holds a run's output, whichever process runs it."""
    return f"run-{run_id}.log"


def training_log(app: Flask, name: str) -> Path:
    """A training process's log file in the instance folder."""
    return Path(app.instance_path) / "training-logs" / name


def _start_lowered(
    app: Flask, command: list[str], environment: dict[str, str], log_name: str, **session
) -> int:
    """Start a training process (a run's or a standby) and lower its priority; its pid."""
    log_file = training_log(app, log_name)
    process = start_detached(command, environment, log_file, f"reap-{log_name}", **session)
    # Lowered at once from here: the process would otherwise spend its start (the interpreter,
    # the imports, the app) at full priority.
    try:
        lower_training_priority(app.config, process.pid)
    except OSError:  # already finished, or not ours to change: it lowers itself as well
        pass
    return process.pid


def remaining_seconds(run: TrainingRun) -> float | None:
    """An estimate of the seconds a running run still needs, or None when nothing is known.

    The bar's shares are the last run's step durations, so once it has moved a little the
    pace so far extrapolates well, busy machine included; before that, the last run of the
    same kind's duration minus the time spent.
    """
    if run.in_progress is None or run.started_at is None:
        return None
    elapsed = max(0.0, (utcnow() - as_utc(run.started_at)).total_seconds())
    fraction = float(run.progress or 0.0)
    if fraction >= 0.1:
        return elapsed * (1.0 - fraction) / fraction
    previous = last_duration(run.kind, run_features(run))
    return max(0.0, previous - elapsed) if previous is not None else None


def run_outcome(run: TrainingRun) -> str | None:
    """What a finished run came to, in one sentence (None while it runs)."""
    if run.status == "failed":
        first_line = (run.error or "unknown error").strip().splitlines()[0]
        return f"{run_name(run)} failed: {first_line}"
    if run.status == "succeeded" and run.task == LABEL_SCAN:
        return f"{run_name(run)} {run.message}."
    if run.status == "succeeded":
        version = run.model_version
        if version is None:
            return f"Training run {run.id} succeeded; its version has since been deleted."
        if version.is_active:
            return f"Training run {run.id} succeeded: version {version.version} is active."
        reason = f" ({version.status_reason})" if version.status_reason else ""
        return (
            f"Training run {run.id} succeeded: version {version.version} is a "
            f"{version.status}, not activated{reason}."
        )
    return None


def wait_for_run(
    run_id: int,
    timeout: float = 3600.0,
    poll: float = 0.5,
    on_poll: Callable[[TrainingRun], None] | None = None,
) -> TrainingRun:
    """Block until the run has finished (or its process died); returns it refreshed."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        run = db.session.get(TrainingRun, run_id)
        if on_poll:
            on_poll(run)
        db.session.commit()  # never wait inside a transaction (it would hold SQLite's lock)
        if run.in_progress is None:
            return run
        if run.runner == "queue":
            mark_stale_runs()
        elif run.pid and not process_alive(run.pid):
            time.sleep(poll)  # let a just-finished process commit its last write
            db.session.expire_all()
            run = db.session.get(TrainingRun, run_id)
            if run.in_progress:
                fail_run(run, "The training process stopped before it finished.")
                db.session.commit()
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"training run {run_id} did not finish in {timeout:.0f} s")
        time.sleep(poll)


class RunReporter:
    """Writes a run's progress, status message and log to its row as it goes.

    The log gets one line per step and per result, never the same line twice in a row; the
    progress only moves forward. Each write is one UPDATE committed at once: a training process
    must never sit inside a transaction, because on SQLite that would hold the write lock the
    web workers need.
    """

    MIN_INTERVAL = 0.25  # seconds between progress-only writes

    def __init__(
        self, run_id: int, log: str = "", echo: Callable[[str, float], None] | None = None
    ):
        self.run_id = run_id
        self.lines = log
        self.last_line = ""
        self.last_write = 0.0
        self.fraction = 0.0
        self.echo = echo

    def _write(self, **values) -> None:
        db.session.execute(
            update(TrainingRun).where(TrainingRun.id == self.run_id).values(**values)
        )
        db.session.commit()
        self.last_write = time.monotonic()

    def _append(self, message: str) -> bool:
        """Add ``message`` to the log unless it repeats the last line; whether it was added."""
        if message == self.last_line:
            return False
        self.last_line = message
        if self.echo:
            self.echo(message, self.fraction)
        self.lines += f"{utcnow():%H:%M:%S} {message}\n"
        return True

    def log(self, message: str) -> None:
        """One log line (also the status message), written at once."""
        if self._append(message):
            self._write(log=self.lines, message=message[:500], progress=self.fraction)

    def progress(self, fraction: float, message: str) -> None:
        """Move the bar (never backwards) and update the status message."""
        self.fraction = max(self.fraction, min(1.0, round(fraction, 4)))
        if time.monotonic() - self.last_write >= self.MIN_INTERVAL:
            self._write(progress=self.fraction, message=message[:500])

    def plan(self, kind: str, reason: str) -> None:
        """Record what kind of run this is and why."""
        self._write(kind=kind, kind_reason=reason[:300])

    def timings(self, seconds: dict[str, float]) -> None:
        """Record how long each step took, for the next run's progress bar and estimate."""
        self._write(step_seconds=seconds)

    def note(self, message: str) -> None:
        """A log line after the run has ended: its status message and progress stay."""
        if self._append(message):
            self._write(log=self.lines)


def execute_run(
    run_id: int,
    echo: Callable[[str, float], None] | None = None,
    after_finish: Callable[[], None] | None = None,
) -> TrainingRun:
    """The body of a training process: train, evaluate, gate, save, register, maybe promote.

    Once the run has ended, ``after_finish()`` (a process starts the next standby there), then
    what the run left to measure, which a newer run interrupts.
    """
    from training import cues_remembered

    # Each question's cues are found once for the whole run and what is measured after it.
    with cues_remembered():
        reporter, follow_up = _train_and_record(run_id, echo)
        if after_finish is not None:
            after_finish()
        if follow_up is not None:
            try:
                follow_up(reporter.note)
            except Exception as error:  # noqa: BLE001  (the run stands; only the measure is lost)
                db.session.rollback()
                log.exception("measuring after training run %s failed", run_id)
                reporter.note(f"measuring after the run failed: {type(error).__name__}: {error}")
    return db.session.get(TrainingRun, run_id)


def _train_and_record(
    run_id: int, echo: Callable[[str, float], None] | None
) -> tuple[RunReporter, Callable[[Callable[[str], None]], None] | None]:
    """The run itself, recorded as succeeded or failed: its reporter, and what is left to
    measure after it."""
    run = db.session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"no training run {run_id}")
    if run.status != "queued":
        raise RuntimeError(f"training run {run_id} is {run.status}, not queued")
    run.status, run.started_at, run.pid = "running", utcnow(), os.getpid()
    run.host, run.heartbeat_at = socket.gethostname()[:120], utcnow()
    settings = {
        **(run.params or {}),
        "quick": bool((run.params or {}).get("quick")),
        "actor": run.started_by,
    }
    reporter = RunReporter(run.id, run.log or "", echo)
    db.session.commit()
    heartbeat = (
        Heartbeat(
            current_app._get_current_object(), run_id,
            float(current_app.config["RUN_HEARTBEAT_SECONDS"]),
        )
        if run.runner == "queue"
        else nullcontext()
    )
    task = run.task
    try:
        with heartbeat, training_lock():
            if task == LABEL_SCAN:
                summary = _scan_labels(settings, reporter)
            else:
                from .gate import train_and_gate

                version, follow_up = train_and_gate(settings, reporter)
    except Exception as error:  # noqa: BLE001  (any failure is recorded on the run)
        db.session.rollback()
        run = db.session.get(TrainingRun, run_id)
        fail_run(run, f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}")
        failed = "label_scan_failed" if task == LABEL_SCAN else "retrain_failed"
        record_event(run.started_by, failed, "training_run", run.id, {"error": str(error)})
        db.session.commit()
        return reporter, None
    if task == LABEL_SCAN:
        message = (
            f"found {summary['doubtful']} doubtful labels and {summary['near_duplicates']} "
            f"near-duplicates in {summary['rows']} rows"
        )
        reporter.progress(1.0, "finished")
        reporter.log(f"finished: {message}")
        run = db.session.get(TrainingRun, run_id)
        run.status, run.in_progress, run.progress = "succeeded", None, 1.0
        run.message, run.finished_at = message, utcnow()
        db.session.commit()
        return reporter, None
    reporter.progress(1.0, "finished")
    reporter.log(f"finished: version {version.version} is {version.status}")
    run = db.session.get(TrainingRun, run_id)
    run.status, run.in_progress, run.progress = "succeeded", None, 1.0
    run.message = f"finished: version {version.version} is {version.status}"
    run.finished_at = utcnow()
    run.model_version_id = version.id
    record_event(
        run.started_by,
        "retrain_succeeded",
        "training_run",
        run.id,
        {"version": version.version, "status": version.status},
    )
    db.session.commit()
    return reporter, follow_up


def _scan_labels(settings: dict, reporter: RunReporter) -> dict:
    """A label scan's body: score the dataset's training labels and store the findings."""
    from ..insight.label_issues import scan_label_issues

    dataset = db.session.get(Dataset, settings.get("dataset_id"))
    if dataset is None:
        raise LookupError(f"there is no dataset {settings.get('dataset_id')!r} to scan")
    reporter.log(f"scanning dataset {dataset.name} for doubtful labels and near-duplicates")
    return scan_label_issues(dataset, actor=settings.get("actor"), progress=reporter.progress)


def served_version_ids() -> set[int]:
    """Ids of the versions that ever answered a stored question or were ever active."""
    answered = select(Prediction.model_version_id).where(Prediction.model_version_id.is_not(None))
    activated = select(VersionActivation.model_version_id).where(
        VersionActivation.model_version_id.is_not(None)
    )
    ids = set(db.session.scalars(answered.distinct()))
    ids.update(db.session.scalars(activated.distinct()))
    ids.update(
        db.session.scalars(select(ModelVersion.id).where(ModelVersion.activated_at.is_not(None)))
    )
    return ids


def traffic_served(version: ModelVersion) -> str | None:
    """Why a version that served traffic must be kept, or None when it never did."""
    answers = db.session.scalar(
        select(func.count())
        .select_from(Prediction)
        .where(Prediction.model_version_id == version.id)
    )
    activations = db.session.scalar(
        select(func.count())
        .select_from(VersionActivation)
        .where(VersionActivation.model_version_id == version.id)
    )
    if not answers and not activations and version.activated_at is None:
        return None
    return (
        f"Version {version.version} served traffic (active {activations or 1} time(s), "
        f"{answers} stored answer(s)) and is kept: the history and every stored answer name "
        "the model that gave it."
    )


def delete_version(version: ModelVersion, *, actor: str | None) -> None:
    """Delete the row and artifact of a version that never served; ValueError says why not."""
    import shutil

    from ..data.artifacts import resolve_artifact

    if version.is_active:
        raise ValueError("The active version cannot be deleted; activate another first.")
    served = traffic_served(version)
    if served:
        raise ValueError(served)
    path = resolve_artifact(current_app.config["MODELS_DIR"], version.artifact_path)
    db.session.execute(
        update(TrainingRun)
        .where(TrainingRun.model_version_id == version.id)
        .values(model_version_id=None)
    )
    record_event(actor, "version_deleted", "model_version", version.version)
    db.session.delete(version)
    db.session.commit()
    models_dir = Path(current_app.config["MODELS_DIR"]).resolve()
    if path.resolve().is_relative_to(models_dir) and path.exists():
        shutil.rmtree(path, ignore_errors=True)


class TrainingError(RuntimeError):
    """Training cannot start or did not finish; the message says why."""


def train_version(
    dataset_name: str | None = None,
    *,
    quick: bool = False,
    features: str = "default",
    actor: str | None = None,
    progress: Callable[[str, float], None] | None = None,
    activate: bool = True,
) -> ModelVersion:
    """Train in this process through the same run, gate and records as a retrain."""
    if dataset_name and get_dataset(dataset_name) is None:
        raise TrainingError(f"There is no dataset named {dataset_name!r}.")
    if not dataset_name and active_dataset() is None:
        raise TrainingError("There is no active dataset. Import one with `qc dataset import`.")
    # An explicit training selects the model again unless quick; retrains default to refits.
    settings = {"features": features, "select": not quick}
    if dataset_name:
        settings["dataset"] = dataset_name
    if not activate:
        settings["activate"] = "never"
    run = start_run(actor=actor, quick=quick, spawn=False, **settings)
    run = execute_run(run.id, echo=progress)
    if run.status != "succeeded":
        raise TrainingError(f"Training failed: {(run.error or '').splitlines()[0]}")
    return run.model_version
