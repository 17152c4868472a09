"""Help for choosing a label: each class's definition and its most typical training questions.

The typical questions are computed once per state of the active dataset and kept in the app,
so serving them costs one small query (the dataset's size and last change) per request.
"""

from __future__ import annotations

import logging
import threading

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from training import taxonomy, typical_questions, untokenise

from ...extensions import db
from ...models import Example
from ..data.datasets import active_dataset

_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def dataset_state() -> tuple | None:
    """What identifies the active dataset's current labels; None without an active dataset."""
    dataset = active_dataset()
    if dataset is None:
        return None
    count, changed = db.session.execute(
        select(func.count(), func.max(Example.updated_at)).where(Example.dataset_id == dataset.id)
    ).one()
    return (dataset.id, dataset.fingerprint, count, str(changed))


def _compute() -> dict[str, list[str]]:
    dataset = active_dataset()
    rows = db.session.execute(
        select(Example.text, Example.coarse, Example.fine)
        .where(Example.dataset_id == dataset.id)
        .order_by(Example.id)
    ).all()
    # Shown to people: UIUC's tokenised spelling ("What 's") reads better undone.
    texts = [untokenise(text) for text, _, _ in rows]
    typical = typical_questions(texts, [fine for _, _, fine in rows])
    typical.update(typical_questions(texts, [coarse for _, coarse, _ in rows]))
    return typical


def typical_questions_by_label() -> dict[str, list[str]]:
    """Typical questions of every coarse and fine label in the active dataset, cached."""
    state = dataset_state()
    if state is None:
        return {}
    cache = current_app.extensions.setdefault("qc_label_help", {})
    with _LOCK:
        if cache.get("state") != state:
            cache["examples"] = _compute()
            cache["state"] = state
        return cache["examples"]


def labels_with_help() -> list[dict]:
    """The taxonomy as plain data, each class with its definition and typical questions."""
    try:
        typical = typical_questions_by_label()
    except SQLAlchemyError as error:
        # The taxonomy never needed the database; without it, it is served without examples.
        db.session.rollback()
        log.warning("typical questions unavailable: %s", error.__class__.__name__)
        typical = {}
    labels = taxonomy.as_dict()
    for coarse in labels:
        coarse["examples"] = typical.get(coarse["label"], [])
        for fine in coarse["fine"]:
            fine["examples"] = typical.get(fine["label"], [])
    return labels
