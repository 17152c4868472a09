"""Model versions: name, register, activate, look up and their history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from ...extensions import db
from ...models import ModelVersion, VersionActivation, utcnow
from ..accounts.accounts import record_event


def new_version_name() -> str:
    """A sortable, unique version name such as ``20261126-214500-3fa2``."""
    return f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def activate_model_version(
    version: ModelVersion, *, actor: str | None = None, reason: str
) -> VersionActivation | None:
    """Make ``version`` the one active version and record the switch (the caller commits).

    Returns the activation history row, or None when ``version`` was already active.
    """
    db.session.flush()  # a version just added needs its id for the history row
    previous = active_version()
    if previous is not None and previous.id == version.id:
        return None
    db.session.execute(
        update(ModelVersion)
        .where(ModelVersion.id != version.id, ModelVersion.is_active.is_(True))
        .values(is_active=None, status="retired")
    )
    db.session.flush()
    version.is_active = True
    version.status = "active"
    version.activated_at = utcnow()
    # The column holds 200 characters; a gate's reason can be longer.
    reason = reason.strip()[:200] or None
    activation = VersionActivation(
        model_version_id=version.id,
        version=version.version,
        previous_version=previous.version if previous else None,
        activated_at=version.activated_at,
        activated_by=actor,
        reason=reason,
    )
    db.session.add(activation)
    record_event(
        actor,
        "version_activated",
        "model_version",
        version.version,
        {"previous": activation.previous_version, "reason": reason},
    )
    return activation


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
