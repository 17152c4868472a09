"""What was trained: model versions, what changed between two, each activation, and the
artifacts' files as every host reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import utcnow
from .states import VersionStatus

# Which approved corrections and confirmations trained which model version.
version_corrections = db.Table(
    "version_corrections",
    Column(
        "model_version_id",
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "correction_id",
        ForeignKey("corrections.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


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
    status: Mapped[str] = mapped_column(
        String(16), default=VersionStatus.CANDIDATE, index=True
    )
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
    # The flip report against the version active when it was trained: counts per class,
    # McNemar's test on the held-out set, and the promotion decision taken with it.
    flip_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A pinned version's artifact is never pruned, whatever its status.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    # "Correction" is found by name in the models' registry: queries.py imports this module, so
    # importing it here, even for type checkers only, would make the two import each other.
    corrections: Mapped[list[Correction]] = relationship(  # noqa: F821
        secondary=version_corrections, back_populates="model_versions", order_by="Correction.id"
    )

    STATUSES = tuple(VersionStatus)

    def __repr__(self) -> str:
        return f"<ModelVersion {self.version}>"


class VersionFlip(db.Model):
    """A question whose label changes between a baseline version and a candidate."""

    __tablename__ = "version_flips"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    baseline_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(16), index=True)  # "held_out" or "query"
    query_id: Mapped[int | None] = mapped_column(ForeignKey("queries.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    gold_coarse: Mapped[str | None] = mapped_column(String(8))
    gold_fine: Mapped[str | None] = mapped_column(String(24))
    old_coarse: Mapped[str] = mapped_column(String(8))
    old_fine: Mapped[str] = mapped_column(String(24), index=True)
    old_confidence: Mapped[float] = mapped_column(Float)
    new_coarse: Mapped[str] = mapped_column(String(8))
    new_fine: Mapped[str] = mapped_column(String(24), index=True)
    new_confidence: Mapped[float] = mapped_column(Float)

    candidate: Mapped[ModelVersion] = relationship(foreign_keys=[candidate_id])
    baseline: Mapped[ModelVersion | None] = relationship(foreign_keys=[baseline_id])


class VersionActivation(db.Model):
    """One switch of the active version: which version served from when, and who switched."""

    __tablename__ = "version_activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[str] = mapped_column(String(64))  # kept when the version is deleted
    previous_version: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    activated_by: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(200))

    model_version: Mapped[ModelVersion | None] = relationship()


class ArtifactBlob(db.Model):
    """One file of a model version, stored once under its sha256 where every host reads it."""

    __tablename__ = "artifact_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArtifactChunk(db.Model):
    """A slice of a blob: read one at a time, so a large model never sits whole in a query."""

    __tablename__ = "artifact_chunks"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("artifact_blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


