"""Corrections: users propose labels, admins approve, reject or edit them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from training import taxonomy

from ...extensions import db
from ...models import Correction, CorrectionKind, CorrectionStatus, Prediction, Query, utcnow
from ..accounts.accounts import record_event
from ..serving.user_text import InvalidText, clean_note
from .merge_guard import flags_for_new, needs_confirmation, with_contradiction


class InvalidCorrection(ValueError):
    """A proposed label that is not in the taxonomy or not consistent; the message says why."""

    def __init__(self, message: str, code: str = "invalid_label"):
        super().__init__(message)
        self.message = message
        self.code = code


def check_labels(coarse: object, fine: object) -> tuple[str, str]:
    """The labels when they form a valid taxonomy pair, else InvalidCorrection."""
    if not isinstance(coarse, str) or not coarse:
        raise InvalidCorrection("Choose a coarse class.", "missing_field")
    if not isinstance(fine, str) or not fine:
        raise InvalidCorrection("Choose a fine class.", "missing_field")
    if coarse not in taxonomy.COARSE_CLASSES:
        raise InvalidCorrection(f"Unknown coarse class {coarse!r}.")
    if fine not in taxonomy.FINE_CLASSES:
        raise InvalidCorrection(f"Unknown fine class {fine!r}.")
    if not taxonomy.is_valid_pair(coarse, fine):
        raise InvalidCorrection(f"{fine} is not a fine class of {coarse}.", "inconsistent_labels")
    return coarse, fine


def propose_correction(
    query: Query,
    coarse: object,
    fine: object,
    *,
    client_hash: str | None,
    note: object = None,
    meant: object = None,
) -> Correction:
    """Store a user's label for a query: a confirmation when it equals the prediction.

    ``meant`` is what the user said, when it said it: "it is wrong" (a correction) with the
    model's own label, or "it is right" (a confirmation) with another, is refused.
    """
    coarse, fine = check_labels(coarse, fine)
    try:
        note = clean_note(note)
    except InvalidText as error:
        raise InvalidCorrection(error.message, error.code) from None
    prediction = query.prediction
    kind = correction_kind(prediction, fine)
    check_meant(meant, kind, prediction)
    earlier = _earlier_from_client(query, client_hash)
    if earlier is not None:
        return _replace(earlier, kind, coarse, fine, note)
    correction = Correction(
        query=query,
        kind=kind,
        coarse=coarse,
        fine=fine,
        status=CorrectionStatus.PENDING,
        client_hash=client_hash,
        note=note,
    )
    with db.session.no_autoflush:  # the checks must not count the new row
        correction.flags = flags_for_new(correction)
    db.session.add(correction)
    db.session.commit()
    return correction


def correction_kind(prediction: Prediction | None, fine: str) -> CorrectionKind:
    """A confirmation when ``fine`` is the model's answer, else a correction."""
    if prediction is not None and prediction.fine == fine:
        return CorrectionKind.CONFIRMATION
    return CorrectionKind.CORRECTION


def check_meant(meant: object, kind: CorrectionKind, prediction: Prediction | None) -> None:
    """InvalidCorrection when the label contradicts what the user said of the model's answer."""
    if meant is None:
        return
    if meant not in tuple(CorrectionKind):
        raise InvalidCorrection('"kind" must be "correction" or "confirmation".', "invalid_kind")
    if meant == CorrectionKind.CORRECTION and kind == CorrectionKind.CONFIRMATION:
        # A "wrong" verdict that names the model's own label would be stored as agreement.
        raise InvalidCorrection(
            f"{prediction.fine} is the model's own answer. Choose the class the question "
            "asks for, or answer that the label is right.",
            "same_as_prediction",
        )
    if meant == CorrectionKind.CONFIRMATION and kind == CorrectionKind.CORRECTION:
        if prediction is None:
            raise InvalidCorrection("This question has no answer to confirm.", "no_prediction")
        raise InvalidCorrection(
            f"A confirmation names the model's answer, {prediction.fine}; to propose another "
            "label, send a correction.",
            "not_the_prediction",
        )


def _earlier_from_client(query: Query, client_hash: str | None) -> Correction | None:
    """This client's latest verdict on this query, or InvalidCorrection once it is reviewed."""
    if not client_hash or query.id is None:
        return None
    earlier = db.session.scalar(
        select(Correction)
        .where(Correction.query_id == query.id, Correction.client_hash == client_hash)
        .order_by(Correction.id.desc())
        .limit(1)
    )
    if earlier is not None and earlier.status != CorrectionStatus.PENDING:
        raise InvalidCorrection(
            "Your earlier answer on this question has already been reviewed.", "already_reviewed"
        )
    return earlier


def _replace(
    earlier: Correction, kind: str, coarse: str, fine: str, note: str | None
) -> Correction:
    """A client's later verdict on the same query replaces its pending earlier one.

    One visitor cannot both correct and confirm a label; the audit trail keeps what it said first.
    """
    record_event(
        None,
        "correction_replaced",
        "correction",
        earlier.id,
        {
            "client": earlier.client_hash,
            "before": {"kind": earlier.kind, "coarse": earlier.coarse, "fine": earlier.fine},
            "after": {"kind": kind, "coarse": coarse, "fine": fine},
            "sent_at": earlier.created_at.isoformat() if earlier.created_at else None,
        },
    )
    earlier.kind, earlier.coarse, earlier.fine = kind, coarse, fine
    earlier.note = (note or None) and note[:1000]
    earlier.created_at = utcnow()
    earlier.flags = {
        **with_contradiction(earlier, {}),
        **{k: v for k, v in (earlier.flags or {}).items() if k == "bulk_client"},
    }
    db.session.commit()
    return earlier


def is_reviewed(query: Query) -> bool:
    """Whether a reviewer has decided this query's question (approved or rejected a verdict)."""
    return (
        db.session.scalar(
            select(Correction.id)
            .join(Query, Correction.query_id == Query.id)
            .where(
                Query.normalized == query.normalized,
                Correction.status.in_((CorrectionStatus.APPROVED, CorrectionStatus.REJECTED)),
            )
            .limit(1)
        )
        is not None
    )


def find_corrections(ids: Iterable[int]) -> list[Correction]:
    """The corrections with these ids, or InvalidCorrection naming the ones that do not exist."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    out_of_range = [i for i in ids if not 0 < i < 2**31]  # the database's integer range
    if out_of_range:
        raise InvalidCorrection(f"No correction with id {out_of_range[0]}.", "not_found")
    found = db.session.scalars(select(Correction).where(Correction.id.in_(ids))).all()
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        raise InvalidCorrection(
            f"No correction with id {', '.join(map(str, missing))}.", "not_found"
        )
    return list(found)


def review_corrections(
    ids: Iterable[int],
    status: str,
    *,
    actor: str | None,
    note: str | None = None,
    confirm_override: bool = False,
) -> list[Correction]:
    """Approve or reject corrections in one transaction, each audited.

    Approving a correction that contradicts the base dataset takes ``confirm_override``;
    without it nothing is approved and InvalidCorrection says which ones need it.
    """
    corrections = find_corrections(ids)
    apply_review(corrections, status, actor=actor, note=note, confirm_override=confirm_override)
    db.session.commit()
    return corrections


def apply_review(
    corrections: list[Correction],
    status: str,
    *,
    actor: str | None,
    note: str | None = None,
    confirm_override: bool = False,
    details: dict | None = None,
) -> None:
    """Set the review status of corrections with their audit events, without committing."""
    if status not in (CorrectionStatus.APPROVED, CorrectionStatus.REJECTED):
        raise ValueError(f"unknown review status {status!r}")
    # The active dataset may have changed since the correction was proposed: check again.
    approving = status == CorrectionStatus.APPROVED
    flags = {
        c.id: with_contradiction(c, c.flags or {}) if approving else c.flags or {}
        for c in corrections
    }
    flagged = [c for c in corrections if approving and needs_confirmation(flags[c.id])]
    if flagged and not confirm_override:
        # Said in labels and the dataset's name: ids mean nothing to a reviewer.
        base = flags[flagged[0].id]["contradicts_base"]
        labels = " and ".join(dict.fromkeys(c.fine for c in flagged))
        raise InvalidCorrection(
            f"The training data (dataset {base['dataset']}) labels this question"
            f" {base['fine']}; approving {labels} overrides that label: confirm the override"
            " to approve them.",
            "needs_confirmation",
        )
    now = utcnow()
    for correction in corrections:
        previous = correction.status
        correction.flags = flags[correction.id]
        correction.status = status
        correction.reviewed_at = now
        correction.reviewed_by_id = user_id_of(actor)
        if note:
            correction.note = note[:1000]
        event = {
            "from": previous,
            "coarse": correction.coarse,
            "fine": correction.fine,
            **(details or {}),
        }
        if correction in flagged:
            event["confirmed_override"] = correction.flags["contradicts_base"]
        if correction.flags.get("bulk_client") and status == CorrectionStatus.APPROVED:
            event["bulk_client"] = correction.flags["bulk_client"]
        record_event(actor, f"correction_{status}", "correction", correction.id, event)


def edit_correction(correction_id: int, coarse: str, fine: str, *, actor: str | None) -> Correction:
    """Change a correction's proposed labels (an admin's edit), audited; it stays in review."""
    coarse, fine = check_labels(coarse, fine)
    [correction] = find_corrections([correction_id])
    before = {"coarse": correction.coarse, "fine": correction.fine}
    correction.coarse, correction.fine = coarse, fine
    prediction = correction.query.prediction
    correction.kind = correction_kind(prediction, fine)
    correction.flags = with_contradiction(correction, correction.flags or {})
    record_event(
        actor,
        "correction_edited",
        "correction",
        correction.id,
        {
            "before": before,
            "after": {"coarse": coarse, "fine": fine},
            "flags": sorted(correction.flags),
        },
    )
    db.session.commit()
    return correction


def approve_all_pending(*, actor: str | None) -> tuple[list[Correction], int]:
    """Approve every pending correction the merge guard has not flagged.

    Flagged ones wait for a reviewer to look at them one by one; returns the approved
    corrections and how many were skipped.
    """
    pending = db.session.scalars(
        select(Correction)
        .where(Correction.status == CorrectionStatus.PENDING)
        .options(selectinload(Correction.query))
    ).all()
    ids = [c.id for c in pending if not with_contradiction(c, c.flags or {})]
    approved = review_corrections(ids, CorrectionStatus.APPROVED, actor=actor) if ids else []
    return approved, len(pending) - len(ids)


def user_id_of(username: str | None) -> int | None:
    """The id of the admin account named ``username``, or None (commands, unknown names)."""
    if not username:
        return None
    from ...models import User

    return db.session.scalar(select(User.id).where(User.username == username))
