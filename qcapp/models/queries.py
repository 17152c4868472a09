"""What is asked and answered: a question, the model's answer, and what users said of it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import new_public_token, utcnow
from .states import CorrectionKind, CorrectionStatus

if TYPE_CHECKING:
    from .accounts import User
    from .versions import ModelVersion


class Query(db.Model):
    """One question as a user asked it."""

    __tablename__ = "queries"
    # Covers the review inbox's count of how often, and by how many clients, a question is asked,
    # and every other lookup or grouping by the normalised question (no index of its own: each
    # stored query would update both).
    __table_args__ = (Index("ix_queries_normalized_client", "normalized", "client_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The only handle the public sees; the integer id stays internal (admin pages, CLI).
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    latency_ms: Mapped[float | None] = mapped_column(Float)
    # The scope check's verdict: False when the text is not an English question at all.
    in_scope: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true(), index=True
    )
    scope_reason: Mapped[str | None] = mapped_column(String(24))

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
    # Fine confidence minus the runner-up's: the review inbox ranks small margins first.
    margin: Mapped[float | None] = mapped_column(Float, index=True)
    # Alternatives and explanation, kept so the result page can be shown again later.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    query: Mapped[Query] = relationship(back_populates="prediction")
    model_version: Mapped[ModelVersion | None] = relationship()




class Correction(db.Model):
    """A user's verdict on a prediction: a proposed label, or a confirmation of it."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The handle the public sees (the API's "id", the query page's anchors): a sequential
    # integer would let anyone count everyone's corrections.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=CorrectionKind.CORRECTION)
    coarse: Mapped[str] = mapped_column(String(8), index=True)
    fine: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default=CorrectionStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    # Why the merge guard wants a second look, by code: {"contradicts_base": "...", ...}.
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revert_reason: Mapped[str | None] = mapped_column(Text)

    query: Mapped[Query] = relationship(back_populates="corrections")
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    reverted_by: Mapped[User | None] = relationship(foreign_keys=[reverted_by_id])
    model_versions: Mapped[list[ModelVersion]] = relationship(
        secondary="version_corrections", back_populates="corrections", order_by="ModelVersion.id"
    )

    STATUSES = tuple(CorrectionStatus)
    KINDS = tuple(CorrectionKind)


class DiscardedQuestion(db.Model):
    """A text a reviewer decided is not a question: out of the inbox and of every training set,
    and one of the scope check's out-of-scope examples from its next fit on."""

    __tablename__ = "discarded_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    normalized: Mapped[str] = mapped_column(String(600), unique=True)
    # The text as first asked: what the scope check learns from.
    text: Mapped[str] = mapped_column(Text)
    query_id: Mapped[int | None] = mapped_column(ForeignKey("queries.id", ondelete="SET NULL"))
    discarded_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<DiscardedQuestion {self.id}>"
