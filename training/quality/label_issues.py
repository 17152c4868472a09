"""Find training labels that look wrong: confident learning on out-of-fold scores, near-duplicates.

Doubtful labels. Every row is scored by a model that never saw it: the rows are split into
stratified folds, and for each fold the default feature pipeline and a LinearSVC (the quick
model's family) are fitted on the other folds. The out-of-fold scores become probabilities
through one temperature fitted on all of them (temperature scaling, as the served models are
calibrated). Then, in the spirit of confident learning (Northcutt et al., 2021):

* a row's *self-confidence* is the probability of its given label;
* each class's *threshold* is the mean self-confidence of the rows labelled with it;
* a row is flagged when some other class reaches its own threshold and, among the classes that
  do, the most probable one is not the given label; that class is the suggested label;
* flagged rows are ranked by the margin p(suggested) - p(given), largest first.

Near-duplicates. Questions whose character n-gram TF-IDF vectors have a cosine similarity of
at least 0.9 (identical normalised text gives 1.0) but whose fine labels differ.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.svm import LinearSVC

from training.question_features.extractors import build_features, char_tfidf
from training.tiers.selection import stratified_splits

DEFAULT_FOLDS = 5
DUPLICATE_SIMILARITY = 0.9
# The fine model's C in quick mode (training.tiers.train.QUICK_PARAMS).
SVC_C = 2.0
# Scores of classes a fold never saw: low enough that softmax gives them nothing.
_UNSEEN = -1e6
_CHUNK = 512


@dataclass(frozen=True)
class DoubtfulLabel:
    """A row whose given label the out-of-fold model doubts."""

    index: int
    given: str
    suggested: str
    self_confidence: float
    suggested_probability: float

    @property
    def margin(self) -> float:
        """How much more probable the suggested label is than the given one."""
        return self.suggested_probability - self.self_confidence


@dataclass(frozen=True)
class NearDuplicate:
    """Two rows with (almost) the same question and different labels; ``first < second``."""

    first: int
    second: int
    similarity: float


def out_of_fold_scores(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    features: str = "default",
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes and each row's decision scores from a model fitted without its fold."""
    texts = np.asarray(texts, dtype=object)
    labels = np.asarray(labels, dtype=object)
    classes = np.unique(labels)
    scores = np.full((len(labels), len(classes)), _UNSEEN)
    for train_index, test_index in stratified_splits(labels, folds, seed):
        extractor = build_features(features)
        train_matrix = extractor.fit_transform(texts[train_index])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LinearSVC(C=SVC_C).fit(train_matrix, labels[train_index])
        decision = model.decision_function(extractor.transform(texts[test_index]))
        if decision.ndim == 1:  # two classes: one score for the second
            decision = np.column_stack([-decision, decision]) / 2
        columns = np.searchsorted(classes, model.classes_)
        scores[np.ix_(test_index, columns)] = decision
    return classes, scores


def calibrated_probabilities(scores: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Softmax of ``beta * scores`` with the beta that minimises the log loss of ``given``."""
    rows = np.arange(len(given))

    def log_loss(beta: float) -> float:
        return -float(np.mean(log_softmax(beta * scores, axis=1)[rows, given]))

    beta = minimize_scalar(log_loss, bounds=(0.01, 100.0), method="bounded").x
    return softmax(beta * scores, axis=1)


def doubtful_labels(
    labels: Sequence[str], classes: np.ndarray, probabilities: np.ndarray
) -> list[DoubtfulLabel]:
    """Rows flagged by the per-class thresholds, largest margin first (see the module doc)."""
    given = np.searchsorted(classes, np.asarray(labels, dtype=object))
    rows = np.arange(len(given))
    self_confidence = probabilities[rows, given]
    thresholds = np.array(
        [
            self_confidence[given == k].mean() if np.any(given == k) else 1.0
            for k in range(len(classes))
        ]
    )
    reaching = probabilities >= thresholds
    assigned = np.where(reaching, probabilities, -1.0).argmax(axis=1)
    flagged = np.flatnonzero(reaching.any(axis=1) & (assigned != given))
    found = [
        DoubtfulLabel(
            index=int(i),
            given=str(classes[given[i]]),
            suggested=str(classes[assigned[i]]),
            self_confidence=float(self_confidence[i]),
            suggested_probability=float(probabilities[i, assigned[i]]),
        )
        for i in flagged
    ]
    return sorted(found, key=lambda item: (-item.margin, item.index))


def find_doubtful_labels(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    features: str = "default",
) -> tuple[list[DoubtfulLabel], np.ndarray]:
    """Doubtful rows, and every row's self-confidence (the probability of its given label)."""
    labels = np.asarray(labels, dtype=object)
    if len(np.unique(labels)) < 2 or len(labels) < folds:
        return [], np.ones(len(labels))
    classes, scores = out_of_fold_scores(texts, labels, folds=folds, seed=seed, features=features)
    given = np.searchsorted(classes, labels)
    probabilities = calibrated_probabilities(scores, given)
    self_confidence = probabilities[np.arange(len(labels)), given]
    return doubtful_labels(labels, classes, probabilities), self_confidence


def near_duplicates(
    texts: Sequence[str], labels: Sequence[str], *, threshold: float = DUPLICATE_SIMILARITY
) -> list[NearDuplicate]:
    """Pairs of rows at least ``threshold`` similar whose labels differ, most similar first."""
    labels = np.asarray(labels, dtype=object)
    if len(labels) < 2:
        return []
    vectorizer = char_tfidf()
    vectorizer.min_df = 1  # a pair of rare spellings is exactly what a duplicate looks like
    matrix = vectorizer.fit_transform(list(texts)).tocsr()
    pairs = []
    # Row blocks keep the similarity matrix from ever being held whole.
    for start in range(0, matrix.shape[0], _CHUNK):
        block = (matrix[start : start + _CHUNK] @ matrix.T).toarray()
        for offset, row in enumerate(block):
            i = start + offset
            for j in np.flatnonzero(row[i + 1 :] >= threshold - 1e-9) + i + 1:
                if labels[i] != labels[j]:
                    pairs.append(NearDuplicate(i, int(j), min(1.0, float(row[j]))))
    return sorted(pairs, key=lambda pair: (-pair.similarity, pair.first, pair.second))


def similar_groups(
    texts: Sequence[str],
    *,
    threshold: float = DUPLICATE_SIMILARITY,
    apart: Sequence[bool] = (),
    vectorizer: object | None = None,
) -> list[list[int]]:
    """Indices of texts joined by chains of ``threshold``-similar pairs, each group in order.

    The similarity is the near-duplicate finder's (character n-gram TF-IDF cosine), with the
    document frequencies of ``vectorizer`` when given (one fitted on a training set); without
    it, term frequencies alone, since document frequencies of a few texts are noise. Texts
    marked in ``apart`` are never joined to another one.
    """
    count = len(texts)
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if count > 1:
        if vectorizer is None:
            vectorizer = char_tfidf()
            vectorizer.min_df = 1
            vectorizer.use_idf = False
            matrix = vectorizer.fit_transform(list(texts)).tocsr()
        else:
            matrix = vectorizer.transform(list(texts)).tocsr()
        separate = np.zeros(count, dtype=bool)
        separate[: len(apart)] = np.asarray(apart, dtype=bool)[:count]
        for start in range(0, count, _CHUNK):
            block = (matrix[start : start + _CHUNK] @ matrix.T).toarray()
            for offset, row in enumerate(block):
                i = start + offset
                if separate[i]:
                    continue
                for j in np.flatnonzero(row[i + 1 :] >= threshold - 1e-9) + i + 1:
                    if not separate[j]:
                        parent[root(int(j))] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda group: group[0])
