"""Model versions: name, activate, look up, their history, and deleting one that never served."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update

from ...extensions import db
from ...models import (
    ModelVersion,
    Prediction,
    TrainingRun,
    VersionActivation,
    VersionStatus,
    as_utc,
    utcnow,
)
from ..accounts.accounts import record_event
from ..data.artifacts import resolve_artifact


def new_version_name() -> str:
    """A sortable, unique version name such as ``20261126-214500-3fa2``."""
    return f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def activate_model_version(
    version: ModelVersion, *, actor: str | None = None, reason: str | None
) -> VersionActivation | None:
    """Make ``version`` the one active version and record the switch, with why (the caller
    commits). The audit event says it in one sentence (``describe_activation``).

    Returns the activation history row, or None when ``version`` was already active.
    """
    db.session.flush()  # a version just added needs its id for the history row
    previous = active_version()
    if previous is not None and previous.id == version.id:
        return None
    db.session.execute(
        update(ModelVersion)
        .where(ModelVersion.id != version.id, ModelVersion.is_active.is_(True))
        .values(is_active=None, status=VersionStatus.RETIRED)
    )
    db.session.flush()
    version.is_active = True
    version.status = VersionStatus.ACTIVE
    version.activated_at = utcnow()
    # The column holds 200 characters; a gate's reason can be longer.
    reason = (reason or "").strip()[:200] or None
    activation = VersionActivation(
        model_version_id=version.id,
        version=version.version,
        previous_version=previous.version if previous else None,
        activated_at=version.activated_at,
        activated_by=actor,
        reason=reason,
    )
    db.session.add(activation)
    direction = newer_or_older(version, previous)
    record_event(
        actor,
        "version_activated",
        "model_version",
        version.version,
        {
            "previous": activation.previous_version,
            "direction": direction,
            "reason": reason,
            "summary": describe_activation(version, previous, reason),
        },
    )
    return activation


def newer_or_older(version: ModelVersion, replaced: ModelVersion | None) -> str | None:
    """Whether ``version`` was trained after the version it replaces ("newer") or before it
    ("older", a rollback); None when it replaces none."""
    if replaced is None:
        return None
    trained = (as_utc(version.created_at), version.id)
    return "newer" if trained > (as_utc(replaced.created_at), replaced.id) else "older"


def describe_activation(
    version: ModelVersion, replaced: ModelVersion | None, reason: str | None
) -> str:
    """One sentence for the audit log: "activated older version X (replacing Y) because ..."."""
    direction = newer_or_older(version, replaced)
    sentence = f"activated {direction + ' ' if direction else ''}version {version.version}"
    if replaced is not None:
        sentence += f" (replacing {replaced.version})"
    return f"{sentence} because {reason}" if reason else sentence


@dataclass
class ServingPeriod:
    """One stretch of time during which a version was the active one."""

    activation: VersionActivation
    until: datetime | None  # None while it is still active


def activation_history(limit: int = 100) -> list[ServingPeriod]:
    """Activations, newest first, each with the moment the next one replaced it."""
    rows = db.session.scalars(
        select(VersionActivation)
        .order_by(VersionActivation.activated_at.desc(), VersionActivation.id.desc())
        .limit(limit)
    ).all()
    periods, until = [], None
    for row in rows:
        periods.append(ServingPeriod(row, until))
        until = row.activated_at
    return periods


def active_version() -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.is_active.is_(True)))


def get_version(name: str) -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.version == name))


def served_version_ids() -> set[int]:
    """Ids of the versions that ever answered a stored question or were ever active."""
    answered = select(Prediction.model_version_id).where(Prediction.model_version_id.is_not(None))
    activated = select(VersionActivation.model_version_id).where(
        VersionActivation.model_version_id.is_not(None)
    )
    ids = set(db.session.scalars(answered.distinct()))
    ids.update(db.session.scalars(activated.distinct()))
    ids.update(
        db.session.scalars(select(ModelVersion.id).where(ModelVersion.activated_at.is_not(None)))
    )
    return ids


def traffic_served(version: ModelVersion) -> str | None:
    """Why a version that served traffic must be kept, or None when it never did."""
    answers = db.session.scalar(
        select(func.count())
        .select_from(Prediction)
        .where(Prediction.model_version_id == version.id)
    )
    activations = db.session.scalar(
        select(func.count())
        .select_from(VersionActivation)
        .where(VersionActivation.model_version_id == version.id)
    )
    if not answers and not activations and version.activated_at is None:
        return None
    return (
        f"Version {version.version} served traffic (active {activations or 1} time(s), "
        f"{answers} stored answer(s)) and is kept: the history and every stored answer name "
        "the model that gave it."
    )


def delete_version(version: ModelVersion, *, actor: str | None) -> None:
    """Delete the row and artifact of a version that never served; ValueError says why not."""
    if version.is_active:
        raise ValueError("The active version cannot be deleted; activate another first.")
    served = traffic_served(version)
    if served:
        raise ValueError(served)
    path = resolve_artifact(current_app.config["MODELS_DIR"], version.artifact_path)
    db.session.execute(
        update(TrainingRun)
        .where(TrainingRun.model_version_id == version.id)
        .values(model_version_id=None)
    )
    record_event(actor, "version_deleted", "model_version", version.version)
    db.session.delete(version)
    db.session.commit()
    models_dir = Path(current_app.config["MODELS_DIR"]).resolve()
    if path.resolve().is_relative_to(models_dir) and path.exists():
        shutil.rmtree(path, ignore_errors=True)
