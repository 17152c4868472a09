"""Decisions on a filtered set of inbox items at once, and the consensus items' preview.

A bulk action takes the items a reviewer confirmed (each as the query ids its decision labels),
never those that arrived since, and hands each to the one-item decision (``decide_item``,
``reject_item``, ``discard_item``), so the merge guard and every other rule stay theirs. Items
a rule refuses are left and counted by why; one audit event sums the action up beside the
per-item ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import distinct, func, select

from ...extensions import db
from ...models import Correction, CorrectionStatus, Query
from ..accounts.accounts import record_event
from .discards import discard_item, discarded_questions
from .feedback import InvalidCorrection, check_labels
from .inbox import ranked_inbox
from .inbox_decisions import decide_item, reject_item
from .inbox_filters import InboxFilter
from .inbox_items import InboxItem
from .inbox_reads import decided_questions, pending_proposals
from .inbox_targets import queries_by_id
from .merge_guard import contradicted_base_label

BULK_ACTION = "inbox_bulk"
MAX_BULK = 500  # items one confirmation may hold
ACTIONS = {"label": "label", "reject": "reject", "discard": "discard as not a question"}
# Why an item was left, by the refusing rule's code.
LEFT_WORDS = {
    "needs_confirmation": "they contradict the training data",
    "in_training_data": "they are questions of the training dataset",
    "already_reviewed": "they were reviewed meanwhile",
    "empty": "there was nothing to reject",
    "not_found": "they are no longer stored",
}


@dataclass
class BulkResult:
    """What a bulk action did: items done, items left by reason, and its audit event."""

    done: int
    left: Counter = field(default_factory=Counter)
    event_id: int | None = None

    def sentence(self, verb: str) -> str:
        """``12 labelled, 2 left: they contradict the training data.``"""
        text = f"{self.done} {verb}"
        if self.left:
            text += ", " + "; ".join(
                f"{count} left: {LEFT_WORDS.get(code, code)}" for code, count in self.left.items()
            )
        return text + "."


def bulk_targets(filters: InboxFilter) -> tuple[list[InboxItem], int]:
    """The items a bulk action on this filter would act on (at most MAX_BULK), and the total."""
    return ranked_inbox(limit=MAX_BULK, filters=filters)


def parse_items(values: list[str]) -> list[list[int]]:
    """Confirmed items from a form: each "12,13" names the query ids of one item."""
    items = []
    for value in values[:MAX_BULK]:
        ids = [int(part) for part in value.split(",") if part.isdigit() and 0 < int(part) < 2**31]
        if ids:
            items.append(ids)
    if not items:
        raise InvalidCorrection("No items were confirmed.", "empty")
    return items


def run_bulk(
    action: str,
    items: list[list[int]],
    *,
    label: str = "",
    filters: InboxFilter,
    actor: str | None,
) -> BulkResult:
    """Decide each confirmed item as ``action`` says; one summary audit event."""
    if action not in ACTIONS:
        raise InvalidCorrection(f"Unknown bulk action “{action[:20]}”.", "invalid_action")
    if action == "label":
        _coarse, label = check_labels(label.split(":", 1)[0], label)
    result = BulkResult(done=0)
    revisiting = filters.state == "reviewed"
    decided, pending = decided_questions(), pending_proposals()
    for ids in items:
        try:
            names = {q.normalized for q in queries_by_id(ids)}
            if not revisiting and not any(n in pending or n not in decided for n in names):
                raise InvalidCorrection("Reviewed meanwhile.", "already_reviewed")
            if action == "label":
                decide_item(ids, label, actor=actor)
            elif action == "reject":
                reject_item(ids, actor=actor)
            else:
                discard_item(ids, actor=actor)
        except InvalidCorrection as error:
            result.left[error.code] += 1
        else:
            result.done += 1
    event = record_event(
        actor,
        BULK_ACTION,
        "inbox",
        None,
        {
            "action": action,
            "label": label or None,
            "filter": filters.as_args(),
            "items": [ids[0] for ids in items],
            "done": result.done,
            "left": dict(result.left),
        },
    )
    db.session.commit()
    result.event_id = event.id
    return result


def consensus_preview() -> tuple[list[InboxItem], int]:
    """The consensus items "approve every consensus item" would approve, and how many it leaves.

    The same rules as the approval: corrections sent in bulk, or a consensus against the base
    dataset's label, wait for a reviewer one by one.
    """
    items, _total = ranked_inbox(limit=100_000, with_proposals=True)
    approvable, flagged = [], 0
    for item in items:
        if not item.consensus:
            continue
        ids = [i for p in item.proposals for i in p.correction_ids]
        flags = db.session.scalars(select(Correction.flags).where(Correction.id.in_(ids))).all()
        if any((f or {}).get("bulk_client") for f in flags) or contradicted_base_label(
            item.normalized, item.consensus
        ):
            flagged += 1
        else:
            approvable.append(item)
    return approvable, flagged


def consensus_count() -> tuple[int, int]:
    """How many questions "approve every consensus item" would approve, and how many it leaves.

    Counted per question from the pending proposals alone, without ranking them: the list page
    shows it on every load (ranking every proposal's item costs seconds on a large inbox); the
    confirmation page lists the items themselves (``consensus_preview``).
    """
    minimum = int(current_app.config["CONSENSUS_MIN"])
    discarded = discarded_questions()
    # Grouped in SQL: only the questions of one proposed label and enough clients come back.
    candidates = {
        normalized: label
        for normalized, label in db.session.execute(
            select(Query.normalized, func.min(Correction.fine))
            .join(Query, Correction.query_id == Query.id)
            .where(Correction.status == CorrectionStatus.PENDING)
            .group_by(Query.normalized)
            .having(
                func.count(distinct(Correction.fine)) == 1,
                func.count(distinct(Correction.client_hash)) >= minimum,
            )
        )
        if normalized not in discarded
    }
    flagged_questions = {
        normalized
        for normalized, flags in db.session.execute(
            select(Query.normalized, Correction.flags)
            .join(Query, Correction.query_id == Query.id)
            .where(
                Correction.status == CorrectionStatus.PENDING,
                Query.normalized.in_(list(candidates) or [""]),
            )
        )
        if (flags or {}).get("bulk_client")
    }
    flagged = sum(
        1
        for normalized, label in candidates.items()
        if normalized in flagged_questions or contradicted_base_label(normalized, label)
    )
    return len(candidates) - flagged, flagged
