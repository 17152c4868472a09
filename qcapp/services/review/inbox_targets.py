"""The queries an inbox decision acts on, and what a decision changed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...models import Correction, CorrectionStatus, Query
from .feedback import InvalidCorrection


@dataclass
class Decision:
    """What one decision changed."""

    event_id: int
    query_id: int
    label: str | None
    approved: list[int]
    rejected: list[int]
    created: list[int]


def queries_by_id(query_ids: list[int]) -> list[Query]:
    """The stored queries of these ids, in order; InvalidCorrection when one is missing."""
    ids = list(dict.fromkeys(int(i) for i in query_ids))
    found = {
        q.id: q
        for q in db.session.scalars(
            select(Query).where(Query.id.in_([i for i in ids if 0 < i < 2**31]))
        )
    }
    missing = [i for i in ids if i not in found]
    if missing or not ids:
        raise InvalidCorrection(
            f"No stored query with id {missing[0] if missing else '?'}.", "not_found"
        )
    return [found[i] for i in ids]


def pending_on(query: Query) -> list[Correction]:
    """Pending proposals on every stored query of the same normalised question."""
    return list(
        db.session.scalars(
            select(Correction)
            .join(Query, Correction.query_id == Query.id)
            .where(
                Query.normalized == query.normalized, Correction.status == CorrectionStatus.PENDING
            )
            .order_by(Correction.id)
        )
    )
