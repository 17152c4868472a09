"""What is trained on: base datasets, their labelled questions, and doubtful labels among them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
from .states import IssueKind, IssueStatus


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

    def __str__(self) -> str:
        # How forms and pages name it: the example form's dataset menu, for one.
        return self.name


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


class LabelIssue(db.Model):
    """A training example whose label looks doubtful, found by the label-issue finder."""

    __tablename__ = "label_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)  # an IssueKind
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    other_example_id: Mapped[int | None] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    given_coarse: Mapped[str] = mapped_column(String(8))
    given_fine: Mapped[str] = mapped_column(String(24))
    suggested_coarse: Mapped[str | None] = mapped_column(String(8))
    suggested_fine: Mapped[str | None] = mapped_column(String(24))
    score: Mapped[float] = mapped_column(Float, index=True)
    status: Mapped[str] = mapped_column(String(16), default=IssueStatus.OPEN, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    example: Mapped[Example | None] = relationship(foreign_keys=[example_id])
    other_example: Mapped[Example | None] = relationship(foreign_keys=[other_example_id])

    KINDS = tuple(IssueKind)
    STATUSES = tuple(IssueStatus)


