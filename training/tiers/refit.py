"""Refit a model with choices already made, e.g. on more rows after it was evaluated."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from sklearn.base import clone

from training.question_features.rows import rows_of
from training.runtime.finetuned_classifier import FEATURE_SET as FINETUNE
from training.tiers.finetuned import refit_finetuned
from training.tiers.fitting import (
    TrainResult,
    fit_classifier,
    fitted_temperatures,
    library_versions,
)
from training.tiers.progress import Steps
from training.tiers.selection import candidate_estimators

REFIT_STEP_SECONDS = {"final fit": 1.0}
# A refit reuses the last calibration's temperatures, and keeps the active version's fitted
# features, until the rows grow by more than this since they were fitted.
RECALIBRATE_GROWTH = 0.10
# Feature sets whose fitted extractor (vocabularies, idf weights, cue names) a refit keeps.
KEPT_FEATURE_SETS = ("default", "tutorial")


def estimators_from_params(params: dict) -> tuple[object, object]:
    """Fresh coarse and fine estimators with the families and settings recorded in ``params``."""
    families = candidate_estimators(params.get("seed", 0))
    chosen = []
    for task in ("coarse", "fine"):
        recorded = params[f"{task}_model"]
        chosen.append(clone(families[recorded["family"]]).set_params(**recorded["params"]))
    return chosen[0], chosen[1]


def reusable_temperatures(params: dict, rows: int) -> tuple[float | None, float | None]:
    """The recorded temperatures, unless the rows grew by more than a tenth since they were
    calibrated (then the refit calibrates again)."""
    recorded = params.get("temperatures") or {}
    calibrated_rows = recorded.get("rows") or 0
    if not calibrated_rows or rows > calibrated_rows * (1 + RECALIBRATE_GROWTH):
        return None, None
    return recorded.get("coarse"), recorded.get("fine")


def features_fitted_rows(params: dict) -> int:
    """How many rows the features of a version with ``params`` were fitted on."""
    return int(params.get("features_rows") or params.get("rows") or 0)


def reusable_features(
    params: dict, rows: int, active: Callable[[], object] | None
) -> object | None:
    """The fitted extractor of ``active()`` (the active model) when a refit keeps it: a lexical
    feature set, and at most a tenth more rows than the features were fitted on. Then a
    question's features do not change between runs, and the rows found once are reused.

    Otherwise None, and the refit fits the features on its rows, as a full run does.
    """
    fitted_rows = features_fitted_rows(params)
    if (
        active is None
        or params.get("feature_set", "default") not in KEPT_FEATURE_SETS
        or not fitted_rows
        or rows > fitted_rows * (1 + RECALIBRATE_GROWTH)
    ):
        return None
    model = active()
    if getattr(model, "feature_set", None) != params.get("feature_set", "default"):
        return None
    return getattr(model, "features", None)


def refit_model(
    frame: pd.DataFrame, params: dict, progress: Steps | None = None,
    warm_start: Callable[[], object] | None = None,
) -> TrainResult:
    """Fit the recorded model choices on ``frame`` without searching again.

    ``warm_start()`` is the active model: a fine-tuned version continues from its weights, a
    lexical one keeps its fitted features while the rows have not grown much
    (``reusable_features``).
    """
    if params.get("feature_set") == FINETUNE:
        return refit_finetuned(frame, params, progress, warm_start)
    started = time.perf_counter()
    frame = frame.reset_index(drop=True)
    texts = list(frame["text"])
    extractor = reusable_features(params, len(frame), warm_start)
    if progress is not None:
        kept = (
            f" (features kept from the active version, fitted on "
            f"{features_fitted_rows(params):,} questions)" if extractor is not None else ""
        )
        progress.start("final fit", f"fitting the models on {len(frame):,} questions{kept}")
    temperatures = reusable_temperatures(params, len(frame))
    classifier = fit_classifier(
        texts,
        frame["coarse"].to_numpy(),
        frame["fine"].to_numpy(),
        params.get("feature_set", "default"),
        estimators_from_params(params),
        params.get("seed", 0),
        fitted=(extractor, rows_of(extractor).matrix(texts)) if extractor is not None else None,
        temperatures=temperatures,
    )
    refit_params = {
        **params,
        "rows": len(frame),
        "features_rows": features_fitted_rows(params) if extractor is not None else len(frame),
        "versions": library_versions(),
    }
    if temperatures == (None, None):
        refit_params["temperatures"] = fitted_temperatures(classifier, len(frame))
        refit_params["calibration"] = "temperature (CalibratedClassifierCV)"
    else:
        refit_params["calibration"] = (
            f"temperature reused from the last calibration "
            f"({params['temperatures']['rows']:,} rows)"
        )
    elapsed = time.perf_counter() - started
    return TrainResult(classifier, refit_params, {}, {"final_fit": elapsed, "total": elapsed})
