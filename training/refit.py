"""Refit a model with choices already made, e.g. on more rows after it was evaluated."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from sklearn.base import clone

from .finetune_tier import refit_finetuned
from .finetuned import FEATURE_SET as FINETUNE
from .fitting import TrainResult, fit_classifier, fitted_temperatures, library_versions
from .progress import Steps
from .select import candidate_estimators

REFIT_STEP_SECONDS = {"final fit": 2.0}
# A refit reuses the last calibration's temperatures until the rows grow by more than this.
RECALIBRATE_GROWTH = 0.10


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


def refit_model(
    frame: pd.DataFrame, params: dict, progress: Steps | None = None,
    warm_start: Callable[[], object] | None = None,
) -> TrainResult:
    """Fit the recorded model choices on ``frame`` without searching again.

    A fine-tuned version continues from the weights of ``warm_start()`` (the active model).
    """
    if params.get("feature_set") == FINETUNE:
        return refit_finetuned(frame, params, progress, warm_start)
    started = time.perf_counter()
    frame = frame.reset_index(drop=True)
    if progress is not None:
        progress.start("final fit", f"fitting the models on {len(frame):,} questions")
    temperatures = reusable_temperatures(params, len(frame))
    classifier = fit_classifier(
        list(frame["text"]),
        frame["coarse"].to_numpy(),
        frame["fine"].to_numpy(),
        params.get("feature_set", "default"),
        estimators_from_params(params),
        params.get("seed", 0),
        temperatures=temperatures,
    )
    refit_params = {**params, "rows": len(frame), "versions": library_versions()}
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
