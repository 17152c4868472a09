"""What a waiting standby does before a run is asked for, so that a refit spends its time on the
fit itself.

A lexical refit keeps the active version's fitted features (``training.refit``), so the features
of every question it will read (the merged training set, the held-out split, the stored
questions of the flip report) are fixed before the run: the standby finds them with the active
version's extractor and keeps them (``training.feature_rows``), together with the model itself
(``flips.keep_version_model``), and puts the active version's labels of the held-out and stored
questions into its label cache. The run then finds only what is new since: the features of new
corrections and new stored questions.

Nothing here is needed for a run to be right: without it the run finds the same rows itself.
"""

from __future__ import annotations

import logging

from flask import current_app

from training.feature_rows import rows_of
from training.refit import KEPT_FEATURE_SETS, reusable_features

from ...extensions import db
from ..data.datasets import active_dataset
from ..data.merge import merged_training_set
from .flips import keep_version_model, served_labeller, stored_questions
from .gate import plan_run
from .versions import active_version

log = logging.getLogger(__name__)

# The newest distinct stored questions whose features are found ahead (about 2.5 KB each); a
# run finds the others' itself.
PREPARED_STORED_QUESTIONS = 10_000


def prepare_refit() -> str | None:
    """Find ahead what the next refit reads; a line saying what was found, or None when the
    next run would not be a refit keeping the active version's features."""
    active, dataset = active_version(), active_dataset()
    if active is None or dataset is None:
        return None
    plan = plan_run({}, active, dataset)
    if plan.kind != "refit" or plan.features not in KEPT_FEATURE_SETS:
        return None
    merged = merged_training_set(dataset)
    db.session.commit()  # no snapshot or lock held while the features are found
    extractor = reusable_features(plan.reuse, len(merged.train), lambda: keep_version_model(active))
    if extractor is None:
        return None
    limit = min(int(current_app.config["FLIP_QUERY_LIMIT"]), PREPARED_STORED_QUESTIONS)
    _, stored = stored_questions(limit)
    held_out = list(merged.held_out["text"])
    found = rows_of(extractor).add(list(merged.train["text"]) + held_out + stored)
    _, labels = served_labeller(active)
    labels.labels(held_out + stored)
    labels.save()
    return (
        f"ready for a refit of version {active.version}: the features of {found:,} questions "
        f"found, {labels.added:,} labels of the active version added to its cache"
    )


def prepare_quietly() -> None:
    """``prepare_refit``, logged; a failure only means the run finds the rows itself."""
    try:
        prepared = prepare_refit()
    except Exception:  # noqa: BLE001  (an optimisation: the run does the same work without it)
        db.session.rollback()
        log.exception("preparing the next refit failed; the run will find the features itself")
        return
    if prepared:
        log.info("%s", prepared)
