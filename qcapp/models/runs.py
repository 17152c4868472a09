"""Runs: a retrain or a label scan, from queued to succeeded or failed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import utcnow
from .states import RunKind, RunStatus, RunTask

if TYPE_CHECKING:
    from .versions import ModelVersion


class TrainingRun(db.Model):
    """One training job, from queued to succeeded or failed."""

    __tablename__ = "training_runs"
    # ``in_progress`` is TRUE while queued or running and NULL after: the unique column lets the
    # database itself refuse a second run while one is under way.
    __table_args__ = (
        CheckConstraint("in_progress IS NULL OR in_progress", name="in_progress_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the run does (a RunTask): a retrain or a label scan. Both are heavy, so both run in
    # the training process or a queued job, one at a time.
    task: Mapped[str] = mapped_column(
        String(16), default=RunTask.RETRAIN, server_default=RunTask.RETRAIN.value
    )
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED, index=True)
    in_progress: Mapped[bool | None] = mapped_column(Boolean, unique=True, default=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(500))
    log: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by: Mapped[str | None] = mapped_column(String(80))
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    # Which RunKind the run became (a refit, a full or a quick run), and why.
    kind: Mapped[str | None] = mapped_column(String(16))
    kind_reason: Mapped[str | None] = mapped_column(String(300))
    # Seconds each step took: the next run of the same kind weighs its progress bar by them.
    step_seconds: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # Where the run executes (a Runner): a process on the machine that asked, or a job any
    # host's `qc worker` picks up. A queued job's pid means nothing on another host, so its
    # liveness is the heartbeat it writes while it runs.
    runner: Mapped[str | None] = mapped_column(String(16))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    host: Mapped[str | None] = mapped_column(String(120))

    model_version: Mapped[ModelVersion | None] = relationship()

    STATUSES = tuple(RunStatus)
    KINDS = tuple(RunKind)
    TASKS = tuple(RunTask)


