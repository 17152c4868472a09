"""What a run measures once it has ended: the new version's cross-validated accuracy on the
user-labelled rows, giving way to a newer run."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import select

from training import FINETUNE_FEATURE_SET as FINETUNE
from training import refit_model

from ...database import read_only_connection
from ...extensions import db
from ...models import ModelVersion, TrainingRun
from ..data.merge import MergedSet
from .gate import LABEL_COLUMNS

MIN_CORRECTIONS_FOR_CV = 10


def can_cross_validate(user_rows: int, params: dict) -> bool:
    """Whether the user-labelled rows are cross-validated for a version with these params.

    A fine-tuned tier would fine-tune the encoder again in every fold: not measured.
    """
    return user_rows >= MIN_CORRECTIONS_FOR_CV and params.get("feature_set") != FINETUNE


def corrections_accuracy(
    merged: MergedSet, params: dict, folds: int = 3, give_way: Callable[[], bool] = lambda: False,
    warm_start: Callable[[], object] | None = None,
) -> dict | None:
    """Cross-validated accuracy on the user-labelled rows: each fold predicted by a model
    trained without it, so the corrections count as held-out data too. None when there are too
    few of them, for a fine-tuned tier, or when ``give_way()`` says to stop before a fold.
    ``warm_start()`` is the version's model, whose fitted features the folds keep as its refit
    did (``refit_model``)."""
    user_rows = merged.user_rows.reset_index(drop=True)
    if not can_cross_validate(len(user_rows), params):
        return None
    base_rows = merged.train[merged.train["source"] == "base"]
    folds = min(folds, len(user_rows))
    correct = {"coarse": 0, "fine": 0}
    for fold in range(folds):
        if give_way():
            return None
        test = user_rows[user_rows.index % folds == fold]
        train = pd.concat([base_rows, user_rows[user_rows.index % folds != fold]])
        model = refit_model(train[LABEL_COLUMNS], params, warm_start=warm_start).classifier
        for predicted, (_text, coarse, fine) in zip(
            model.predict_many(list(test["text"]), explain=False),
            test[LABEL_COLUMNS].itertuples(index=False),
            strict=True,
        ):
            correct["coarse"] += predicted.coarse == coarse
            correct["fine"] += predicted.fine == fine
    n = len(user_rows)
    return {"n": n, "coarse_accuracy": correct["coarse"] / n, "fine_accuracy": correct["fine"] / n}


def cross_validate_corrections(
    version_id: int, merged: MergedSet, params: dict, model: object,
    note: Callable[[str], None],
) -> None:
    """After its run has ended: the version's cross-validated accuracy on the user-labelled rows
    (three more fits), recorded on the version for its details page.

    Outside the run, so a retrain asked for meanwhile is not refused; it gives way to that run,
    stopping before the next fold, since a newer version makes the measure moot.
    """
    note(f"cross-validating the {len(merged.user_rows):,} user-labelled rows")
    scores = corrections_accuracy(
        merged, params, give_way=run_in_progress, warm_start=lambda: model
    )
    if scores is None:
        note("cross-validation of the user-labelled rows stopped: a newer run started")
        return
    version = db.session.get(ModelVersion, version_id)
    version.evaluation = {**(version.evaluation or {}), "corrections_cv": scores}
    db.session.commit()
    note(
        f"user-labelled rows, cross-validated: coarse {scores['coarse_accuracy']:.1%}, "
        f"fine {scores['fine_accuracy']:.1%}"
    )


def run_in_progress() -> bool:
    """Whether a training run is queued or running now (read afresh, in no transaction)."""
    with read_only_connection() as connection:
        found = connection.scalar(
            select(TrainingRun.id).where(TrainingRun.in_progress.is_(True)).limit(1)
        )
    return found is not None
