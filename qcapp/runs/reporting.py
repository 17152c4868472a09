"""What a run tells as it goes: progress, status message and log on its row, and what the pages
say of it (time left, outcome)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import update

from ..extensions import db
from ..models import RunStatus, RunTask, TrainingRun, as_utc, utcnow
from ..services.learning.run_history import last_duration, run_features
from .records import run_name

# The key a retrain that found nothing new adds to its run's params: the version it matched.
NOTHING_NEW_SINCE = "nothing_new_since"


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
    if run.status == RunStatus.FAILED:
        first_line = (run.error or "unknown error").strip().splitlines()[0]
        return f"{run_name(run)} failed: {first_line}"
    if run.status == RunStatus.SUCCEEDED and run.task == RunTask.LABEL_SCAN:
        return f"{run_name(run)} {run.message}."
    if run.status == RunStatus.SUCCEEDED:
        version = run.model_version
        same_as = nothing_new_since(run)
        if same_as:
            return (
                f"Training run {run.id} registered no version: nothing is new since version "
                f"{same_as} (same training rows, same approved corrections, same settings). "
                "Tick “train anyway” to train regardless."
            )
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


def nothing_new_since(run: TrainingRun) -> str | None:
    """The version a retrain found nothing new since (it registered none), or None."""
    return (run.params or {}).get(NOTHING_NEW_SINCE)
