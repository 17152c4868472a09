"""The queries an inbox decision acts on, and what a decision changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import Correction, CorrectionStatus, DiscardedQuestion, Query
from ..accounts.accounts import record_event
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
    summary: str = ""  # what was decided, in words, for the reviewer


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


def question_state(query_ids: list[int]) -> str:
    """A short fingerprint of every review on these questions (and their duplicates by
    normalised text): it changes when anyone decides, proposes, undoes or discards there, so a
    card can tell that its item moved on since it was shown."""
    normalized = select(Query.normalized).where(
        Query.id.in_([int(i) for i in query_ids if 0 < int(i) < 2**31])
    )
    count, latest, reviewed = db.session.execute(
        select(func.count(Correction.id), func.max(Correction.id), func.max(Correction.reviewed_at))
        .join(Query, Correction.query_id == Query.id)
        .where(Query.normalized.in_(normalized))
    ).one()
    pending = db.session.scalar(
        select(func.count(Correction.id))
        .join(Query, Correction.query_id == Query.id)
        .where(Query.normalized.in_(normalized), Correction.status == CorrectionStatus.PENDING)
    )
    discarded = db.session.scalar(
        select(func.count(DiscardedQuestion.id)).where(DiscardedQuestion.normalized.in_(normalized))
    )
    text = f"{count}:{latest}:{reviewed}:{pending}:{discarded}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_unchanged(query_ids: list[int], state: str | None) -> None:
    """InvalidCorrection (``changed``) when the questions' reviews moved on since ``state``."""
    if state and state != question_state(query_ids):
        raise InvalidCorrection(
            "This question changed since its card was shown (another reviewer decided it, an"
            " undo brought it back or a visitor proposed a label): look at it again.",
            "changed",
        )


def reopen_for_review(correction: Correction, *, actor: str | None, via: str) -> None:
    """Put a reviewed correction back in review (an undo), audited with the status it left."""
    previous = correction.status
    correction.status = CorrectionStatus.PENDING
    correction.reviewed_at = None
    correction.reviewed_by_id = None
    record_event(
        actor,
        "correction_review_undone",
        "correction",
        correction.id,
        {"from": previous, "via": via},
    )
