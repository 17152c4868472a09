"""The database schema: what is asked, what was answered, what users said, what was trained."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
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
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Query(db.Model):
    """One question as a user asked it."""

    __tablename__ = "queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600), index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    latency_ms: Mapped[float | None] = mapped_column(Float)

    prediction: Mapped[Prediction | None] = relationship(
        back_populates="query", uselist=False, cascade="all, delete-orphan"
    )
    corrections: Mapped[list[Correction]] = relationship(
        back_populates="query", cascade="all, delete-orphan", order_by="Correction.id"
    )

    def __repr__(self) -> str:
        return f"<Query {self.id}>"


class Prediction(db.Model):
    """The model's answer to one query."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), unique=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    coarse_confidence: Mapped[float] = mapped_column(Float, index=True)
    fine_confidence: Mapped[float] = mapped_column(Float)
    # Alternatives and explanation, kept so the result page can be shown again later.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    query: Mapped[Query] = relationship(back_populates="prediction")
    model_version: Mapped[ModelVersion | None] = relationship()


class Correction(db.Model):
    """A user's verdict on a prediction: a proposed label, or a confirmation of it."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="correction")
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    query: Mapped[Query] = relationship(back_populates="corrections")
    reviewed_by: Mapped[User | None] = relationship()

    STATUSES = ("pending", "approved", "rejected")
    KINDS = ("correction", "confirmation")


class Dataset(db.Model):
    """A named base dataset imported into the database; one of them is active."""

    __tablename__ = "datasets"
    # Inactive rows hold NULL, which a unique column allows many times: at most one TRUE.
    __table_args__ = (
        CheckConstraint("is_active IS NULL OR is_active", name="active_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    origin: Mapped[str | None] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Example(db.Model):
    """One labelled training question."""

    __tablename__ = "examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600), index=True)
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(16), default="base", index=True)
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("corrections.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    dataset: Mapped[Dataset | None] = relationship()


class ModelVersion(db.Model):
    """A trained model on disk; at most one row is active (``is_active`` true, the rest null)."""

    __tablename__ = "model_versions"
    # Inactive rows hold NULL, which a unique column allows many times: at most one TRUE.
    __table_args__ = (
        CheckConstraint("is_active IS NULL OR is_active", name="active_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    artifact_path: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    feature_set: Mapped[str] = mapped_column(String(32), default="default")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dataset_name: Mapped[str | None] = mapped_column(String(64))
    dataset_fingerprint: Mapped[str | None] = mapped_column(String(64))
    train_size: Mapped[int] = mapped_column(Integer, default=0)
    test_size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="candidate", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    training_seconds: Mapped[float | None] = mapped_column(Float)
    # Which rows trained it: counts by source, fingerprint, the ids of the corrections used.
    data_sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The promotion gate's comparison with the version that was active when it was trained.
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    STATUSES = ("candidate", "active", "retired")

    def __repr__(self) -> str:
        return f"<ModelVersion {self.version}>"


class TrainingRun(db.Model):
    """One training job, from queued to succeeded or failed."""

    __tablename__ = "training_runs"
    # ``in_progress`` is TRUE while queued or running and NULL after: the unique column lets the
    # database itself refuse a second run while one is under way.
    __table_args__ = (
        CheckConstraint("in_progress IS NULL OR in_progress", name="in_progress_true_or_null"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
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

    model_version: Mapped[ModelVersion | None] = relationship()

    STATUSES = ("queued", "running", "succeeded", "failed")


class User(UserMixin, db.Model):
    """An administrator account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_active(self) -> bool:  # Flask-Login reads this to refuse disabled accounts.
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of ``password``."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class AuditEvent(db.Model):
    """Who did what to which record, and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    actor: Mapped[str | None] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
