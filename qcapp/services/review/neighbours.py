"""The nearest training questions of the active dataset, indexed once per state of its labels."""

from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import func, select

from training import NeighbourIndex, untokenise

from ...extensions import db
from ...models import Correction, CorrectionStatus, Example
from ..data.datasets import active_dataset
from ..data.merge import approved_corrections
from .label_help import dataset_state

_LOCK = threading.Lock()


def _state() -> tuple | None:
    """The active dataset's labels (as label help keys them) and the approved corrections."""
    labels = dataset_state()
    if labels is None:
        return None
    reviewed = db.session.execute(
        select(func.count(), func.max(Correction.reviewed_at)).where(
            Correction.status == CorrectionStatus.APPROVED
        )
    ).one()
    return (*labels, reviewed[0], str(reviewed[1]))


def _build() -> NeighbourIndex:
    dataset = active_dataset()
    labelled: dict[str, tuple[str, str]] = {}
    for text, normalized, fine in db.session.execute(
        select(Example.text, Example.normalized, Example.fine)
        .where(Example.dataset_id == dataset.id)
        .order_by(Example.id)
    ):
        labelled.setdefault(normalized, (untokenise(text), fine))
    # Approved corrections replace the base label of their question, as in the merged set.
    for _id, _kind, text, normalized, _coarse, fine in approved_corrections():
        labelled[normalized] = (text, fine)
    texts = [text for text, _ in labelled.values()]
    return NeighbourIndex(texts, [fine for _, fine in labelled.values()])


def training_neighbours() -> NeighbourIndex | None:
    """The index of the merged training questions, rebuilt when their labels change."""
    state = _state()
    if state is None:
        return None
    cache = current_app.extensions.setdefault("qc_neighbours", {})
    with _LOCK:
        if cache.get("state") != state:
            cache["index"] = _build()
            cache["state"] = state
        return cache["index"]
