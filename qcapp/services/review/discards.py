"""Discarding: a reviewer's decision that an input is not a question at all.

A discarded text leaves the inbox for good (visitors' later proposals on it included), never
enters a training set as a question, and joins the scope check's out-of-scope examples at the
next retrain, whose version carries a scope check that refuses it (``training.scope``). The
decision is one audit event, undone like any other inbox decision.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from ...extensions import db
from ...models import CorrectionStatus, DiscardedQuestion, Example
from ..accounts.accounts import record_event
from ..data.datasets import active_dataset
from .feedback import InvalidCorrection, apply_review
from .inbox_targets import Decision, pending_on, queries_by_id

DISCARD_ACTION = "inbox_discarded"


def discarded_questions() -> set[str]:
    """The normalised texts reviewers discarded."""
    return set(db.session.scalars(select(DiscardedQuestion.normalized)))


def discarded_texts() -> list[str]:
    """Every discarded text as it was first asked, oldest first: the scope check's examples."""
    return list(db.session.scalars(select(DiscardedQuestion.text).order_by(DiscardedQuestion.id)))


def discards_fingerprint() -> str:
    """A digest of every discarded text ("" while there is none): a version records it, so a
    retrain knows whether its scope check has something new to learn."""
    names = sorted(discarded_questions())
    if not names:
        return ""
    return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:16]


def _in_training_dataset(normalized: list[str]) -> str | None:
    dataset = active_dataset()
    if dataset is None:
        return None
    return db.session.scalar(
        select(Example.text).where(
            Example.dataset_id == dataset.id, Example.normalized.in_(normalized)
        )
    )


def discard_item(query_ids: list[int], *, actor: str | None) -> Decision:
    """Discard every question of an item: its pending proposals rejected, its text set aside."""
    queries = queries_by_id(query_ids)
    names = list(dict.fromkeys(q.normalized for q in queries))
    in_dataset = _in_training_dataset(names)
    if in_dataset is not None:
        raise InvalidCorrection(
            f"“{in_dataset}” is a question of the training dataset; choose its label instead.",
            "in_training_data",
        )
    rejected, discarded = [], []
    try:
        known = discarded_questions()
        for query in queries:
            pending = pending_on(query)
            if pending:
                apply_review(
                    pending,
                    CorrectionStatus.REJECTED,
                    actor=actor,
                    details={"via": "inbox", "discarded": True},
                )
                rejected += [c.id for c in pending]
            if query.normalized in known:
                continue
            row = DiscardedQuestion(
                normalized=query.normalized, text=query.text, query_id=query.id, discarded_by=actor
            )
            db.session.add(row)
            db.session.flush()
            known.add(query.normalized)
            discarded.append(row.id)
        event = record_event(
            actor,
            DISCARD_ACTION,
            "query",
            queries[0].id,
            {
                "queries": [q.id for q in queries],
                "rejected": rejected,
                "created": [],
                "discarded": discarded,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Decision(
        event.id,
        queries[0].id,
        None,
        [],
        rejected,
        [],
        "Discarded as not a question: it leaves the inbox, and the next retrain's scope check"
        " refuses it.",
    )


def undo_discards(ids: list[int]) -> list[str]:
    """Take discarded texts back (an undo); their normalised forms."""
    rows = list(db.session.scalars(select(DiscardedQuestion).where(DiscardedQuestion.id.in_(ids))))
    for row in rows:
        db.session.delete(row)
    return [row.normalized for row in rows]
