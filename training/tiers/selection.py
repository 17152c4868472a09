"""Model selection: compare classifier families by cross-validation, then tune the winner."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed, parallel_config
from scipy import sparse
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from training.question_features.extractors import build_features
from training.runtime.estimators import LinearKernelSVC

SELECTION_FOLDS = 3
# Families within this accuracy of the best count as tied; ties go to the family that is
# cheapest to serve (a kernel SVC keeps every training row and predicts ~10x slower).
TIE_TOLERANCE = 0.005
THREADED_FEATURE_SETS = frozenset({"embeddings"})
SERVING_PREFERENCE = ("linear_svc", "logistic_regression", "svc", "random_forest", "decision_tree")


@dataclass
class Fold:
    """One cross-validation split with the feature matrices already computed."""

    train_index: np.ndarray
    test_index: np.ndarray
    train_matrix: sparse.csr_matrix
    test_matrix: sparse.csr_matrix
    extractor: object = None


def stratified_splits(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """Stratified shuffled splits; rare classes only trigger a silenced warning."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(len(labels)), labels))


def build_fold_cache(
    texts: Sequence[str], labels: np.ndarray, features: str, folds: int, seed: int,
    limit: int | None = None,
) -> list[Fold]:
    """Fit the feature extractor once per fold so every candidate reuses the matrices."""
    texts = np.asarray(texts, dtype=object)
    cache = []
    for train_index, test_index in stratified_splits(labels, folds, seed)[:limit]:
        extractor = build_features(features)
        train_matrix = sparse.csr_matrix(extractor.fit_transform(texts[train_index]))
        test_matrix = sparse.csr_matrix(extractor.transform(texts[test_index]))
        cache.append(Fold(train_index, test_index, train_matrix, test_matrix, extractor))
    return cache


def candidate_estimators(seed: int) -> dict[str, object]:
    """The classifier families compared, with settings cheap enough for sparse text."""
    return {
        "linear_svc": LinearSVC(C=1.0),
        "logistic_regression": LogisticRegression(C=20.0, max_iter=30, tol=1e-3),
        "svc": LinearKernelSVC(C=1.0),
        "decision_tree": DecisionTreeClassifier(random_state=seed, min_samples_leaf=1),
        "random_forest": RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1),
    }


# The main hyper-parameter(s) of each family, searched around the cheap defaults above.
PARAMETER_GRIDS: dict[str, dict[str, list]] = {
    "linear_svc": {"C": [0.3, 0.6, 1.0, 2.0]},
    "logistic_regression": {"C": [5.0, 20.0, 50.0]},
    "svc": {"C": [0.5, 1.0, 2.0]},
    "decision_tree": {"min_samples_leaf": [1, 2, 4]},
    "random_forest": {"max_features": ["sqrt", "log2"]},
}


def _fold_accuracy(estimator: object, fold: Fold, labels: np.ndarray) -> float:
    """Accuracy of a fresh copy of the estimator on one cached fold."""
    model = clone(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(fold.train_matrix, labels[fold.train_index])
    return float(np.mean(model.predict(fold.test_matrix) == labels[fold.test_index]))


def compare_candidates(
    cache: list[Fold],
    labels: np.ndarray,
    candidates: dict[str, object],
    n_jobs: int = 2,
) -> dict[str, float]:
    """Mean cross-validated accuracy of every candidate on the cached folds."""
    jobs = [(name, fold) for name in candidates for fold in cache]
    # Threads: liblinear, libsvm and the tree builders release the GIL, and threads avoid
    # copying the fold matrices into worker processes.
    scores = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_fold_accuracy)(candidates[name], fold, labels) for name, fold in jobs
    )
    by_name: dict[str, list[float]] = {name: [] for name in candidates}
    for (name, _), score in zip(jobs, scores, strict=True):
        by_name[name].append(score)
    return {name: float(np.mean(values)) for name, values in by_name.items()}


def tune(
    texts: Sequence[str],
    labels: np.ndarray,
    name: str,
    estimator: object,
    features: str,
    seed: int,
    n_jobs: int = 2,
) -> tuple[dict, float]:
    """GridSearchCV of the estimator's main hyper-parameters, features refit per fold."""
    pipeline = Pipeline([("features", build_features(features)), ("model", clone(estimator))])
    grid = {f"model__{key}": values for key, values in PARAMETER_GRIDS[name].items()}
    splits = stratified_splits(labels, SELECTION_FOLDS, seed)
    search = GridSearchCV(pipeline, grid, cv=splits, n_jobs=n_jobs, refit=False)
    # Sentence embeddings are memoised per process; threads share that memo where worker
    # processes would each load the encoder and embed every question again.
    backend = "threading" if features in THREADED_FEATURE_SETS else "loky"
    with warnings.catch_warnings(), parallel_config(backend=backend):
        warnings.simplefilter("ignore")
        search.fit(np.asarray(texts, dtype=object), labels)
    best = {key.removeprefix("model__"): value for key, value in search.best_params_.items()}
    return best, float(search.best_score_)


def select_model(
    texts: Sequence[str],
    labels: np.ndarray,
    cache: list[Fold],
    features: str,
    seed: int,
    report: Callable[[str], None] = lambda message: None,
) -> dict:
    """Compare the families, tune the best one; returns name, params and scores."""
    candidates = candidate_estimators(seed)
    scores = compare_candidates(cache, labels, candidates)
    best = max(scores.values())
    tied = [name for name in SERVING_PREFERENCE if scores.get(name, -1.0) >= best - TIE_TOLERANCE]
    winner = tied[0] if tied else max(scores, key=scores.get)
    report(f"best family {winner}, cross-validated accuracy {scores[winner]:.1%}")
    best_params, best_score = tune(texts, labels, winner, candidates[winner], features, seed)
    estimator = clone(candidates[winner]).set_params(**best_params)
    return {
        "family": winner,
        "params": best_params,
        "estimator": estimator,
        "candidate_scores": scores,
        "tuned_score": best_score,
    }
