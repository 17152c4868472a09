"""Fitting the lexical coarse and fine models once the choices are made (shared by every tier)."""

from __future__ import annotations

import platform
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

from training.question_features.extractors import build_features
from training.runtime.estimators import (
    LinearHead,
    explainer_weights,
    linear_head,
    temperature_scaled,
)
from training.runtime.predictor import QuestionClassifier

CALIBRATION_FOLDS = 3
# Chosen by 5-fold CV on the UIUC set: 0.7 beat 0, 0.3, 0.5 and 1.0 on coarse and fine.
COARSE_BLEND = 0.7


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
