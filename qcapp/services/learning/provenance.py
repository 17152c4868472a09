"""Which corrections trained which version, undoing an approval, and what a user's correction
became."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    AuditEvent,
    Correction,
    CorrectionStatus,
    ModelVersion,
    Query,
    utcnow,
    version_corrections,
)
from ..accounts.accounts import record_event
from ..review.feedback import InvalidCorrection, find_corrections, user_id_of

# Bound parameters per statement, well under every database's limit.
LINK_CHUNK = 500


def link_corrections(version: ModelVersion, correction_ids: Iterable[int]) -> int:
    """Record that ``version`` was trained on these corrections (the caller commits).

    Ids of corrections deleted while the model trained are skipped; returns how many were linked.
    """
    ids = sorted(set(correction_ids))
    linked = 0
    for start in range(0, len(ids), LINK_CHUNK):
        # Counted from the ids found: drivers differ in what rowcount an INSERT ... SELECT has.
        existing = db.session.scalars(
            select(Correction.id).where(Correction.id.in_(ids[start : start + LINK_CHUNK]))
        ).all()
        if existing:
            db.session.execute(
                insert(version_corrections),
                [{"model_version_id": version.id, "correction_id": i} for i in existing],
            )
        linked += len(existing)
    return linked


@dataclass
class RevertResult:
    """A reverted correction and the versions that still carry it."""

    correction: Correction
    versions: list[ModelVersion]

    @property
    def active_version(self) -> ModelVersion | None:
        """The active version when it was trained with the correction."""
        return next((v for v in self.versions if v.is_active), None)


def revert_correction(correction_id: int, *, actor: str | None, reason: str) -> RevertResult:
    """Withdraw an approved correction from future training sets, audited with its reason.

    Versions already trained with it keep it until a retrain replaces them.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidCorrection("Give a reason for reverting the correction.", "missing_reason")
    [correction] = find_corrections([correction_id])
    if correction.status != CorrectionStatus.APPROVED:
        raise InvalidCorrection(
            f"Correction {correction.id} is {correction.status}; only an approved correction"
            " can be reverted.",
            "not_approved",
        )
    correction.status = CorrectionStatus.REVERTED
    correction.reverted_at = utcnow()
    correction.reverted_by_id = user_id_of(actor)
    correction.revert_reason = reason[:1000]
    versions = list(correction.model_versions)
    record_event(
        actor,
        "correction_reverted",
        "correction",
        correction.id,
        {
            "from": CorrectionStatus.APPROVED,
            "coarse": correction.coarse,
            "fine": correction.fine,
            "reason": correction.revert_reason,
            "versions": [v.version for v in versions],
            "active_version_contains": any(v.is_active for v in versions),
        },
    )
    db.session.commit()
    return RevertResult(correction, versions)


@dataclass
class CorrectionOutcome:
    """What became of one correction, as its author may see it."""

    correction: Correction
    versions: list[str] = field(default_factory=list)
    in_active_model: bool = False
    active_version: str | None = None
    active_prediction: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields the API adds to a correction."""
        return {
            "in_active_model": self.in_active_model,
            "active_prediction": (
                {**self.active_prediction, "model_version": self.active_version}
                if self.active_prediction
                else None
            ),
        }


def correction_outcomes(query: Query, served: Callable[[], Any | None]) -> list[CorrectionOutcome]:
    """Each correction of ``query`` with the versions trained on it and, when the served model
    is one of them, what it answers for the question now.

    ``served`` returns the LoadedModel answering requests (or None); it is only called when a
    correction has been trained into some version.
    """
    outcomes = []
    model, prediction, looked = None, None, False
    for correction in query.corrections:
        versions = list(correction.model_versions)
        if versions and not looked:
            model, looked = served(), True
        in_active = model is not None and any(v.id == model.id for v in versions)
        if in_active and prediction is None:
            answer = model.classifier.predict(query.text)
            prediction = {"coarse": answer.coarse, "fine": answer.fine}
        outcomes.append(
            CorrectionOutcome(
                correction=correction,
                versions=[v.version for v in versions],
                in_active_model=in_active,
                active_version=model.version if in_active else None,
                active_prediction=prediction if in_active else None,
            )
        )
    return outcomes


def corrections_used(version: ModelVersion, limit: int = 200) -> tuple[list[Correction], int]:
    """The first ``limit`` corrections a version was trained with, and how many there are."""
    used = (
        select(Correction)
        .join(version_corrections, version_corrections.c.correction_id == Correction.id)
        .where(version_corrections.c.model_version_id == version.id)
    )
    total = db.session.scalar(select(func.count()).select_from(used.subquery()))
    rows = db.session.scalars(
        used.order_by(Correction.id).limit(limit).options(selectinload(Correction.query))
    ).all()
    return list(rows), total or 0


def correction_history(correction: Correction) -> list[AuditEvent]:
    """Every audited step of a correction, oldest first: approve, edit, revert..."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.target_type == "correction",
                AuditEvent.target_id == str(correction.id),
            )
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    )
