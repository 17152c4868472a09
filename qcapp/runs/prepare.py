"""What a waiting standby does before a run is asked for, so that a refit spends its time on the
fit itself.

A lexical refit keeps the active version's fitted features (``training.refit``), so the features
of every question it will read (the merged training set, the held-out split, the stored
questions of the flip report) are fixed before the run: the standby finds them with the active
version's extractor and keeps them (``training.feature_rows``), together with the model itself
(``learning.flips.keep_version_model``), and puts the active version's labels of the held-out
and stored questions into its label cache. The run then finds only what is new since: the
features of new corrections and new stored questions.

While it waits, the standby prepares again when another version becomes active (activated by
hand, by ``qc train``, by a run in another process), and stops doing so as soon as a worker
hands it a run (``stop``).

Nothing here is needed for a run to be right: without it the run finds the same rows itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from training import feature_rows_of as rows_of
from training import reusable_features

from ..database import read_only_connection
from ..extensions import db
from ..models import ModelVersion
from ..services.data.datasets import active_dataset
from ..services.data.merge import merged_training_set
from ..services.learning.flips import keep_version_model, served_labeller, stored_questions
from ..services.learning.plan import plan_run
from ..services.learning.settings import RunSettings
from ..services.learning.versions import active_version

log = logging.getLogger(__name__)

# The newest distinct stored questions whose features are found ahead (about 2.5 KB each); a
# run finds the others' itself.
PREPARED_STORED_QUESTIONS = 10_000
# Questions whose features are found between two looks at ``stop``.
PREPARE_BATCH = 500
# How often a waiting standby looks for another active version.
ACTIVE_CHECK_SECONDS = 5.0


class Interrupted(Exception):
    """``stop()`` asked the preparation to give way (a run was handed over)."""


def prepare_refit(stop: Callable[[], bool] = lambda: False) -> str | None:
    """Find ahead what the next refit reads; a line saying what was found, or None when the
    next run would not be a refit keeping the active version's features. Interrupted when
    ``stop()`` says so between batches of questions."""
    active, dataset = active_version(), active_dataset()
    if active is None or dataset is None:
        return None
    plan = plan_run(RunSettings(), active, dataset)
    if not plan.single_threaded:
        return None
    merged = merged_training_set(dataset)
    db.session.commit()  # no snapshot or lock held while the features are found
    extractor = reusable_features(plan.reuse, len(merged.train), lambda: keep_version_model(active))
    if extractor is None:
        return None
    limit = min(int(current_app.config["FLIP_QUERY_LIMIT"]), PREPARED_STORED_QUESTIONS)
    _, stored = stored_questions(limit)
    held_out = list(merged.held_out["text"])
    texts = list(merged.train["text"]) + held_out + stored
    rows, found = rows_of(extractor), 0
    for start in range(0, len(texts), PREPARE_BATCH):
        if stop():
            raise Interrupted
        found += rows.add(texts[start:start + PREPARE_BATCH])
    if stop():
        raise Interrupted
    _, labels = served_labeller(active)
    labels.labels(held_out + stored)
    labels.save()
    return (
        f"ready for a refit of version {active.version}: the features of {found:,} questions "
        f"found, {labels.added:,} labels of the active version added to its cache"
    )


def prepare_quietly(stop: Callable[[], bool] = lambda: False) -> bool:
    """``prepare_refit``, logged; a failure only means the run finds the rows itself. False
    when it was interrupted (the preparation is left to be done again), else True."""
    try:
        prepared = prepare_refit(stop)
    except Interrupted:
        log.info("preparing the next refit gave way to a run")
        return False
    except Exception:  # noqa: BLE001  (an optimisation: the run does the same work without it)
        log.exception("preparing the next refit failed; the run will find the features itself")
        return True
    finally:
        db.session.rollback()  # no transaction left open while the standby waits
    if prepared:
        log.info("%s", prepared)
    return True


def active_version_id() -> int | None:
    """The active version's id, read outside any transaction."""
    with read_only_connection() as connection:
        return connection.scalar(select(ModelVersion.id).where(ModelVersion.is_active.is_(True)))


class Preparation:
    """A waiting standby's preparation, kept for the active version: ``refresh`` prepares
    again when another version has become active (looking at most every ``every`` seconds)."""

    def __init__(self, every: float = ACTIVE_CHECK_SECONDS) -> None:
        self.every = every
        self.prepared_for: int | None = None
        self.looked_at: float | None = None

    def refresh(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Prepare for the active version unless done already; ``stop`` interrupts it."""
        now = time.monotonic()
        if self.looked_at is not None and now - self.looked_at < self.every:
            return
        self.looked_at = now
        try:
            active = active_version_id()
        except SQLAlchemyError:  # the database is away for now: look again later
            log.exception("looking for the active version failed")
            return
        if active is None or active == self.prepared_for:
            return
        if prepare_quietly(stop):
            self.prepared_for = active
