"""Decisions on inbox items, stored as approved or rejected corrections like any other review.

Choosing a label approves the visitors' pending proposals of that label on every question of
the item and rejects their other proposals; where nobody proposed it, the reviewer's own
correction (a confirmation when it is the model's label) is created and approved. The merge
guard and its override rule apply as in the review queue. Every decision is one audit event
that undo reads back.
"""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import AuditEvent, Correction, CorrectionStatus, Query, version_corrections
from ..accounts.accounts import record_event
from .discards import DISCARD_ACTION, undo_discards
from .feedback import InvalidCorrection, apply_review, check_labels, correction_kind
from .inbox import item_for_query, ranked_inbox
from .inbox_items import InboxItem
from .inbox_reads import SPLIT_ACTION
from .inbox_targets import Decision, pending_on, queries_by_id, reopen_for_review
from .merge_guard import with_contradiction

DECISION_ACTIONS = ("inbox_decided", "inbox_rejected", DISCARD_ACTION)
UNDO_ACTION = "inbox_undone"
INBOX_NOTE = "decided in the review inbox"


def _reviewer_correction(query: Query, coarse: str, fine: str) -> Correction:
    prediction = query.prediction
    correction = Correction(
        query=query,
        kind=correction_kind(prediction, fine),
        coarse=coarse,
        fine=fine,
        status=CorrectionStatus.PENDING,
        client_hash=None,
        note=INBOX_NOTE,
    )
    with db.session.no_autoflush:
        correction.flags = with_contradiction(correction, {})
    db.session.add(correction)
    db.session.flush()
    return correction


def decide_item(
    query_ids: list[int], fine: str, *, actor: str | None, confirm_override: bool = False
) -> Decision:
    """Label every question of an item ``fine``: an approved correction each, in one transaction."""
    coarse, fine = check_labels(fine.split(":", 1)[0] if isinstance(fine, str) else fine, fine)
    queries = queries_by_id(query_ids)
    approved, rejected, created = [], [], []
    try:
        for query in queries:
            pending = pending_on(query)
            agreeing = [c for c in pending if c.fine == fine]
            others = [c for c in pending if c.fine != fine]
            if not agreeing:
                agreeing = [_reviewer_correction(query, coarse, fine)]
                created.append(agreeing[0].id)
            apply_review(
                agreeing,
                CorrectionStatus.APPROVED,
                actor=actor,
                confirm_override=confirm_override,
                details={"via": "inbox"},
            )
            if others:
                apply_review(
                    others, CorrectionStatus.REJECTED, actor=actor, details={"via": "inbox"}
                )
            approved += [c.id for c in agreeing]
            rejected += [c.id for c in others]
        event = record_event(
            actor,
            "inbox_decided",
            "query",
            queries[0].id,
            {
                "label": fine,
                "queries": [q.id for q in queries],
                "approved": approved,
                "rejected": rejected,
                "created": created,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    summary = f"Labelled {len(queries)} question(s) {fine}."
    if rejected:
        summary += f" Rejected {len(rejected)} other proposal(s)."
    return Decision(event.id, queries[0].id, fine, approved, rejected, created, summary)


def reject_item(query_ids: list[int], *, actor: str | None) -> Decision:
    """Reject an item: its pending proposals, or else the model's label, without another label."""
    queries = queries_by_id(query_ids)
    rejected, created = [], []
    visitors, model = [], []
    try:
        for query in queries:
            pending = pending_on(query)
            if not pending:
                if query.prediction is None:
                    continue
                pending = [
                    _reviewer_correction(query, query.prediction.coarse, query.prediction.fine)
                ]
                created.append(pending[0].id)
                model.append(query.prediction.fine)
            else:
                visitors += [c.fine for c in pending]
            apply_review(pending, CorrectionStatus.REJECTED, actor=actor, details={"via": "inbox"})
            rejected += [c.id for c in pending]
        if not rejected:
            raise InvalidCorrection("Nothing to reject: no proposal and no prediction.", "empty")
        event = record_event(
            actor,
            "inbox_rejected",
            "query",
            queries[0].id,
            {"queries": [q.id for q in queries], "rejected": rejected, "created": created},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Decision(
        event.id, queries[0].id, None, [], rejected, created, _rejected_words(visitors, model)
    )


def _rejected_words(visitors: list[str], model: list[str]) -> str:
    parts = []
    if visitors:
        parts.append("the visitors' " + " and ".join(dict.fromkeys(visitors)))
    if model:
        parts.append("the model's " + " and ".join(dict.fromkeys(model)))
    return "Rejected " + "; ".join(parts) + "."


def last_decision(actor: str | None) -> AuditEvent | None:
    """The actor's latest inbox decision that has not been undone."""
    undone = {
        (details or {}).get("event_id")
        for details in db.session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == UNDO_ACTION, AuditEvent.actor == actor
            )
        )
    }
    for event in db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(DECISION_ACTIONS), AuditEvent.actor == actor)
        .order_by(AuditEvent.id.desc())
        .limit(len(undone) + 1)
    ):
        if event.id not in undone:
            return event
    return None


def undo_last_decision(actor: str | None) -> int:
    """Undo the actor's latest decision; returns its query id so the item can be shown again.

    Proposals it reviewed wait for review again; corrections it created are removed (the audit
    log keeps them), unless a model version was already trained with them.
    """
    event = last_decision(actor)
    if event is None:
        raise InvalidCorrection("There is no decision of yours to undo.", "nothing_to_undo")
    details = event.details or {}
    created = set(details.get("created", []))
    trained = db.session.scalars(
        select(version_corrections.c.correction_id).where(
            version_corrections.c.correction_id.in_(created)
        )
    ).all()
    if trained:
        raise InvalidCorrection(
            "A model version was already trained with this decision; revert that version"
            " instead.",
            "already_trained",
        )
    restored, removed = [], []
    for correction_id in details.get("approved", []) + details.get("rejected", []):
        correction = db.session.get(Correction, correction_id)
        if correction is None:
            continue
        if correction.id in created:
            removed.append(
                {"id": correction.id, "fine": correction.fine, "status": correction.status}
            )
            db.session.delete(correction)
            continue
        if correction.status not in (CorrectionStatus.APPROVED, CorrectionStatus.REJECTED):
            continue  # changed by someone else since: leave it as it is
        reopen_for_review(correction, actor=actor, via="inbox")
        restored.append(correction.id)
    kept = undo_discards(details.get("discarded", []))
    record_event(
        actor,
        UNDO_ACTION,
        "query",
        event.target_id,
        {"event_id": event.id, "restored": restored, "removed": removed, "kept": kept},
    )
    db.session.commit()
    return int(event.target_id)


def split_question(query_id: int, *, actor: str | None) -> None:
    """Take a question out of its near-duplicate group for good."""
    [query] = queries_by_id([query_id])
    record_event(actor, SPLIT_ACTION, "query", query.id, {"normalized": query.normalized})
    db.session.commit()


def approve_consensus(*, actor: str | None) -> tuple[int, int]:
    """Approve every consensus item the merge guard does not flag; (approved, skipped)."""
    items, _total = ranked_inbox(limit=100_000, with_proposals=True)
    done = skipped = 0
    for item in items:
        if not item.consensus:
            continue
        flagged = db.session.scalars(
            select(Correction.flags).where(
                Correction.id.in_([i for p in item.proposals for i in p.correction_ids])
            )
        ).all()
        if any((flags or {}).get("bulk_client") for flags in flagged):
            skipped += 1
            continue
        try:
            decide_item(item.query_ids, item.consensus, actor=actor)
        except InvalidCorrection:
            skipped += 1  # contradicts the base dataset: a reviewer confirms it one by one
        else:
            done += 1
    return done, skipped


def find_item(query_id: int) -> InboxItem:
    """The item holding this query (or the query alone), or InvalidCorrection."""
    item = item_for_query(query_id)
    if item is None:
        raise InvalidCorrection(f"No stored query with id {query_id}.", "not_found")
    return item
