"""The merge guard: corrections that deserve a second look before they join the training set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models import Correction, Example, utcnow
from ..data.datasets import active_dataset

# Flags that an approval must confirm explicitly; the others are warnings for the reviewer.
NEEDS_CONFIRMATION = ("contradicts_base",)


def contradicted_base_label(normalized: str, fine: str) -> dict[str, Any] | None:
    """The active dataset's label for this normalised question when it differs from ``fine``.

    The merge keeps the first base row of a question, so that is the label a correction replaces.
    """
    dataset = active_dataset()
    if dataset is None:
        return None
    row = db.session.execute(
        select(Example.id, Example.coarse, Example.fine)
        .where(Example.dataset_id == dataset.id, Example.normalized == normalized)
        .order_by(Example.id)
        .limit(1)
    ).first()
    if row is None or row.fine == fine:
        return None
    return {"coarse": row.coarse, "fine": row.fine, "dataset": dataset.name, "example_id": row.id}


def recent_from_client(client_hash: str, hours: float = 1.0) -> int:
    """How many corrections this client sent within the last ``hours``."""
    since = utcnow() - timedelta(hours=hours)
    return db.session.scalar(
        select(func.count())
        .select_from(Correction)
        .where(Correction.client_hash == client_hash, Correction.created_at >= since)
    )


def flags_for_new(correction: Correction) -> dict[str, Any]:
    """The flags of a correction about to be stored: a contradiction, or a client in bulk."""
    flags = with_contradiction(correction, {})
    if correction.client_hash:
        limit = int(current_app.config["CORRECTIONS_BULK_PER_HOUR"])
        # The new correction is not flushed yet: it is the one past the ones counted.
        count = recent_from_client(correction.client_hash) + 1
        if count > limit:
            flags["bulk_client"] = {"count": count, "per_hour": limit}
    return flags


def with_contradiction(correction: Correction, flags: dict[str, Any]) -> dict[str, Any]:
    """``flags`` with ``contradicts_base`` set or cleared for the correction's current label."""
    flags = {key: value for key, value in flags.items() if key != "contradicts_base"}
    base = contradicted_base_label(correction.query.normalized, correction.fine)
    if base is not None:
        flags["contradicts_base"] = base
    return flags


def needs_confirmation(flags: dict[str, Any]) -> bool:
    """Whether approving a correction with these flags takes an explicit second confirmation."""
    return any(flags.get(name) for name in NEEDS_CONFIRMATION)


def describe_flags(flags: dict[str, Any]) -> list[str]:
    """Plain sentences for a reviewer, one per flag."""
    sentences = []
    base = flags.get("contradicts_base")
    if base:
        sentences.append(
            f"Contradicts the training data (base dataset {base.get('dataset', '')!s}), which "
            f"labels this question {base.get('fine')}; approving it overrides that label."
        )
    bulk = flags.get("bulk_client")
    if bulk:
        sentences.append(
            f"Sent by a client with {bulk.get('count')} corrections within an hour "
            f"(more than {bulk.get('per_hour')}); check it is not a bulk edit."
        )
    return sentences
