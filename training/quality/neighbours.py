"""The labelled questions nearest to new ones, by the near-duplicate finder's similarity.

Used twice by the review inbox: the share of a question's nearest training questions that carry
another label than the model gave it (the model disagreeing with its own training data, a
second opinion beside its margin), and the nearest training questions of a class, shown to a
reviewer as examples of what that class holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from training.question_features.extractors import char_tfidf

NEIGHBOURS = 5


@dataclass(frozen=True)
class Neighbour:
    """One labelled question near a new one."""

    text: str
    fine: str
    similarity: float


def _top(row: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, largest first (ties by index)."""
    if len(row) > k:
        candidates = np.argpartition(-row, k - 1)[:k]
        return candidates[np.lexsort((candidates, -row[candidates]))]
    return np.argsort(-row, kind="stable")[:k]


class NeighbourIndex:
    """Character n-gram TF-IDF vectors of labelled questions, searched by cosine similarity."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.texts = list(texts)
        self.labels = np.asarray(labels, dtype=object)
        self.vectorizer = char_tfidf()
        self.vectorizer.min_df = 1
        self.matrix = self.vectorizer.fit_transform(self.texts).tocsr() if self.texts else None

    def extended(
        self, relabelled: dict[int, str], texts: Sequence[str], labels: Sequence[str]
    ) -> NeighbourIndex:
        """A copy with the questions at some rows relabelled and other questions added,
        vectorised with this index's vocabulary and weights: no refit, which a few reviewed
        questions would barely move, and a tenth of the time."""
        if self.matrix is None:
            return NeighbourIndex(self.texts + list(texts), [*self.labels, *labels])
        index = object.__new__(NeighbourIndex)
        index.vectorizer = self.vectorizer
        index.texts = self.texts + list(texts)
        patched = self.labels.copy()
        for row, label in relabelled.items():
            patched[row] = label
        index.labels = np.concatenate([patched, np.asarray(labels, dtype=object)])
        index.matrix = (
            sparse.vstack([self.matrix, self.vectorizer.transform(list(texts))]).tocsr()
            if len(texts)
            else self.matrix
        )
        return index

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each text (rows) to each labelled question (columns)."""
        if self.matrix is None or not len(texts):
            return np.zeros((len(texts), len(self.texts)))
        return (self.vectorizer.transform(list(texts)) @ self.matrix.T).toarray()

    def nearest(self, texts: Sequence[str], k: int = NEIGHBOURS) -> list[list[Neighbour]]:
        """The ``k`` most similar labelled questions of each text, most similar first."""
        similarity = self.similarities(texts)
        found = []
        for row in similarity:
            order = _top(row, k)
            found.append(
                [Neighbour(self.texts[i], str(self.labels[i]), float(row[i])) for i in order]
            )
        return found

    def disagreement(self, texts: Sequence[str], labels: Sequence[str]) -> list[float]:
        """For each text, the similarity-weighted share of its neighbours labelled otherwise."""
        shares = []
        for neighbours, label in zip(self.nearest(texts), labels, strict=True):
            total = sum(n.similarity for n in neighbours)
            if total <= 0:
                shares.append(0.5)  # nothing alike: no opinion either way
                continue
            other = sum(n.similarity for n in neighbours if n.fine != label)
            shares.append(other / total)
        return shares

    def nearest_of_classes(
        self, text: str, labels: Sequence[str], k: int = 3
    ) -> dict[str, list[Neighbour]]:
        """For each label, the ``k`` labelled questions of that class most similar to ``text``."""
        similarity = self.similarities([text])[0]
        found = {}
        for label in labels:
            members = np.flatnonzero(self.labels == label)
            order = members[_top(similarity[members], k)] if len(members) else members
            found[label] = [Neighbour(self.texts[i], label, float(similarity[i])) for i in order]
        return found
