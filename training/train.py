"""Training of the coarse and fine models, with or without model selection."""

from __future__ import annotations

import platform
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy
import sklearn
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

import training.embeddings  # noqa: F401  (registers the optional 'embeddings' feature set)
from training.estimators import (
    LinearHead,
    explainer_weights,
    linear_head,
    temperature_scaled,
)
from training.evaluate import evaluate, merge_fold_metrics
from training.features import build_features
from training.predictor import QuestionClassifier
from training.progress import Steps
from training.select import SELECTION_FOLDS, Fold, build_fold_cache, select_model

# Defaults used by quick mode; chosen by the model selection on the UIUC training set.
QUICK_FAMILY = "linear_svc"
# Fine C=2.0 beat 0.6 and 1.0 by 5-fold CV once the lexicon cues were added.
QUICK_PARAMS = {"coarse": {"C": 1.0}, "fine": {"C": 2.0}}
CALIBRATION_FOLDS = 3
# Chosen by 5-fold CV on the UIUC set: 0.7 beat 0, 0.3, 0.5 and 1.0 on coarse and fine.
COARSE_BLEND = 0.7
QUICK_HOLDOUT_FOLDS = 5  # quick mode measures on one fold in five
MIN_ROWS_FOR_METRICS = 50
# Seconds each step of train_model took on the tutorial dataset (5,380 rows, 2 cores): the
# progress bar's shares until a previous run of the same kind has measured its own.
FULL_STEP_SECONDS = {
    "fold features": 8.0, "select coarse": 28.0, "select fine": 45.0,
    "estimate": 5.0, "final fit": 4.0,
}
QUICK_STEP_SECONDS = {"estimate": 2.0, "final fit": 4.0}


def default_step_seconds(quick: bool) -> dict[str, float]:
    """The expected durations of train_model's steps when nothing better is known."""
    return dict(QUICK_STEP_SECONDS if quick else FULL_STEP_SECONDS)


@dataclass
class TrainResult:
    """A fitted classifier with the choices made, held-out metrics and timings."""

    classifier: QuestionClassifier
    params: dict
    metrics: dict
    timings: dict = field(default_factory=dict)


def library_versions() -> dict[str, str]:
    """Versions recorded with every model; scikit-learn must match when loading."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def _repeat_rare_classes(
    matrix: object, labels: np.ndarray, minimum: int
) -> tuple[object, np.ndarray]:
    """Repeat rows of classes seen fewer than `minimum` times so calibration folds hold them."""
    classes, counts = np.unique(labels, return_counts=True)
    extra = []
    for label, count in zip(classes, counts, strict=True):
        if count < minimum:
            rows = np.flatnonzero(labels == label)
            extra.append(np.resize(rows, minimum - count))
    if not extra:
        return matrix, labels
    index = np.concatenate([np.arange(len(labels)), *extra])
    return matrix[index], labels[index]


def fit_probabilistic(
    estimator: object, matrix: object, labels: np.ndarray, seed: int,
    temperature: float | None = None,
) -> object:
    """Fit a classifier that yields probabilities; margin classifiers get temperature scaling
    (calibrated on cross-validation folds unless a known ``temperature`` is given)."""
    if hasattr(estimator, "predict_proba") and not isinstance(estimator, LinearSVC):
        return clone(estimator).fit(matrix, labels)
    if temperature is not None and isinstance(estimator, LinearSVC):
        fitted = clone(estimator).fit(matrix, labels)
        calibrated = temperature_scaled(fitted, temperature, matrix.shape[1])
        if calibrated is not None:
            return calibrated
    matrix, labels = _repeat_rare_classes(matrix, labels, CALIBRATION_FOLDS)
    calibrated = CalibratedClassifierCV(
        clone(estimator),
        method="temperature",
        cv=StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed),
        ensemble=False,
    )
    return calibrated.fit(matrix, labels)


def fit_classifier(
    texts: list[str],
    coarse: np.ndarray,
    fine: np.ndarray,
    features: str,
    estimators: tuple[object, object],
    seed: int,
    fitted: tuple[object, object] | None = None,
    temperatures: tuple[float | None, float | None] = (None, None),
) -> QuestionClassifier:
    """Fit features (unless given fitted with their matrix) and both calibrated models."""
    if fitted is None:
        extractor = build_features(features)
        matrix = extractor.fit_transform(texts)
    else:
        extractor, matrix = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coarse_model = fit_probabilistic(estimators[0], matrix, coarse, seed, temperatures[0])
        fine_model = fit_probabilistic(estimators[1], matrix, fine, seed, temperatures[1])
    explainers = tuple(
        _explainer(model, matrix, labels)
        for model, labels in ((coarse_model, coarse), (fine_model, fine))
    )
    return QuestionClassifier(
        extractor, coarse_model, fine_model, feature_set=features, coarse_blend=COARSE_BLEND,
        explainers=explainers,
    )


def fitted_temperatures(classifier: QuestionClassifier, rows: int) -> dict | None:
    """The temperatures the calibration found, for refits to reuse (None if not scaled)."""
    heads = [linear_head(model) for model in (classifier.coarse_model, classifier.fine_model)]
    if any(head is None for head in heads):
        return None
    return {"coarse": heads[0].beta, "fine": heads[1].beta, "rows": rows}


def _explainer(model: object, matrix: object, labels: np.ndarray) -> LinearHead:
    """Per-class word weights: the model's own when linear, else a LinearSVC fitted for it."""
    head = explainer_weights(model)
    if head is None:
        head = linear_head(LinearSVC(C=1.0).fit(matrix, labels))
    return head


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
