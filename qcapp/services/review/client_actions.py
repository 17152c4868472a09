"""One client seen whole: what it asked and proposed, its trust, and rejecting its pending
proposals in one step that can be undone.

A client is the fingerprint of a visitor's address (``Query.client_hash``). Rejecting all its
pending proposals acts on the ids a reviewer confirmed (proposals sent meanwhile wait), is one
audit event beside the per-proposal ones, and its undo puts exactly those proposals back in
review unless one was reviewed otherwise since or already trained a model version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEvent, Correction, CorrectionStatus, Query, version_corrections
from ..accounts.accounts import record_event
from .feedback import InvalidCorrection, apply_review
from .inbox_targets import reopen_for_review
from .trust import client_trust

REJECT_ACTION = "client_rejected"
UNDO_ACTION = "client_rejection_undone"
SHOWN = 200  # questions and proposals listed on the page, newest first
PREFIX = 10  # characters of a fingerprint shown to a reviewer
FINGERPRINT = re.compile(r"[0-9a-f]{4,64}")


@dataclass
class ClientSummary:
    """What a client sent and proposed, newest first, with its counts and trust."""

    client: str
    trust: float
    asked: int
    proposals_by_status: dict[str, int]
    questions: list[Query] = field(default_factory=list)
    proposals: list[Correction] = field(default_factory=list)
    pending_ids: list[int] = field(default_factory=list)
    rejections: list[AuditEvent] = field(default_factory=list)


def short(client: str | None) -> str:
    """The shown prefix of a fingerprint."""
    return (client or "")[:PREFIX]


def resolve_client(value: str) -> str:
    """The one stored fingerprint that begins with ``value``, or InvalidCorrection."""
    value = (value or "").strip().lower()
    if not FINGERPRINT.fullmatch(value):
        raise InvalidCorrection(
            "A client is named by 4 to 64 hexadecimal characters of its fingerprint.",
            "invalid_client",
        )
    found = set()
    for column in (Query.client_hash, Correction.client_hash):
        found |= set(
            db.session.scalars(select(column).where(column.like(value + "%")).distinct().limit(2))
        )
    if not found:
        raise InvalidCorrection(f"No client whose fingerprint begins with {value}.", "not_found")
    if len(found) > 1:
        raise InvalidCorrection(
            f"More than one client's fingerprint begins with {value}; give more of it.",
            "ambiguous",
        )
    return found.pop()


def client_summary(client: str) -> ClientSummary:
    """Everything the client page shows of one (resolved) client."""
    counts = dict(
        db.session.execute(
            select(Correction.status, func.count(Correction.id))
            .where(Correction.client_hash == client)
            .group_by(Correction.status)
        ).all()
    )
    return ClientSummary(
        client=client,
        trust=client_trust([client])[client],
        asked=db.session.scalar(select(func.count(Query.id)).where(Query.client_hash == client))
        or 0,
        proposals_by_status={str(status): int(n) for status, n in counts.items()},
        questions=list(
            db.session.scalars(
                select(Query)
                .where(Query.client_hash == client)
                .order_by(Query.id.desc())
                .limit(SHOWN)
            )
        ),
        proposals=list(
            db.session.scalars(
                select(Correction)
                .where(Correction.client_hash == client)
                .order_by(Correction.id.desc())
                .limit(SHOWN)
            )
        ),
        pending_ids=pending_from(client),
        rejections=client_rejections(client),
    )


def pending_from(client: str) -> list[int]:
    """The ids of the client's proposals that wait for review."""
    return list(
        db.session.scalars(
            select(Correction.id)
            .where(Correction.client_hash == client, Correction.status == CorrectionStatus.PENDING)
            .order_by(Correction.id)
        )
    )


def client_rejections(client: str) -> list[AuditEvent]:
    """The client's "reject all" events that have not been undone, newest first."""
    undone = _undone()
    return [
        event
        for event in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == REJECT_ACTION, AuditEvent.target_id == client)
            .order_by(AuditEvent.id.desc())
        )
        if event.id not in undone
    ]


def _undone() -> set[int]:
    return {
        (details or {}).get("event_id")
        for details in db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == UNDO_ACTION)
        )
    }


def reject_client_pending(client: str, confirmed: list[int], *, actor: str | None) -> AuditEvent:
    """Reject the confirmed pending proposals of this client, as one audited action.

    Proposals sent after the confirmation are not among ``confirmed`` and wait; confirmed ones
    reviewed meanwhile are left as they are.
    """
    wanted = set(confirmed)
    corrections = [
        c
        for c in db.session.scalars(
            select(Correction).where(
                Correction.client_hash == client,
                Correction.status == CorrectionStatus.PENDING,
                Correction.id.in_(wanted or {0}),
            )
        )
    ]
    if not corrections:
        raise InvalidCorrection("None of these proposals waits for review any more.", "empty")
    try:
        apply_review(corrections, CorrectionStatus.REJECTED, actor=actor, details={"via": "client"})
        event = record_event(
            actor,
            REJECT_ACTION,
            "client",
            client,
            {
                "client": client,
                "rejected": [c.id for c in corrections],
                "left": sorted(wanted - {c.id for c in corrections}),
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event


def undo_client_rejection(event_id: int, *, actor: str | None) -> list[int]:
    """Put the proposals of one "reject all" back in review; their ids.

    Refused when it was undone already or one of them trained a model version since; a proposal
    reviewed otherwise since is left as it is.
    """
    event = db.session.get(AuditEvent, event_id) if 0 < event_id < 2**31 else None
    if event is None or event.action != REJECT_ACTION:
        raise InvalidCorrection(f"No client rejection {event_id}.", "not_found")
    if event.id in _undone():
        raise InvalidCorrection("This rejection was undone already.", "already_undone")
    ids = list((event.details or {}).get("rejected", []))
    trained = db.session.scalars(
        select(version_corrections.c.correction_id).where(
            version_corrections.c.correction_id.in_(ids or [0])
        )
    ).all()
    if trained:
        raise InvalidCorrection(
            f"Correction {trained[0]} already trained a model version; revert it instead.",
            "already_trained",
        )
    restored = []
    try:
        for correction in db.session.scalars(select(Correction).where(Correction.id.in_(ids))):
            if correction.status != CorrectionStatus.REJECTED:
                continue  # reviewed otherwise since: leave it as it is
            reopen_for_review(correction, actor=actor, via="client")
            restored.append(correction.id)
        record_event(
            actor,
            UNDO_ACTION,
            "client",
            event.target_id,
            {"event_id": event.id, "client": event.details.get("client"), "restored": restored},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return restored


def clients_of(items, most: int = 3) -> dict[int, list[str]]:
    """The clients behind each listed item: who proposed labels for it, then who asked it."""
    proposal_ids = [i for item in items for p in item.proposals for i in p.correction_ids]
    by_correction = dict(
        db.session.execute(
            select(Correction.id, Correction.client_hash).where(
                Correction.id.in_(proposal_ids or [0])
            )
        ).all()
    )
    askers = dict(
        db.session.execute(
            select(Query.id, Query.client_hash).where(
                Query.id.in_([item.query_id for item in items] or [0])
            )
        ).all()
    )
    found = {}
    for item in items:
        names = [by_correction.get(i) for p in item.proposals for i in p.correction_ids]
        names.append(askers.get(item.query_id))
        found[item.query_id] = [n for n in dict.fromkeys(names) if n][:most]
    return found
