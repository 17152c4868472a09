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


def _base() -> tuple[NeighbourIndex, dict[str, int]]:
    """The index of the active dataset's questions, and each normalised question's row."""
    dataset = active_dataset()
    rows: dict[str, int] = {}
    texts, labels = [], []
    for text, normalized, fine in db.session.execute(
        select(Example.text, Example.normalized, Example.fine)
        .where(Example.dataset_id == dataset.id)
        .order_by(Example.id)
    ):
        if normalized in rows:
            continue
        rows[normalized] = len(texts)
        texts.append(untokenise(text))
        labels.append(fine)
    return NeighbourIndex(texts, labels), rows


def _with_corrections(base: NeighbourIndex, rows: dict[str, int]) -> NeighbourIndex:
    """The base index as the merged set labels it: approved corrections replace the base
    label of their question, or add their question."""
    relabelled: dict[int, str] = {}
    added: dict[str, tuple[str, str]] = {}
    for _id, _kind, text, normalized, _coarse, fine in approved_corrections():
        if normalized in rows:
            relabelled[rows[normalized]] = fine
        else:
            added[normalized] = (text, fine)
    return base.extended(
        relabelled, [text for text, _ in added.values()], [fine for _, fine in added.values()]
    )


def training_neighbours() -> NeighbourIndex | None:
    """The index of the merged training questions, brought up to date when their labels change.

    The dataset's own questions are indexed once per state of their labels; each approved
    correction since only relabels or adds a row (``NeighbourIndex.extended``), so a reviewer's
    decision does not refit the whole index before the next card (0.3 to 1 s on the tutorial
    dataset)."""
    state = _state()
    if state is None:
        return None
    cache = current_app.extensions.setdefault("qc_neighbours", {})
    with _LOCK:
        if cache.get("state") != state:
            base_state = state[:-2]  # the dataset's labels, without the corrections' count/time
            if cache.get("base_state") != base_state:
                cache["base"] = _base()
                cache["base_state"] = base_state
            cache["index"] = _with_corrections(*cache["base"])
            cache["state"] = state
        return cache["index"]
