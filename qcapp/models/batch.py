"""Batch files: a job per uploaded file, classified a slice of rows per page load."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .columns import new_public_token, utcnow


class BatchJob(db.Model):
    """A file of questions classified without JavaScript: a slice of rows per page load, so no
    request holds a web worker for long; the labelled CSV is downloaded once all are done."""

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The job's only public handle (its pages and download), like a query's.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_token)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    # The upload's columns and the labelled CSV's (``BatchTable.columns``/``output_columns``).
    columns: Mapped[list[str]] = mapped_column(JSON)
    output_columns: Mapped[list[str]] = mapped_column(JSON)
    total_rows: Mapped[int] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)

    parts: Mapped[list[BatchPart]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True,
        order_by="BatchPart.position",
    )


class BatchPart(db.Model):
    """A slice of a batch job's rows: the upload's cells going in, labelled CSV lines coming out."""

    __tablename__ = "batch_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # [[line, cells, question, error], ...] as the upload was read.
    rows: Mapped[list[Any]] = mapped_column(JSON)
    # Set by the request that classifies the part; another request leaves it alone meanwhile.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    output: Mapped[str | None] = mapped_column(Text)
    # Its rows that got no label, "line N: why", for the page that lists them.
    problems: Mapped[list[str] | None] = mapped_column(JSON)

    job: Mapped[BatchJob] = relationship(back_populates="parts")


