"""Training of the coarse and fine models, with or without model selection."""

from __future__ import annotations

import time

import pandas as pd
from sklearn.svm import LinearSVC

import training.tiers.embeddings  # noqa: F401  (registers the optional 'embeddings' feature set)
from training.quality.evaluate import evaluate, merge_fold_metrics
from training.question_features.extractors import build_features
from training.runtime.finetuned_classifier import FEATURE_SET as FINETUNE
from training.tiers.finetuned import FINETUNE_STEP_SECONDS, train_finetuned
from training.tiers.fitting import (
    COARSE_BLEND,
    TrainResult,
    fit_classifier,
    fitted_temperatures,
    library_versions,
)
from training.tiers.progress import Steps
from training.tiers.selection import SELECTION_FOLDS, Fold, build_fold_cache, select_model

# Defaults used by quick mode; chosen by the model selection on the UIUC training set.
QUICK_FAMILY = "linear_svc"
# Fine C=2.0 beat 0.6 and 1.0 by 5-fold CV once the lexicon cues were added.
QUICK_PARAMS = {"coarse": {"C": 1.0}, "fine": {"C": 2.0}}
QUICK_HOLDOUT_FOLDS = 5  # quick mode measures on one fold in five
MIN_ROWS_FOR_METRICS = 50
# Seconds each step of train_model took on the tutorial dataset (5,380 rows, 2 cores): the
# progress bar's shares until a previous run of the same kind has measured its own.
FULL_STEP_SECONDS = {
    "fold features": 8.0, "select coarse": 28.0, "select fine": 45.0,
    "estimate": 5.0, "final fit": 4.0,
}
QUICK_STEP_SECONDS = {"estimate": 2.0, "final fit": 4.0}


def default_step_seconds(quick: bool, features: str = "default") -> dict[str, float]:
    """The expected durations of train_model's steps when nothing better is known."""
    if features == FINETUNE:
        return dict(FINETUNE_STEP_SECONDS)
    return dict(QUICK_STEP_SECONDS if quick else FULL_STEP_SECONDS)


def _out_of_fold_metrics(
    frame: pd.DataFrame, cache: list[Fold], features: str, estimators: tuple, seed: int
) -> dict:
    """Metrics of the chosen configuration on every cached fold (features fitted per fold)."""
    results = []
    for fold in cache:
        train = frame.iloc[fold.train_index]
        classifier = fit_classifier(
            list(train["text"]), train["coarse"].to_numpy(), train["fine"].to_numpy(),
            features, estimators, seed, fitted=(fold.extractor, fold.train_matrix),
        )
        results.append(evaluate(classifier, frame.iloc[fold.test_index]))
    return merge_fold_metrics(results)


def _check_frame(frame: pd.DataFrame) -> None:
    """Refuse frames without the expected columns or with too few classes."""
    missing = {"text", "coarse", "fine"} - set(frame.columns)
    if missing:
        raise ValueError(f"training frame lacks columns: {sorted(missing)}")
    if frame["coarse"].nunique() < 2 or frame["fine"].nunique() < 2:
        raise ValueError("training needs at least two coarse and two fine classes")


def train_model(
    frame: pd.DataFrame,
    *,
    quick: bool = False,
    features: str = "default",
    seed: int = 0,
    progress: Steps | None = None,
    with_metrics: bool = True,
) -> TrainResult:
    """Train coarse and fine models (with model selection unless quick) on a labelled frame.

    ``progress`` receives one step per stage ("fold features", "select coarse", "select fine",
    "estimate", "final fit"); their measured durations are returned in ``timings``.
    """
    _check_frame(frame)
    build_features(features)  # fail early on an unknown feature set
    if features == FINETUNE:
        # One fine-tuning run, early-stopped and calibrated on its own validation rows.
        return train_finetuned(frame, seed=seed, quick=quick, progress=progress)
    steps = progress or Steps(default_step_seconds(quick))
    frame = frame.reset_index(drop=True)
    texts = list(frame["text"])
    coarse, fine = frame["coarse"].to_numpy(), frame["fine"].to_numpy()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    params: dict = {"feature_set": features, "seed": seed, "quick": quick, "rows": len(frame)}
    metrics: dict = {}
    cache: list[Fold] = []
    measurable = with_metrics and len(frame) >= MIN_ROWS_FOR_METRICS

    if quick:
        estimators = (LinearSVC(**QUICK_PARAMS["coarse"]), LinearSVC(**QUICK_PARAMS["fine"]))
        params["coarse_model"] = {"family": QUICK_FAMILY, "params": QUICK_PARAMS["coarse"]}
        params["fine_model"] = {"family": QUICK_FAMILY, "params": QUICK_PARAMS["fine"]}
    else:
        steps.start("fold features", "computing cross-validation features")
        cache = build_fold_cache(texts, fine, features, SELECTION_FOLDS, seed)
        timings["fold_features"] = time.perf_counter() - started
        chosen = []
        for task, labels in (("coarse", coarse), ("fine", fine)):
            steps.start(f"select {task}", f"selecting the {task} model")
            step = time.perf_counter()
            selection = select_model(
                texts, labels, cache, features, seed,
                report=lambda message, task=task: steps.note(f"{task}: {message}"),
            )
            timings[f"select_{task}"] = time.perf_counter() - step
            settings = ", ".join(f"{key}={value}" for key, value in selection["params"].items())
            steps.note(
                f"{task}: {selection['family']} ({settings or 'defaults'}), "
                f"cross-validated accuracy {selection['tuned_score']:.1%}"
            )
            chosen.append(selection["estimator"])
            params[f"{task}_model"] = {
                "family": selection["family"],
                "params": selection["params"],
                "candidate_cv_accuracy": selection["candidate_scores"],
                "tuned_cv_accuracy": selection["tuned_score"],
            }
        estimators = tuple(chosen)

    if measurable:
        steps.start("estimate", "estimating accuracy on one held-out fold")
        step = time.perf_counter()
        if not cache:
            cache = build_fold_cache(texts, fine, features, QUICK_HOLDOUT_FOLDS, seed, limit=1)
        # One held-out fold keeps full training within its time budget.
        metrics = _out_of_fold_metrics(frame, cache[:1], features, estimators, seed)
        held_out = len(cache[0].test_index) / len(frame)
        metrics["method"] = f"held-out split ({held_out:.0%} of rows)"
        timings["metrics"] = time.perf_counter() - step

    steps.start("final fit", f"fitting the final models on {len(frame):,} questions")
    step = time.perf_counter()
    classifier = fit_classifier(texts, coarse, fine, features, estimators, seed)
    timings["final_fit"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    params["calibration"] = "temperature (CalibratedClassifierCV)"
    params["temperatures"] = fitted_temperatures(classifier, len(frame))
    params["coarse_blend"] = COARSE_BLEND
    params["versions"] = library_versions()
    if progress is None:
        steps.finish()
    return TrainResult(classifier=classifier, params=params, metrics=metrics, timings=timings)
