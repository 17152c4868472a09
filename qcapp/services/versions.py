"""Model versions: train one, register it, activate it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from training.artifacts import save_version
from training.train import train_model

from ..extensions import db
from ..models import ModelVersion, utcnow
from .accounts import record_event
from .datasets import active_dataset, examples_frame, get_dataset


class TrainingError(RuntimeError):
    """Training cannot start or did not finish; the message says why."""


def new_version_name() -> str:
    """A sortable, unique version name such as ``20261126-214500-3fa2``."""
    return f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def train_version(
    dataset_name: str | None = None,
    *,
    quick: bool = False,
    features: str = "default",
    actor: str | None = None,
    progress: Callable[[str, float], None] | None = None,
    activate: bool = True,
) -> ModelVersion:
    """Train on a base dataset, store the artifact, register the version and activate it."""
    dataset = get_dataset(dataset_name) if dataset_name else active_dataset()
    if dataset is None:
        raise TrainingError(
            f"There is no dataset named {dataset_name!r}."
            if dataset_name
            else "There is no active dataset. Import one with `qc dataset import`."
        )
    frame = examples_frame(dataset)
    if len(frame) < 20:
        raise TrainingError(f"Dataset {dataset.name!r} has {len(frame)} examples; 20 are needed.")
    result = train_model(frame, quick=quick, features=features, progress=progress)
    models_dir = Path(current_app.config["MODELS_DIR"])
    name = new_version_name()
    info = save_version(result, models_dir, name)
    version = ModelVersion(
        version=name,
        artifact_path=name,
        artifact_sha256=info.sha256,
        feature_set=features,
        params=result.params,
        metrics=result.metrics,
        dataset_name=dataset.name,
        dataset_fingerprint=result.params.get("dataset_fingerprint"),
        train_size=len(frame),
        test_size=int(result.metrics.get("holdout_size", 0) or 0),
        training_seconds=round(sum(result.timings.values()), 2) if result.timings else None,
        created_by=actor,
    )
    db.session.add(version)
    db.session.flush()
    record_event(actor, "version_trained", "model_version", name, {"dataset": dataset.name})
    if activate:
        activate_model_version(version, actor=actor)
    db.session.commit()
    return version


def activate_model_version(version: ModelVersion, *, actor: str | None = None) -> None:
    """Make ``version`` the one active version (the caller commits)."""
    db.session.execute(
        update(ModelVersion)
        .where(ModelVersion.id != version.id, ModelVersion.is_active.is_(True))
        .values(is_active=None, status="retired")
    )
    db.session.flush()
    version.is_active = True
    version.status = "active"
    version.activated_at = utcnow()
    record_event(actor, "version_activated", "model_version", version.version)


def active_version() -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.is_active.is_(True)))


def get_version(name: str) -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.version == name))
