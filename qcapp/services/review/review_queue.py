"""The review queue: pending visitor proposals, each with the proposals beside it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Correction, CorrectionStatus, Prediction, Query


@dataclass
class QueueItem:
    """A pending correction with what the review needs beside it."""

    correction: Correction
    agreeing: int  # pending proposals of the same label for the same normalised question
    conflicting: list[Correction]  # pending proposals of other labels for that question


def review_queue(limit: int = 200, offset: int = 0) -> tuple[list[QueueItem], int]:
    """Pending corrections, lowest model confidence first, with agreement and conflicts."""
    pending = (
        select(Correction)
        .join(Query, Correction.query_id == Query.id)
        .outerjoin(Prediction, Prediction.query_id == Query.id)
        .where(Correction.status == CorrectionStatus.PENDING)
        .order_by(Prediction.fine_confidence.asc().nulls_first(), Correction.id)
        .options(selectinload(Correction.query).selectinload(Query.prediction))
    )
    total = db.session.scalar(
        select(func.count())
        .select_from(Correction)
        .where(Correction.status == CorrectionStatus.PENDING)
    )
    page = db.session.scalars(pending.limit(limit).offset(offset)).all()
    normalized = {c.query.normalized for c in page}
    siblings = db.session.scalars(
        select(Correction)
        .join(Query, Correction.query_id == Query.id)
        .where(Correction.status == CorrectionStatus.PENDING, Query.normalized.in_(normalized))
        .options(selectinload(Correction.query))
    ).all()
    by_question: dict[str, list[Correction]] = {}
    for sibling in siblings:
        by_question.setdefault(sibling.query.normalized, []).append(sibling)
    items = []
    for correction in page:
        group = by_question.get(correction.query.normalized, [correction])
        items.append(
            QueueItem(
                correction=correction,
                agreeing=sum(1 for c in group if c.fine == correction.fine),
                conflicting=[c for c in group if c.fine != correction.fine],
            )
        )
    return items, total or 0
